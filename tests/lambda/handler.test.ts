import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DynamoDBRecord } from 'aws-lambda';
import { createHandler, describeRecord, MalformedRecordError } from '../../lambda/handler.ts';
import { IMAGE_ID, insertRecord, modifyRecord, removeRecord, streamRecord, UPLOADED_AT, V1, V2 } from './stream-records.ts';

const S3_KEY = `animals/dog/2026-02-19/${IMAGE_ID}-rex.png`;

/** Runs the handler on a batch and returns its answer and the parsed lines it wrote. */
async function runBatch(records: DynamoDBRecord[]): Promise<{ failures: string[]; lines: Record<string, unknown>[]; raw: string[] }> {
  const raw: string[] = [];
  const res = await createHandler((line) => raw.push(line))({ Records: records });
  return { failures: res.batchItemFailures.map((f) => f.itemIdentifier), lines: raw.map((l) => JSON.parse(l)), raw };
}

function withStream(record: DynamoDBRecord, patch: Record<string, unknown>): DynamoDBRecord {
  return { ...record, dynamodb: { ...record.dynamodb, ...patch } } as DynamoDBRecord;
}

function assertMalformed(record: DynamoDBRecord, message: RegExp): void {
  assert.throws(() => describeRecord(record), (err: unknown) => {
    assert.ok(err instanceof MalformedRecordError, `expected MalformedRecordError, got ${String(err)}`);
    assert.match(err.message, message);
    return true;
  });
}

describe('describeRecord', () => {
  test('INSERT: fields of the new image, creation time as ISO, ids of the event', () => {
    assert.deepEqual(describeRecord(insertRecord('111100000000000000001')), {
      level: 'info',
      msg: 'image inserted',
      eventName: 'INSERT',
      eventID: '7de3041dd709b024af6f29e4fa13d341',
      sequenceNumber: '111100000000000000001',
      approximateCreationTime: '2026-02-19T16:31:31.000Z',
      partition_key: 'ANIMAL#dog',
      sort_key: `IMG#${UPLOADED_AT}#${IMAGE_ID}`,
      animal: 'dog',
      image_id: IMAGE_ID,
      filename: 'rex.png',
      s3_key: S3_KEY,
      size_bytes: V1.sizeBytes,
      version: 1,
    });
  });

  test('MODIFY: the new image, and old and new sha256, size and version', () => {
    const fields = describeRecord(modifyRecord());
    assert.equal(fields.eventName, 'MODIFY');
    assert.equal(fields.msg, 'image modified');
    assert.equal(fields.size_bytes, V2.sizeBytes);
    assert.equal(fields.version, 2);
    assert.deepEqual(fields.changes, {
      sha256: { old: V1.sha256, new: V2.sha256 },
      size_bytes: { old: V1.sizeBytes, new: V2.sizeBytes },
      version: { old: 1, new: 2 },
      attributes: ['sha256', 'size_bytes', 'updated_at', 'version'],
    });
  });

  test('MODIFY with the same content lists only what did change', () => {
    const same = { ...V1, version: 2, updatedAt: V2.updatedAt };
    const fields = describeRecord(streamRecord('MODIFY', '5', { oldImage: V1, newImage: same }));
    assert.deepEqual(fields.changes, {
      sha256: { old: V1.sha256, new: V1.sha256 },
      size_bytes: { old: V1.sizeBytes, new: V1.sizeBytes },
      version: { old: 1, new: 2 },
      attributes: ['updated_at', 'version'],
    });
  });

  test('REMOVE: fields of the old image, no changes', () => {
    const fields = describeRecord(removeRecord('111300000000000000003'));
    assert.equal(fields.eventName, 'REMOVE');
    assert.equal(fields.msg, 'image removed');
    assert.equal(fields.sequenceNumber, '111300000000000000003');
    assert.equal(fields.image_id, IMAGE_ID);
    assert.equal(fields.s3_key, S3_KEY);
    assert.equal(fields.version, 2);
    assert.equal(fields.changes, undefined);
  });

  test('a Date creation time (DynamoDB Streams SDK client) gives the same ISO time', () => {
    const fields = describeRecord(withStream(insertRecord(), { ApproximateCreationDateTime: new Date('2026-02-19T16:31:31.000Z') }));
    assert.equal(fields.approximateCreationTime, '2026-02-19T16:31:31.000Z');
  });

  test('malformed records throw MalformedRecordError naming the problem', () => {
    assertMalformed({ ...insertRecord(), eventName: 'UPDATE' as never }, /unknown eventName string "UPDATE"/);
    assertMalformed({ ...insertRecord(), eventSource: 'aws:kinesis' }, /eventSource/);
    assertMalformed({ ...insertRecord(), eventID: undefined }, /eventID/);
    assertMalformed({ ...insertRecord(), dynamodb: undefined }, /no dynamodb section/);
    assertMalformed(withStream(insertRecord(), { SequenceNumber: undefined }), /SequenceNumber/);
    assertMalformed(withStream(insertRecord(), { Keys: undefined }), /dynamodb\.Keys is missing/);
    assertMalformed(withStream(insertRecord(), { NewImage: undefined }), /dynamodb\.NewImage is missing/);
    assertMalformed(withStream(modifyRecord(), { OldImage: undefined }), /dynamodb\.OldImage is missing/);
    assertMalformed(withStream(removeRecord(), { OldImage: undefined }), /dynamodb\.OldImage is missing/);
    assertMalformed(withStream(insertRecord(), { ApproximateCreationDateTime: 'yesterday' }), /ApproximateCreationDateTime/);
  });

  test('attributes of the wrong type are malformed', () => {
    const newImage = (patch: Record<string, unknown>) => {
      const img: Record<string, unknown> = { ...insertRecord().dynamodb!.NewImage, ...patch };
      for (const [name, value] of Object.entries(patch)) if (value === undefined) delete img[name];
      return img;
    };
    assertMalformed(withStream(insertRecord(), { NewImage: newImage({ size_bytes: { S: '48213' } }) }), /NewImage\.size_bytes must be a finite number, got string "48213"/);
    assertMalformed(withStream(insertRecord(), { NewImage: newImage({ version: { N: 'x' } }) }), /NewImage\.version must be a finite number, got NaN/);
    assertMalformed(withStream(insertRecord(), { NewImage: newImage({ animal: undefined }) }), /NewImage\.animal must be a non-empty string, got nothing/);
    assertMalformed(withStream(insertRecord(), { NewImage: newImage({ filename: { Q: 'rex.png' } }) }), /not in DynamoDB AttributeValue form/);
    assertMalformed(withStream(insertRecord(), { Keys: { partition_key: { N: '1' }, sort_key: { S: 'IMG#x' } } }), /Keys\.partition_key must be a non-empty string/);
  });
});

