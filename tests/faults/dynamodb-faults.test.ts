// DynamoDB faults through an HTTP fault proxy between the real daemon and DynamoDB Local (the
// X-Amz-Target header names the operation): throttling, 500s, resets, lost responses, a hang,
// a partial BatchWriteItem and a cancelled TransactWriteItems, on inserts, changes and
// deletes. And the subtle one: a conditional MODIFY whose first response was lost must
// recognise its own write on retry.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { dynamoError, faultPlan, startFaultProxy, type Fault, type FaultProxy, type PlannedFault, type ProxiedRequest } from '../helpers/fault-proxy.ts';
import { assertConvergedAfterFaults, assertHungRequestsTimedOut, daemonThrough, fullReconcile, logLines, setupFaultSync, startLambdaLog, waitConverged } from '../helpers/faults.ts';
import { waitFor } from '../helpers/cli.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';
import type { SyncSetup } from '../helpers/sync.ts';

const REQUEST_TIMEOUT_MS = 2000;

/** BatchWriteItem that writes only the first of its items and returns the rest as UnprocessedItems. */
function partialBatch(req: ProxiedRequest): Fault {
  const body = req.json as { RequestItems: Record<string, unknown[]> };
  const [table, writes] = Object.entries(body.RequestItems)[0]!;
  const [first, ...rest] = writes;
  return {
    kind: 'forward',
    body: Buffer.from(JSON.stringify({ ...body, RequestItems: { [table]: [first] } })),
    answer: (status, upstream) => {
      assert.equal(status, 200, upstream.toString());
      return { status: 200, body: JSON.stringify({ UnprocessedItems: { [table]: rest } }) };
    },
  };
}

/** TransactWriteItems cancelled because DynamoDB throttled one of its items. */
function cancelledTransaction(req: ProxiedRequest): Fault {
  const n = (req.json as { TransactItems: unknown[] }).TransactItems.length;
  const reasons = Array.from({ length: n }, (_, i) => (i === 0 ? { Code: 'ThrottlingError', Message: 'Throughput exceeds the current capacity of your table or index.' } : { Code: 'None' }));
  return {
    kind: 'respond',
    status: 400,
    headers: { 'content-type': 'application/x-amz-json-1.0' },
    body: JSON.stringify({
      __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
      Message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
      CancellationReasons: reasons,
    }),
  };
}

const batchSize = (r: ProxiedRequest): number => Object.values((r.json as { RequestItems: Record<string, unknown[]> }).RequestItems)[0]!.length;
const isConditionalPut = (r: ProxiedRequest): boolean => typeof r.json?.ConditionExpression === 'string' && String(r.json.ConditionExpression).includes('#v = :expected');
const conflictLines = (lines: Record<string, unknown>[]): Record<string, unknown>[] => lines.filter((l) => /changed remotely|conflict/i.test(String(l.msg)));

