// SIGTERM while uploads are in flight (slowed down by the S3 fault proxy so that they are):
// the daemon exits within its grace time, leaves nothing half-visible (no item without its
// object), and a restart finishes the rest (no object without its item after its reconcile).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../helpers/cli.ts';
import { forward, startFaultProxy, type Decide } from '../helpers/fault-proxy.ts';
import { assertConvergedAfterFaults, daemonThrough, fullReconcile, logLines, setupFaultSync, startLambdaLog, waitConverged } from '../helpers/faults.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';
import type { SyncSetup } from '../helpers/sync.ts';

const MiB = 1024 * 1024;
const ANIMALS = ['dog', 'owl'];
const ITEM_WRITES = ['TransactWriteItems', 'BatchWriteItem'];

/** Every item in the table has its object, with the bytes the item describes. */
async function assertNoItemWithoutObject(s: SyncSetup): Promise<number> {
  const items = await s.items(ANIMALS);
  for (const item of items) {
    const head = await s.stores.objects.head(item.s3_key);
    assert.ok(head, `the object of ${item.source_path} exists`);
    const hash = createHash('sha256');
    for await (const c of await s.stores.objects.get(item.s3_key)) hash.update(c as Buffer);
    assert.equal(hash.digest('hex'), item.sha256, `the object of ${item.source_path} has the item's bytes`);
  }
  return items.length;
}

interface Scenario {
  graceMs: number;
  /** Each S3 write is held this long by the proxy before it goes on. */
  s3DelayMs: number;
  /** The write of new items (TransactWriteItems or BatchWriteItem) never answers. */
  hangItemWrites: boolean;
  /** Longest time from SIGTERM to exit. */
  maxExitMs: number;
  graceful: boolean;
}

async function sigtermDuringUploads(stack: TestStack, sc: Scenario, t: { diagnostic(m: string): void }): Promise<void> {
  const s = await setupFaultSync(stack, { graceMs: String(sc.graceMs), partSizeMib: '5', concurrency: '4', retryBaseMs: '200', requestTimeoutMs: '10000' });
  const lambda = await startLambdaLog(s);
  const s3 = await startFaultProxy(stack.s3Endpoint);
  const dynamodb = await startFaultProxy(stack.dynamodbEndpoint);
  const slow: Decide = (r) => (r.op === 'PutObject' || r.op === 'UploadPart' ? { kind: 'forward', delayMs: sc.s3DelayMs } : { kind: 'forward' });
  s3.setDecide(slow);
  if (sc.hangItemWrites) dynamodb.setDecide((r) => (ITEM_WRITES.includes(r.op) ? { kind: 'hang' } : { kind: 'forward' }));
  try {
    const d = daemonThrough(s, { s3, dynamodb });
    await d.waitForLog(/watching/);
    for (let i = 0; i < 3; i++) s.put(`owl/big-${i}.png`, { padTo: 11 * MiB });
    for (let i = 0; i < 24; i++) s.put(`dog/d${i}.png`);
    const open = (p: typeof s3, ops: string[]): number => p.events.filter((e) => ops.includes(e.op) && e.upstreamStatus === undefined && e.clientClosedAt === undefined).length;
    if (sc.hangItemWrites) await waitFor('an item write hanging', () => open(dynamodb, ITEM_WRITES) >= 1, 20000, 20);
    else await waitFor('uploads in flight', () => open(s3, ['PutObject', 'UploadPart']) >= 3, 20000, 20);
    const sentAt = Date.now();
    d.child.kill('SIGTERM');
    const code = await d.exited;
    const tookMs = Date.now() - sentAt;
    const stopped = logLines(d, /^stopped$/)[0];
    t.diagnostic(`graceMs ${sc.graceMs}: exited ${code} after ${tookMs} ms, graceful=${String(stopped?.graceful)}`);
    assert.equal(code, 0, d.output().slice(-3000));
    assert.ok(tookMs <= sc.maxExitMs, `exited ${tookMs} ms after SIGTERM; graceMs is ${sc.graceMs}, allowed ${sc.maxExitMs}`);
    assert.equal(stopped?.graceful, sc.graceful);

    // Nothing partial: no item without its object (an object without its item is allowed
    // until the restart's reconcile, which must remove or finish it).
    s3.setDecide(forward);
    dynamodb.setDecide(forward);
    const items = await assertNoItemWithoutObject(s);
    assert.ok(items < 27, `the daemon stopped before everything was across (${items} items)`);

    const d2 = daemonThrough(s, { s3, dynamodb });
    try {
      await waitConverged(s, { animals: ANIMALS, timeoutMs: 60000 });
      await fullReconcile(d2);
      const report = await assertConvergedAfterFaults(s, lambda, { animals: ANIMALS });
      assert.equal(report.items, 27);
    } finally {
      assert.equal(await d2.stop(), 0);
    }
    await assertConvergedAfterFaults(s, lambda, { animals: ANIMALS, stateDir: s.config.stateDir });
  } finally {
    await s3.stop();
    await dynamodb.stop();
    await lambda.stop();
  }
}

describe('SIGTERM during uploads', () => {
  let stack: TestStack;
  before(async () => { stack = await startTestStack(); });
  after(async () => stack?.stop());

  // Regression: lib-storage's abort() left the PutObject/UploadPart requests (and their SDK
  // retries) running, and the 2 s fallback timer of stop() was not unref'd: the daemon exited
  // 3.2 s after its 1.5 s grace time.
  it('uploads outlasting the grace time are aborted: exits within graceMs, nothing partial, the rest after a restart', async (t) => {
    await sigtermDuringUploads(stack, { graceMs: 1500, s3DelayMs: 3000, hangItemWrites: false, maxExitMs: 1500 + 1000, graceful: false }, t);
  });

  it('in-flight work that fits the grace time finishes: graceful exit, nothing partial, the rest after a restart', async (t) => {
    await sigtermDuringUploads(stack, { graceMs: 8000, s3DelayMs: 400, hangItemWrites: false, maxExitMs: 8000, graceful: true }, t);
  });

  // Regression: a hung DynamoDB request (and its SDK retries) kept the stopped daemon alive
  // for requestTimeoutMs x maxAttempts: it exited 23.5 s after SIGTERM with graceMs 1500.
  it('a hung DynamoDB write at shutdown does not keep the daemon alive: exits within graceMs + the 2 s abort window', async (t) => {
    await sigtermDuringUploads(stack, { graceMs: 1500, s3DelayMs: 0, hangItemWrites: true, maxExitMs: 1500 + 2000 + 1000, graceful: false }, t);
  });
});
