// Issue 10, against the real DynamoDB Local: an item written exactly as the original
// upload_image.py writes it (no size_bytes, sha256, version, source_host...), then deleted;
// the stream runner invokes the real handler, which logs its INSERT and REMOVE and fails
// nothing (before, both failed "NewImage.size_bytes must be a finite number, got nothing",
// were retried, and the batch went to the on-failure file).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../src/log.ts';
import { startStreamRunner } from '../../src/stream/runner.ts';
import { waitFor } from '../helpers/cli.ts';
import { deleteLegacyItem, putLegacyItem } from '../helpers/legacy-items.ts';
import { makePng } from '../helpers/png.ts';
import { startTestStack, tempDir, type TestStack } from '../helpers/stack.ts';

let stack: TestStack;
before(async () => {
  stack = await startTestStack();
});
after(async () => {
  await stack?.stop();
});

type Line = Record<string, unknown>;
const readLines = (file: string): Line[] => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line) : []);

describe('the stream runner and the handler on an item written by upload_image.py', () => {
  it('logs its INSERT and REMOVE with the attributes it has, with a Lambda-like context, and fails nothing', async (t) => {
    const config = stack.config();
    await stack.stores(config);
    const dir = tempDir();
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'rex.png');
    writeFileSync(file, makePng({ seed: 3 }));
    const target = { s3Endpoint: stack.s3Endpoint, dynamodbEndpoint: stack.dynamodbEndpoint, bucket: config.bucket, table: config.table };
    const logFile = path.join(dir, 'lambda.log');
    const failureFile = path.join(dir, 'stream-failures.jsonl');
    const runner = await startStreamRunner({
      aws: config, table: config.table, stateDir: config.stateDir, logFile, failureFile, echo: null,
      log: createLogger({ level: 'silent' }), batchWindowMs: 50, pollIntervalMs: 25, retryDelayMs: 5, maxRetries: 1,
    });
    let lines: Line[];
    let item: Awaited<ReturnType<typeof putLegacyItem>>;
    try {
      item = await putLegacyItem(target, { animal: 'dog', filename: 'rex.png', body: readFileSync(file) });
      assert.match(item.uploaded_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, 'microseconds, as Python writes them');
      await waitFor('the INSERT line', () => readLines(logFile).some((l) => l.eventName === 'INSERT'));
      await deleteLegacyItem(target, item);
      lines = await waitFor('the REMOVE line', () => {
        const all = readLines(logFile);
        return all.some((l) => l.eventName === 'REMOVE') ? all : undefined;
      });
    } finally {
      await runner.stop();
    }
    assert.deepEqual(lines.map((l) => [l.level, l.msg, l.eventName]), [['info', 'image inserted', 'INSERT'], ['info', 'image removed', 'REMOVE']]);
    for (const line of lines) {
      const { timestamp, eventID, sequenceNumber, approximateCreationTime, function_request_id, ...rest } = line;
      for (const v of [timestamp, eventID, sequenceNumber, approximateCreationTime, function_request_id]) assert.equal(typeof v, 'string');
      assert.deepEqual({ ...rest, eventName: undefined, level: undefined, msg: undefined }, {
        level: undefined, msg: undefined, eventName: undefined,
        service: 'animal-sync-stream-logger',
        cold_start: false,
        function_name: 'animal-sync-stream-logger',
        function_arn: 'arn:aws:lambda:ddblocal:000000000000:function:animal-sync-stream-logger',
        function_memory_size: '256',
        partition_key: item.partition_key,
        sort_key: item.sort_key,
        animal: 'dog',
        image_id: item.image_id,
        filename: 'rex.png',
        s3_key: item.s3_key,
      });
    }
    assert.notEqual(lines[0]!.function_request_id, lines[1]!.function_request_id, 'one request id per invocation');
    assert.equal(existsSync(failureFile), false, 'nothing went to the on-failure file');
  });
});
