import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Context, DynamoDBRecord } from 'aws-lambda';
import { describeRecord, UnidentifiedRecordError } from '../../lambda/describe.ts';
import { createHandler } from '../../lambda/handler.ts';
import { IMAGE_ID, insertRecord, LEGACY_UPLOADED_AT, legacyImage, legacyRecord, modifyRecord, removeRecord, streamRecord, UPLOADED_AT, V1, V2 } from './stream-records.ts';

const S3_KEY = `animals/dog/2026-02-19/${IMAGE_ID}-rex.png`;

const CONTEXT = {
  functionName: 'AnimalSync-StreamLogger',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:AnimalSync-StreamLogger',
  memoryLimitInMB: '256',
  awsRequestId: '0f4f7c1e-4b8e-4f59-9d2a-6b3f0c8e7a11',
} as Context;

/** Runs the handler on a batch and returns its answer and the parsed lines it wrote. */
async function runBatch(records: DynamoDBRecord[], context?: Context): Promise<{ failures: string[]; lines: Record<string, unknown>[]; raw: string[] }> {
  const raw: string[] = [];
  const res = await createHandler((line) => raw.push(line))({ Records: records }, context);
  return { failures: res.batchItemFailures.map((f) => f.itemIdentifier), lines: raw.map((l) => JSON.parse(l) as Record<string, unknown>), raw };
}

function withStream(record: DynamoDBRecord, patch: Record<string, unknown>): DynamoDBRecord {
  return { ...record, dynamodb: { ...record.dynamodb, ...patch } } as DynamoDBRecord;
}

function withNewImage(record: DynamoDBRecord, patch: Record<string, unknown>): DynamoDBRecord {
  const img: Record<string, unknown> = { ...record.dynamodb!.NewImage, ...patch };
  for (const [name, value] of Object.entries(patch)) if (value === undefined) delete img[name];
  return withStream(record, { NewImage: img });
}

function assertUnidentified(record: unknown, message: RegExp): void {
  assert.throws(() => describeRecord(record as DynamoDBRecord), (err: unknown) => {
    assert.ok(err instanceof UnidentifiedRecordError, `expected UnidentifiedRecordError, got ${String(err)}`);
    assert.match(err.message, message);
    return true;
  });
}

describe('describeRecord', () => {
  test('INSERT: fields of the new image, creation time as ISO, ids of the event', () => {
    assert.deepEqual(describeRecord(insertRecord('111100000000000000001')), {
      level: 'info',
      message: 'image inserted',
      fields: {
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
        source_host: 'cam-01',
      },
    });
  });

  test('MODIFY: the new image, and old and new sha256, size and version', () => {
    const { message, fields } = describeRecord(modifyRecord());
    assert.equal(message, 'image modified');
    assert.equal(fields.eventName, 'MODIFY');
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
    const { fields } = describeRecord(streamRecord('MODIFY', '5', { oldImage: V1, newImage: same }));
    assert.deepEqual(fields.changes, {
      sha256: { old: V1.sha256, new: V1.sha256 },
      size_bytes: { old: V1.sizeBytes, new: V1.sizeBytes },
      version: { old: 1, new: 2 },
      attributes: ['updated_at', 'version'],
    });
  });

  test('REMOVE: fields of the old image, no changes', () => {
    const { level, message, fields } = describeRecord(removeRecord('111300000000000000003'));
    assert.equal(level, 'info');
    assert.equal(message, 'image removed');
    assert.equal(fields.sequenceNumber, '111300000000000000003');
    assert.equal(fields.image_id, IMAGE_ID);
    assert.equal(fields.s3_key, S3_KEY);
    assert.equal(fields.version, 2);
    assert.equal(fields.changes, undefined);
  });

  test('a Date creation time (DynamoDB Streams SDK client) gives the same ISO time; a bad one is left out', () => {
    const at = describeRecord(withStream(insertRecord(), { ApproximateCreationDateTime: new Date('2026-02-19T16:31:31.000Z') }));
    assert.equal(at.fields.approximateCreationTime, '2026-02-19T16:31:31.000Z');
    const bad = describeRecord(withStream(insertRecord(), { ApproximateCreationDateTime: 'yesterday' }));
    assert.equal('approximateCreationTime' in bad.fields, false);
  });
});

