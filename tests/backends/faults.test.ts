// The fault proxy's DynamoDB faults on every DynamoDB implementation in
// tests/helpers/backends.ts, with the default itemWrites (auto): new items go out as whatever
// the endpoint can do (TransactWriteItems on DynamoDB Local, BatchWriteItem on dynalite after
// the first refusal), and throttling, 500s, resets, lost responses, a hang and a partial batch
// on inserts, changes and deletes still end in a converged catalogue.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { dynamoError, faultPlan, startFaultProxy, type Fault, type PlannedFault, type ProxiedRequest } from '../helpers/fault-proxy.ts';
import { assertConvergedAfterFaults, daemonThrough, fullReconcile, setupFaultSync, startLambdaLog, waitConverged } from '../helpers/faults.ts';
import { describeBackends } from '../helpers/backends.ts';
import { waitFor } from '../helpers/cli.ts';
import { assertConverged } from '../helpers/sync.ts';
import { SyncIndex } from '../../src/sync/index-db.ts';

const THROTTLED = dynamoError('ThrottlingException', 'Rate of requests exceeds the allowed throughput.');
const INTERNAL = dynamoError('InternalServerError', 'injected: internal server error', 500);
const isConditionalPut = (r: ProxiedRequest): boolean => String(r.json?.ConditionExpression ?? '').includes('#v = :expected');

/** A BatchWriteItem of several items: only the first is written, the rest come back unprocessed. */
function halfWritten(req: ProxiedRequest): Fault {
  const body = req.json as { RequestItems: Record<string, unknown[]> };
  const [table, [head, ...unprocessed]] = Object.entries(body.RequestItems)[0]!;
  return {
    kind: 'forward',
    body: Buffer.from(JSON.stringify({ RequestItems: { [table]: [head] } })),
    answer: () => ({ status: 200, body: JSON.stringify({ UnprocessedItems: { [table]: unprocessed } }) }),
  };
}

describeBackends('DynamoDB faults', (test, backend) => {
  const writeOp = backend.transactions ? 'TransactWriteItems' : 'BatchWriteItem';

  test(`${writeOp} for new items, conditional PutItem for changes, DeleteItem: throttling, 500s, resets, lost responses, a hang: converges`, {}, async (t, stack) => {
    const s = await setupFaultSync(stack, { requestTimeoutMs: '2000', maxAttempts: '3', retryBaseMs: '200', concurrency: '4' });
    const proxy = await startFaultProxy(stack.dynamodbEndpoint);
    try {
      for (let i = 0; i < 4; i++) s.put(`fox/old-${i}.png`);
      assert.equal((await s.once()).code, 0);
      const plan: PlannedFault[] = [
        ...[THROTTLED, INTERNAL, { kind: 'reset' } as const, { kind: 'lose-response' } as const, { kind: 'hang' } as const].map((fault) => ({ op: writeOp, nth: 1, fault })),
        ...(backend.transactions ? [] : [{ op: writeOp, nth: 1, when: (r: ProxiedRequest) => Object.values((r.json as { RequestItems: Record<string, unknown[]> }).RequestItems)[0]!.length >= 2, fault: halfWritten }]),
        { op: 'PutItem', nth: 1, when: isConditionalPut, fault: THROTTLED },
        { op: 'PutItem', nth: 1, when: isConditionalPut, fault: { kind: 'lose-response' } },
        { op: 'DeleteItem', nth: 1, fault: { kind: 'lose-response' } },
        { op: 'DeleteItem', nth: 1, fault: INTERNAL },
      ];
      proxy.setDecide(faultPlan(plan));
      const d = daemonThrough(s, { dynamodb: proxy });
      try {
        await d.waitForLog(/watching/);
        for (let i = 0; i < 24; i++) s.put(`cat/c${i}.png`);
        s.put('fox/old-0.png', { seed: 91001 });
        s.put('fox/old-1.png', { seed: 91002 });
        rmSync(s.file('fox/old-2.png'));
        rmSync(s.file('fox/old-3.png'));
        await waitFor('every planned fault to fire', () => plan.every((f) => f.fired), 60000);
        await waitConverged(s, { animals: ['cat', 'fox'], timeoutMs: 60000 });
        await fullReconcile(d);
        await assertConverged(s, { animals: ['cat', 'fox'] });
        assert.deepEqual((await s.items(['fox'])).map((i) => i.version).sort(), [2, 2], 'each changed file is exactly one version further');
        const fallbacks = d.lines().filter((l) => /has no transactions/.test(String(l.msg)));
        assert.equal(fallbacks.length, backend.transactions ? 0 : 1, 'one fallback line where there are no transactions');
        t.diagnostic(`${backend.name}: faults fired ${plan.length}; requests seen ${proxy.events.length}; ops ${[...new Set(proxy.events.map((e) => e.op))].join(', ')}`);
      } finally {
        assert.equal(await d.stop(), 0);
      }
      const index = SyncIndex.open(s.config.stateDir, { readOnly: true });
      try {
        assert.deepEqual(index.all().filter((r) => r.state !== 'synced').map((r) => r.source_path), [], 'every index row is synced');
      } finally {
        index.close();
      }
    } finally {
      await proxy.stop();
    }
  });

  test('a conditional MODIFY whose response was lost is written once: one MODIFY line at version 2', { needs: ['streams'] }, async (_t, stack) => {
    const s = await setupFaultSync(stack, { maxAttempts: '3', retryBaseMs: '200' });
    const lambda = await startLambdaLog(s);
    const proxy = await startFaultProxy(stack.dynamodbEndpoint);
    try {
      s.put('dog/rex.png');
      assert.equal((await s.once()).code, 0);
      const plan: PlannedFault[] = [{ op: 'PutItem', nth: 1, when: isConditionalPut, fault: { kind: 'lose-response' } }];
      proxy.setDecide(faultPlan(plan));
      const d = daemonThrough(s, { dynamodb: proxy });
      try {
        await d.waitForLog(/watching/);
        s.put('dog/rex.png', { seed: 91003 });
        await waitFor('the lost write', () => plan[0]!.fired);
        await waitConverged(s, { animals: ['dog'] });
      } finally {
        assert.equal(await d.stop(), 0);
      }
      await assertConvergedAfterFaults(s, lambda, { animals: ['dog'], stateDir: s.config.stateDir });
      const modifies = lambda.lines().filter((l) => l.eventName === 'MODIFY' && l.filename === 'rex.png');
      assert.deepEqual(modifies.map((l) => l.version), [2]);
    } finally {
      await proxy.stop();
      await lambda.stop();
    }
  });
});