describe('handler', () => {
  test('writes one JSON line per record and reports no failure for a good batch', async () => {
    const { failures, lines, raw } = await runBatch([insertRecord('1'), modifyRecord('2'), removeRecord('3')]);
    assert.deepEqual(failures, []);
    assert.deepEqual(lines.map((l) => [l.eventName, l.sequenceNumber, l.level]), [['INSERT', '1', 'info'], ['MODIFY', '2', 'info'], ['REMOVE', '3', 'info']]);
    for (const line of raw) assert.doesNotMatch(line, /\n/);
    for (const line of lines) assert.equal(typeof line.eventID, 'string');
  });

  test('a malformed record in the middle is reported by SequenceNumber; the others are logged', async () => {
    const broken = withStream(modifyRecord('222'), { OldImage: undefined });
    const { failures, lines } = await runBatch([insertRecord('111'), broken, removeRecord('333')]);
    assert.deepEqual(failures, ['222']);
    assert.deepEqual(lines.map((l) => [l.level, l.sequenceNumber]), [['info', '111'], ['error', '222'], ['info', '333']]);
    assert.deepEqual(lines[1], {
      level: 'error',
      msg: 'stream record not processed',
      eventID: broken.eventID,
      sequenceNumber: '222',
      reason: 'dynamodb.OldImage is missing (the stream must use NEW_AND_OLD_IMAGES)',
    });
  });

  test('a re-delivered record is logged again with the same eventID, so readers can deduplicate', async () => {
    const { lines } = await runBatch([insertRecord('9'), insertRecord('9')]);
    assert.equal(lines.length, 2);
    assert.deepEqual(lines[0], lines[1]);
  });

  test('a record without SequenceNumber fails with an empty identifier (Lambda retries the batch)', async () => {
    const { failures, lines } = await runBatch([withStream(insertRecord(), { SequenceNumber: undefined })]);
    assert.deepEqual(failures, ['']);
    assert.equal(lines[0]?.sequenceNumber, null);
  });

  test('a sink that throws reports the record instead of losing it', async () => {
    let calls = 0;
    const res = await createHandler(() => {
      calls++;
      throw new Error('EPIPE');
    })({ Records: [insertRecord('41'), removeRecord('42')] });
    assert.deepEqual(res.batchItemFailures, [{ itemIdentifier: '41' }, { itemIdentifier: '42' }]);
    assert.equal(calls, 4);
  });

  test('an event without Records is rejected as a whole', async () => {
    await assert.rejects(createHandler(() => undefined)({} as never), /Records array/);
  });
});
