// A store that is down when the daemon starts (nothing listens on its address: ECONNREFUSED)
// and comes back later on the same address: the daemon keeps running, retries with growing
// delays, says 503 on /healthz meanwhile, and converges once the store is back.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { HealthReport } from '../../src/service/health.ts';
import { waitFor } from '../helpers/cli.ts';
import { startFaultProxy } from '../helpers/fault-proxy.ts';
import { assertConvergedAfterFaults, daemonThrough, fullReconcile, logLines, setupFaultSync, startLambdaLog, waitConverged } from '../helpers/faults.ts';
import { freePort, startTestStack, type TestStack } from '../helpers/stack.ts';

async function healthz(base: string): Promise<{ status: number; body: HealthReport }> {
  const res = await fetch(`${base}/healthz`);
  return { status: res.status, body: (await res.json()) as HealthReport };
}

describe('a store that is down at start-up', () => {
  let stack: TestStack;
  before(async () => { stack = await startTestStack(); });
  after(async () => stack?.stop());

  for (const store of ['s3', 'dynamodb'] as const) {
    it(`${store === 's3' ? 'S3' : 'DynamoDB'} refusing connections at start: backoff, /healthz 503, then converges when it is back`, async (t) => {
      const healthPort = await freePort();
      const s = await setupFaultSync(stack, {
        retryBaseMs: '250', maxAttempts: '2', connectTimeoutMs: '1000', requestTimeoutMs: '3000', healthAddress: `127.0.0.1:${healthPort}`,
      });
      const lambda = await startLambdaLog(s);
      const proxy = await startFaultProxy(store === 's3' ? stack.s3Endpoint : stack.dynamodbEndpoint);
      await proxy.down();
      const base = `http://127.0.0.1:${healthPort}`;
      for (let i = 0; i < 10; i++) s.put(`dog/d${i}.png`);
      const d = daemonThrough(s, { [store]: proxy });
      try {
        await d.waitForLog(/watching/);
        const down = await waitFor('/healthz to answer', () => healthz(base).catch(() => undefined), 15000);
        assert.equal(down.status, 503);
        assert.equal(down.body.checks.stores?.ok, false, JSON.stringify(down.body));
        assert.match(String(down.body.checks.stores?.detail), /store unreachable/);
        // Growing retry delays while the store stays down.
        const delays = (): number[] => logLines(d, /^will retry/).map((l) => Number(l.retryInMs));
        await waitFor('three retries with growing delays', () => delays().length >= 3, 20000);
        const seen = delays();
        for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! > seen[i - 1]!, `retry delays grow: ${seen.join(', ')}`);
        assert.equal(d.child.exitCode, null, 'the daemon keeps running');
        if (store === 's3') assert.deepEqual(await s.items(['dog']), [], 'no item without its object');
        else assert.equal((await healthz(base)).status, 503);

        await proxy.up();
        await waitConverged(s, { animals: ['dog'], timeoutMs: 30000 });
        const up = await waitFor('/healthz 200', async () => ((await healthz(base)).status === 200 ? true : undefined), 15000, 250);
        assert.ok(up);
        await fullReconcile(d);
        const report = await assertConvergedAfterFaults(s, lambda, { animals: ['dog'] });
        assert.equal(report.items, 10);
        t.diagnostic(`retry delays while down: ${seen.join(', ')} ms; connections refused: ${logLines(d, /^failed /).length} failure lines`);
      } finally {
        assert.equal(await d.stop(), 0);
        await proxy.stop();
      }
      try {
        await assertConvergedAfterFaults(s, lambda, { animals: ['dog'], stateDir: s.config.stateDir });
      } finally {
        await lambda.stop();
      }
    });
  }
});
