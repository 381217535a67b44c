// Pure parts of reading the stream: shard order, start positions, batching, event shape.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { _Record as SdkRecord } from '@aws-sdk/client-dynamodb-streams';
import { batchIsDue, pollDelayMs } from '../../src/stream/batching.ts';
import { initialCheckpoints } from '../../src/stream/checkpoints.ts';
import { iteratorStartFor } from '../../src/stream/positions.ts';
import { compareSequenceNumbers, toLambdaRecord } from '../../src/stream/event.ts';
import { shardsReadyToRead, type ShardInfo } from '../../src/stream/shards.ts';

const shard = (shardId: string, parentShardId?: string, closed = false): ShardInfo => ({ shardId, parentShardId, closed });

describe('shardsReadyToRead', () => {
  const lineage = [shard('a', undefined, true), shard('b', 'a', true), shard('c', 'b'), shard('x')];

  it('starts a child only after its parent is fully read', () => {
    const ready = (finished: string[], running: string[] = []) =>
      shardsReadyToRead(lineage, (id) => finished.includes(id), new Set(running)).map((s) => s.shardId);
    assert.deepEqual(ready([]), ['a', 'x']);
    assert.deepEqual(ready([], ['a', 'x']), []);
    assert.deepEqual(ready(['a'], ['x']), ['b']);
    assert.deepEqual(ready(['a', 'b']), ['c', 'x']);
    assert.deepEqual(ready(['a', 'b', 'c', 'x']), []);
  });

  it('does not wait for a parent the stream no longer lists (trimmed)', () => {
    assert.deepEqual(shardsReadyToRead([shard('c', 'gone')], () => false, new Set()).map((s) => s.shardId), ['c']);
  });
});

describe('iteratorStartFor', () => {
  it('resumes after the checkpoint, skips finished shards, starts new shards at their beginning', () => {
    assert.deepEqual(iteratorStartFor({ sequenceNumber: '000000000000000000007' }), { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: '000000000000000000007' });
    assert.deepEqual(iteratorStartFor({ sequenceNumber: '000000000000000000007', finished: true }), { type: 'skip' });
    assert.deepEqual(iteratorStartFor({ latest: true }), { type: 'LATEST' });
    assert.deepEqual(iteratorStartFor(undefined), { type: 'TRIM_HORIZON' });
  });
});

describe('initialCheckpoints', () => {
  const shards = [shard('old', undefined, true), shard('open', 'old')];
  it('records nothing at TRIM_HORIZON: everything is read', () => {
    assert.deepEqual(initialCheckpoints(shards, 'TRIM_HORIZON'), {});
  });
  it('at LATEST counts closed shards as read and starts open ones at their newest record', () => {
    assert.deepEqual(initialCheckpoints(shards, 'LATEST'), { old: { finished: true }, open: { latest: true } });
  });
});

describe('batchIsDue', () => {
  const base = { count: 0, batchSize: 10, firstRecordAtMs: null, nowMs: 1000, windowMs: 500, shardEnded: false };
  it('never invokes an empty batch', () => {
    assert.equal(batchIsDue(base), false);
    assert.equal(batchIsDue({ ...base, shardEnded: true }), false);
  });
  it('invokes a full batch at once', () => {
    assert.equal(batchIsDue({ ...base, count: 10, firstRecordAtMs: 1000 }), true);
  });
  it('waits for the window from the first record, unless the shard ended', () => {
    assert.equal(batchIsDue({ ...base, count: 3, firstRecordAtMs: 700 }), false);
    assert.equal(batchIsDue({ ...base, count: 3, firstRecordAtMs: 500 }), true);
    assert.equal(batchIsDue({ ...base, count: 3, firstRecordAtMs: 900, shardEnded: true }), true);
    assert.equal(batchIsDue({ ...base, count: 3, firstRecordAtMs: 1000, windowMs: 0 }), true);
  });
  it('polls an idle shard at the poll interval, a filling batch no later than its window end', () => {
    assert.equal(pollDelayMs({ firstRecordAtMs: null, nowMs: 1000, windowMs: 500, pollIntervalMs: 250 }), 250);
    assert.equal(pollDelayMs({ firstRecordAtMs: 600, nowMs: 1000, windowMs: 500, pollIntervalMs: 250 }), 100);
  });
});

describe('toLambdaRecord', () => {
  it('gives the record Lambda\'s shape: epoch seconds, base64 binaries, eventSourceARN', () => {
    const sdk: SdkRecord = {
      eventID: 'e1', eventName: 'MODIFY', eventVersion: '1.1', eventSource: 'aws:dynamodb', awsRegion: 'ddblocal',
      dynamodb: {
        ApproximateCreationDateTime: new Date('2026-02-19T16:31:00.000Z'),
        Keys: { partition_key: { S: 'ANIMAL#dog' } },
        NewImage: { b: { B: new Uint8Array([1, 2, 3]) }, bs: { BS: [new Uint8Array([255])] }, m: { M: { l: { L: [{ N: '1' }, { NULL: true }, { BOOL: false }] } } } },
        OldImage: { ss: { SS: ['a'] }, ns: { NS: ['1'] } },
        SequenceNumber: '000000000000000000002', SizeBytes: 10, StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    };
    assert.deepEqual(toLambdaRecord(sdk, 'arn:stream'), {
      eventID: 'e1', eventName: 'MODIFY', eventVersion: '1.1', eventSource: 'aws:dynamodb', awsRegion: 'ddblocal',
      eventSourceARN: 'arn:stream',
      dynamodb: {
        ApproximateCreationDateTime: Date.parse('2026-02-19T16:31:00.000Z') / 1000,
        Keys: { partition_key: { S: 'ANIMAL#dog' } },
        NewImage: { b: { B: 'AQID' }, bs: { BS: ['/w=='] }, m: { M: { l: { L: [{ N: '1' }, { NULL: true }, { BOOL: false }] } } } },
        OldImage: { ss: { SS: ['a'] }, ns: { NS: ['1'] } },
        SequenceNumber: '000000000000000000002', SizeBytes: 10, StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    });
  });
});

describe('compareSequenceNumbers', () => {
  it('compares as integers, beyond Number precision and across lengths', () => {
    assert.equal(compareSequenceNumbers('100000000000000000000000000000000000001', '100000000000000000000000000000000000002'), -1);
    assert.equal(compareSequenceNumbers('900', '0000000000000000001000'), -1);
    assert.equal(compareSequenceNumbers('000000000000000000005', '5'), 0);
  });
});