describe('DynamoDB faults', () => {
  let stack: TestStack;
  before(async () => { stack = await startTestStack(); });
  after(async () => stack?.stop());

  for (const itemWrites of ['batch', 'transact'] as const) {
    it(`${itemWrites === 'batch' ? 'BatchWriteItem (AWS)' : 'TransactWriteItems (DynamoDB Local)'} for new items: throttling, 500s, resets, lost responses, a hang${itemWrites === 'batch' ? ', a partial batch' : ', a cancelled transaction'}, also on changes and deletes: converges`, async (t) => {
      const s = await setupFaultSync(stack, { requestTimeoutMs: String(REQUEST_TIMEOUT_MS), maxAttempts: '3', retryBaseMs: '200', concurrency: '4', itemWrites });
      const lambda = await startLambdaLog(s);
      const proxy: FaultProxy = await startFaultProxy(stack.dynamodbEndpoint);
      try {
        for (let i = 0; i < 4; i++) s.put(`fox/old-${i}.png`);
        assert.equal((await s.once()).code, 0);
        const op = itemWrites === 'batch' ? 'BatchWriteItem' : 'TransactWriteItems';
        const plan: PlannedFault[] = [
          { op, nth: 1, fault: dynamoError('ThrottlingException', 'Rate of requests exceeds the allowed throughput.') },
          itemWrites === 'batch'
            ? { op, nth: 1, fault: dynamoError('ProvisionedThroughputExceededException', 'The level of configured provisioned throughput for the table was exceeded.') }
            : { op, nth: 1, fault: cancelledTransaction },
          { op, nth: 1, fault: dynamoError('InternalServerError', 'injected: internal server error', 500) },
          { op, nth: 1, fault: { kind: 'reset' } },
          { op, nth: 1, fault: { kind: 'lose-response' } },
          { op, nth: 1, fault: { kind: 'hang' } },
          ...(itemWrites === 'batch' ? [{ op, nth: 1, when: (r: ProxiedRequest) => batchSize(r) >= 2, fault: partialBatch }] : []),
          { op: 'PutItem', nth: 1, when: isConditionalPut, fault: dynamoError('ProvisionedThroughputExceededException', 'The level of configured provisioned throughput for the table was exceeded.') },
          { op: 'PutItem', nth: 1, when: isConditionalPut, fault: { kind: 'reset' } },
          { op: 'PutItem', nth: 1, when: isConditionalPut, fault: { kind: 'hang' } },
          { op: 'DeleteItem', nth: 1, fault: dynamoError('ThrottlingException', 'Rate of requests exceeds the allowed throughput.') },
          { op: 'DeleteItem', nth: 1, fault: { kind: 'lose-response' } },
          { op: 'DeleteItem', nth: 1, fault: dynamoError('InternalServerError', 'injected: internal server error', 500) },
        ];
        proxy.setDecide(faultPlan(plan));
        const d = daemonThrough(s, { dynamodb: proxy });
        try {
          await d.waitForLog(/watching/);
          for (let i = 0; i < 24; i++) s.put(`cat/c${i}.png`);
          s.put('fox/old-0.png', { seed: 90001 });
          s.put('fox/old-1.png', { seed: 90002 });
          rmSync(s.file('fox/old-2.png'));
          rmSync(s.file('fox/old-3.png'));
          await waitFor('every planned fault to fire', () => plan.every((f) => f.fired), 60000);
          await waitConverged(s, { animals: ['cat', 'fox'], timeoutMs: 60000 });
          await fullReconcile(d);
          const report = await assertConvergedAfterFaults(s, lambda, { animals: ['cat', 'fox'] });
          assert.equal(report.items, 26);
          const items = await s.items(['fox']);
          assert.deepEqual(items.map((i) => i.version).sort(), [2, 2], 'each changed file is exactly one version further');
          assert.deepEqual(conflictLines(d.lines()), [], 'no conflict reported');
          t.diagnostic(`faults fired: ${plan.length}; requests seen: ${proxy.events.length}; lambda: ${JSON.stringify(report)}`);
        } finally {
          assert.equal(await d.stop(), 0);
        }
        await assertConvergedAfterFaults(s, lambda, { animals: ['cat', 'fox'], stateDir: s.config.stateDir });
        assertHungRequestsTimedOut(proxy, REQUEST_TIMEOUT_MS, 2);
      } finally {
        await proxy.stop();
        await lambda.stop();
      }
    });
  }

  /** A changed file whose conditional PutItem is applied but whose response is lost. */
  async function modifyWithLostResponse(s: SyncSetup, t: { diagnostic(m: string): void }): Promise<void> {
    const lambda = await startLambdaLog(s);
    const proxy = await startFaultProxy(stack.dynamodbEndpoint);
    try {
      s.put('dog/rex.png');
      assert.equal((await s.once()).code, 0);
      const [before] = await s.items(['dog']);
      assert.equal(before!.version, 1);
      const plan: PlannedFault[] = [{ op: 'PutItem', nth: 1, when: isConditionalPut, fault: { kind: 'lose-response' } }];
      proxy.setDecide(faultPlan(plan));
      const d = daemonThrough(s, { dynamodb: proxy });
      try {
        await d.waitForLog(/watching/);
        const bytes = s.put('dog/rex.png', { seed: 4242 });
        await waitFor('the lost write', () => plan[0]!.fired);
        await waitConverged(s, { animals: ['dog'] });
        await fullReconcile(d);
        const [after] = await s.items(['dog']);
        assert.equal(after!.image_id, before!.image_id);
        assert.equal(after!.version, before!.version + 1, 'exactly one version further: the retry recognised its own write');
        assert.equal(after!.size_bytes, bytes.length);
        assert.deepEqual(conflictLines(d.lines()), [], 'no conflict or "changed remotely" line');
        assert.deepEqual(logLines(d, /^failed /).filter((l) => !/ECONNRESET|socket hang up|network|reset/i.test(String(l.error))), [], 'no failure other than the lost connection');
        const puts = proxy.events.filter((e) => e.op === 'PutItem');
        t.diagnostic(`PutItem requests: ${puts.map((e) => `${e.fault}→${e.upstreamStatus}`).join(', ')}; GetItem: ${proxy.events.filter((e) => e.op === 'GetItem').length}`);
        assert.ok(puts.length >= 2, 'the lost PutItem was retried');
        assert.equal(puts[0]!.upstreamStatus, 200, 'the first PutItem was applied');
        assert.equal(puts[1]!.upstreamStatus, 400, 'the retry found the condition false (its own write)');
      } finally {
        assert.equal(await d.stop(), 0);
      }
      await assertConvergedAfterFaults(s, lambda, { animals: ['dog'], stateDir: s.config.stateDir });
      const modifies = lambda.lines().filter((l) => l.eventName === 'MODIFY' && l.image_id === before!.image_id);
      assert.equal(modifies.length, 1, 'one MODIFY line: the change was written once');
      assert.equal(modifies[0]!.version, 2);
    } finally {
      await proxy.stop();
      await lambda.stop();
    }
  }

  it('a conditional MODIFY whose response was lost: the SDK retry recognises its own write (version +1, no conflict)', async (t) => {
    await modifyWithLostResponse(await setupFaultSync(stack, { maxAttempts: '3', retryBaseMs: '200' }), t);
  });

  it('the same with maxAttempts 1: the daemon retry recognises its own write (version +1, no conflict)', async (t) => {
    await modifyWithLostResponse(await setupFaultSync(stack, { maxAttempts: '1', retryBaseMs: '200' }), t);
  });
});