describe('describeRecord: items written by the original upload_image.py', () => {
  const expected = {
    partition_key: 'ANIMAL#dog',
    sort_key: `IMG#${LEGACY_UPLOADED_AT}#${IMAGE_ID}`,
    animal: 'dog',
    image_id: IMAGE_ID,
    filename: 'rex.png',
    s3_key: S3_KEY,
  };

  test('INSERT is logged with the attributes the item has; the missing ones are left out', () => {
    const { level, message, fields } = describeRecord(legacyRecord('INSERT', '7001', { newImage: legacyImage() }));
    assert.equal(level, 'info');
    assert.equal(message, 'image inserted');
    const { eventName, eventID, sequenceNumber, approximateCreationTime, ...rest } = fields;
    assert.deepEqual({ eventName, sequenceNumber }, { eventName: 'INSERT', sequenceNumber: '7001' });
    assert.equal(typeof eventID, 'string');
    assert.equal(typeof approximateCreationTime, 'string');
    assert.deepEqual(rest, expected);
  });

  test('REMOVE is logged from the old image', () => {
    const { level, fields } = describeRecord(legacyRecord('REMOVE', '7002', { oldImage: legacyImage() }));
    assert.equal(level, 'info');
    assert.deepEqual({ ...fields, eventID: undefined, approximateCreationTime: undefined }, {
      eventName: 'REMOVE', eventID: undefined, sequenceNumber: '7002', approximateCreationTime: undefined, ...expected,
    });
  });

  test('MODIFY shows only the values that exist on either side', () => {
    const newer = { ...legacyImage(), size_bytes: { N: '48213' } };
    const { fields } = describeRecord(legacyRecord('MODIFY', '7003', { oldImage: legacyImage(), newImage: newer }));
    assert.equal(fields.size_bytes, 48213);
    assert.deepEqual(fields.changes, { size_bytes: { new: 48213 }, attributes: ['size_bytes'] });
  });
});

describe('describeRecord: what makes a record fail, and what does not', () => {
  test('a record that cannot be identified throws UnidentifiedRecordError naming what is missing', () => {
    assertUnidentified(null, /not an object/);
    assertUnidentified({ ...insertRecord(), dynamodb: undefined }, /no dynamodb section/);
    assertUnidentified(withStream(insertRecord(), { SequenceNumber: undefined }), /dynamodb\.SequenceNumber must be a non-empty string, got nothing/);
    assertUnidentified(withStream(insertRecord(), { SequenceNumber: '' }), /SequenceNumber/);
    assertUnidentified(withStream(insertRecord(), { Keys: undefined }), /dynamodb\.Keys is missing/);
    assertUnidentified(withStream(insertRecord(), { Keys: { partition_key: { N: '1' }, sort_key: { S: 'IMG#x' } } }), /Keys\.partition_key must be a non-empty string, got 1/);
    assertUnidentified(withStream(insertRecord(), { Keys: { partition_key: { S: 'ANIMAL#dog' } } }), /Keys\.sort_key must be a non-empty string, got nothing/);
    assertUnidentified(withStream(insertRecord(), { Keys: { partition_key: { Q: 'x' }, sort_key: { S: 'IMG#x' } } }), /Keys\.partition_key/);
  });

  test('an identified record without its images is logged as a warning naming the problem', () => {
    const modify = describeRecord(withStream(modifyRecord(), { OldImage: undefined }));
    assert.equal(modify.level, 'warn');
    assert.equal(modify.fields.image_id, IMAGE_ID, 'the new image is still described');
    assert.equal(modify.fields.problem, 'dynamodb.OldImage missing (the stream must use NEW_AND_OLD_IMAGES)');
    const remove = describeRecord(withStream(removeRecord(), { OldImage: undefined }));
    assert.equal(remove.level, 'warn');
    assert.equal(remove.fields.partition_key, 'ANIMAL#dog');
    assert.equal(remove.fields.image_id, undefined);
  });

  test('an unknown eventName is a warning, not a failure', () => {
    const line = describeRecord({ ...insertRecord(), eventName: 'UPDATE' as never });
    assert.equal(line.level, 'warn');
    assert.equal(line.message, 'unknown stream event');
    assert.match(String(line.fields.problem), /eventName string "UPDATE" is not INSERT, MODIFY or REMOVE/);
  });

  test('attributes of another type are shown as they are; unreadable ones are left out', () => {
    const { fields } = describeRecord(withNewImage(insertRecord(), {
      size_bytes: { S: '48213' },
      version: { N: '123456789012345678901234567890' },
      filename: { Q: 'rex.png' },
      animal: undefined,
    }));
    assert.equal(fields.size_bytes, '48213');
    assert.equal(fields.version, '123456789012345678901234567890', 'beyond 2^53 a number stays exact, as a string');
    assert.equal('filename' in fields, false);
    assert.equal('animal' in fields, false);
  });
});

