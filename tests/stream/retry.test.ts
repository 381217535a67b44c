// Pure checkpoint/retry decisions: what an invocation's result means, as Lambda reads it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffMs, describeDiscardedBatch, firstFailedIndex, planAfterInvoke } from '../../src/stream/retry.ts';

const SEQ = ['000000000000000000101', '000000000000000000102', '000000000000000000103', '000000000000000000104'];
const ok = (response: unknown) => ({ kind: 'returned' as const, response });
const failing = (...ids: unknown[]) => ok({ batchItemFailures: ids.map((itemIdentifier) => ({ itemIdentifier })) });

describe('planAfterInvoke', () => {
  for (const [what, response] of [
    ['an empty batchItemFailures', { batchItemFailures: [] }],
    ['a null batchItemFailures', { batchItemFailures: null }],
    ['an empty response object', {}],
    ['no response', undefined],
    ['a null response', null],
  ] as const) {
    it(`treats ${what} as success and checkpoints the last record`, () => {
      assert.deepEqual(planAfterInvoke(SEQ, ok(response), 0, 3), { action: 'done', checkpoint: SEQ[3] });
    });
  }

  it('checkpoints just before the lowest failed record and retries it and only what follows', () => {
    const plan = planAfterInvoke(SEQ, failing(SEQ[3], SEQ[1]), 0, 3);
    assert.deepEqual(plan, {
      action: 'retry',
      checkpoint: SEQ[0],
      retryFrom: 1,
      reason: { kind: 'partial-failure', failedItemIdentifiers: [SEQ[3], SEQ[1]] },
    });
  });

  it('retries everything without a checkpoint when the first record failed', () => {
    const plan = planAfterInvoke(SEQ, failing(SEQ[0]), 1, 3);
    assert.equal(plan.action, 'retry');
    assert.equal(plan.action === 'retry' && plan.checkpoint, null);
    assert.equal(plan.action === 'retry' && plan.retryFrom, 0);
  });

  it('treats a handler that threw as a failure of the whole batch', () => {
    const plan = planAfterInvoke(SEQ, { kind: 'threw', error: new TypeError('boom') }, 0, 3);
    assert.deepEqual(plan, { action: 'retry', checkpoint: null, retryFrom: 0, reason: { kind: 'function-error', message: 'TypeError: boom' } });
  });

  for (const [what, id] of [['an empty', ''], ['a null', null], ['a missing', undefined], ['an unknown', '000000000000000000999']] as const) {
    it(`treats ${what} itemIdentifier as a failure of the whole batch`, () => {
      const plan = planAfterInvoke(SEQ, failing(id), 0, 3);
      assert.equal(plan.action, 'retry');
      assert.equal(plan.action === 'retry' && plan.retryFrom, 0);
      assert.equal(plan.action === 'retry' && plan.reason.kind, 'invalid-response');
    });
  }

  it('treats a batchItemFailures that is not an array as a failure of the whole batch', () => {
    const plan = planAfterInvoke(SEQ, ok({ batchItemFailures: 'all' }), 0, 3);
    assert.equal(plan.action === 'retry' && plan.reason.kind, 'invalid-response');
  });

  it('discards what is left after the last retry and checkpoints past the whole batch', () => {
    assert.deepEqual(planAfterInvoke(SEQ.slice(2), failing(SEQ[3]), 3, 3), {
      action: 'discard',
      checkpoint: SEQ[3],
      discardFrom: 1,
      reason: { kind: 'partial-failure', failedItemIdentifiers: [SEQ[3]] },
    });
  });

  it('with maxRetries 0 discards on the first failure', () => {
    assert.equal(planAfterInvoke(SEQ, { kind: 'threw', error: 'x' }, 0, 0).action, 'discard');
  });

  it('refuses an empty batch', () => {
    assert.throws(() => planAfterInvoke([], ok(undefined), 0, 3), RangeError);
  });
});

describe('firstFailedIndex', () => {
  it('finds the lowest failure by stream order, not by response order', () => {
    assert.equal(firstFailedIndex(SEQ, failing(SEQ[2], SEQ[1], SEQ[3])).index, 1);
  });
});

describe('backoffMs', () => {
  it('doubles from the base up to the cap', () => {
    assert.deepEqual([1, 2, 3, 4, 5].map((n) => backoffMs(n, 100, 500)), [100, 200, 400, 500, 500]);
  });
});

describe('describeDiscardedBatch', () => {
  it('names the shard, the first and last sequence numbers, the count, the eventIDs and the reason', () => {
    const line = describeDiscardedBatch({
      records: [
        { eventID: 'e1', dynamodb: { SequenceNumber: SEQ[1], ApproximateCreationDateTime: 1_700_000_000 } },
        { eventID: 'e2', dynamodb: { SequenceNumber: SEQ[2], ApproximateCreationDateTime: 1_700_000_060 } },
      ],
      table: 'T', streamArn: 'arn:s', shardId: 'shardId-1', invokeCount: 4,
      reason: { kind: 'function-error', message: 'Error: x' },
      now: new Date('2026-01-02T03:04:05.000Z'),
    });
    assert.deepEqual(line, {
      time: '2026-01-02T03:04:05.000Z',
      condition: 'RetryAttemptsExhausted',
      table: 'T',
      streamArn: 'arn:s',
      shardId: 'shardId-1',
      startSequenceNumber: SEQ[1],
      endSequenceNumber: SEQ[2],
      recordCount: 2,
      eventIDs: ['e1', 'e2'],
      approximateInvokeCount: 4,
      approximateArrivalOfFirstRecord: '2023-11-14T22:13:20.000Z',
      approximateArrivalOfLastRecord: '2023-11-14T22:14:20.000Z',
      error: { kind: 'function-error', message: 'Error: x' },
    });
  });
});