describe('handler (Powertools BatchProcessor and Logger)', () => {
  test('one JSON line per record with level names and the function context; no failure for a good batch', async () => {
    const { failures, lines, raw } = await runBatch([insertRecord('1'), modifyRecord('2'), removeRecord('3')], CONTEXT);
    assert.deepEqual(failures, []);
    assert.deepEqual(lines.map((l) => [l.eventName, l.sequenceNumber, l.level, l.msg]), [
      ['INSERT', '1', 'info', 'image inserted'], ['MODIFY', '2', 'info', 'image modified'], ['REMOVE', '3', 'info', 'image removed'],
    ]);
    for (const line of raw) assert.doesNotMatch(line, /\n/);
    for (const line of lines) {
      assert.equal(typeof line.eventID, 'string');
      assert.match(String(line.timestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.equal(line.service, 'animal-sync-stream-logger');
      assert.equal(line.function_name, CONTEXT.functionName);
      assert.equal(line.function_arn, CONTEXT.invokedFunctionArn);
      assert.equal(line.function_request_id, CONTEXT.awsRequestId);
    }
  });

  test('INSERT and REMOVE of an item written by upload_image.py: logged, no failure (issue 10)', async () => {
    const { failures, lines } = await runBatch([
      legacyRecord('INSERT', '801', { newImage: legacyImage() }),
      legacyRecord('REMOVE', '802', { oldImage: legacyImage() }),
    ]);
    assert.deepEqual(failures, []);
    assert.deepEqual(lines.map((l) => [l.level, l.eventName, l.image_id, 'size_bytes' in l, 'version' in l]), [
      ['info', 'INSERT', IMAGE_ID, false, false],
      ['info', 'REMOVE', IMAGE_ID, false, false],
    ]);
    for (const line of lines) assert.doesNotMatch(JSON.stringify(line), /null|NaN|undefined/);
  });

  test('an unidentifiable record in the middle is reported by SequenceNumber; the others are logged', async () => {
    const broken = withStream(modifyRecord('222'), { Keys: undefined });
    const { failures, lines } = await runBatch([insertRecord('111'), broken, removeRecord('333')], CONTEXT);
    assert.deepEqual(failures, ['222']);
    assert.deepEqual(lines.map((l) => [l.level, l.sequenceNumber]), [['info', '111'], ['error', '222'], ['info', '333']]);
    const { timestamp: _t, ...error } = lines[1]!;
    assert.deepEqual(error, {
      level: 'error',
      msg: 'stream record not processed',
      service: 'animal-sync-stream-logger',
      cold_start: false,
      function_name: CONTEXT.functionName,
      function_arn: CONTEXT.invokedFunctionArn,
      function_memory_size: '256',
      function_request_id: CONTEXT.awsRequestId,
      eventID: broken.eventID,
      sequenceNumber: '222',
      reason: 'dynamodb.Keys is missing',
    });
  });

  test('a batch of only failing records is still answered record by record (no exception)', async () => {
    const { failures } = await runBatch([withStream(insertRecord('5'), { Keys: undefined }), withStream(removeRecord('6'), { Keys: undefined })]);
    assert.deepEqual(failures, ['5', '6']);
  });

  test('a warning record is logged and does not fail', async () => {
    const { failures, lines } = await runBatch([withStream(removeRecord('61'), { OldImage: undefined })]);
    assert.deepEqual(failures, []);
    assert.equal(lines[0]?.level, 'warn');
  });

  test('a re-delivered record is logged again with the same eventID, so readers can deduplicate', async () => {
    const { lines } = await runBatch([insertRecord('9'), insertRecord('9')]);
    assert.equal(lines.length, 2);
    const strip = ({ timestamp: _t, ...rest }: Record<string, unknown>) => rest;
    assert.deepEqual(strip(lines[0]!), strip(lines[1]!));
  });

  test('a record without SequenceNumber fails with an empty identifier (Lambda retries the batch)', async () => {
    const { failures, lines } = await runBatch([insertRecord('12'), withStream(insertRecord(), { SequenceNumber: undefined })]);
    assert.deepEqual(failures, ['']);
    assert.equal(lines[1]?.level, 'error');
    assert.equal('sequenceNumber' in lines[1]!, false);
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

  test('the application log level (AWS_LAMBDA_LOG_LEVEL, set by Lambda from the function config) filters lines', async () => {
    const saved = process.env.AWS_LAMBDA_LOG_LEVEL;
    process.env.AWS_LAMBDA_LOG_LEVEL = 'WARN';
    try {
      const { lines } = await runBatch([insertRecord('71'), withStream(removeRecord('72'), { OldImage: undefined })]);
      assert.deepEqual(lines.map((l) => [l.level, l.sequenceNumber]), [['warn', '72']]);
    } finally {
      if (saved === undefined) delete process.env.AWS_LAMBDA_LOG_LEVEL;
      else process.env.AWS_LAMBDA_LOG_LEVEL = saved;
    }
  });

  test('an event without Records is rejected as a whole', async () => {
    await assert.rejects(createHandler(() => undefined)({} as never), /Records array/);
  });
});
