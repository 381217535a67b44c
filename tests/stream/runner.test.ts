// The stream runner against the real DynamoDB Local: the CLI end to end, checkpoints across
// a restart, partial batch failures and retries, the on-failure file, expired iterators.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DynamoDBRecord } from 'aws-lambda';
import { createHandler } from '../../lambda/handler.ts';
import type { Config } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { buildItem, type ImageItem } from '../../src/model.ts';
import { makeStreamsClient } from '../../src/stream/clients.ts';
import { startStreamRunner, type HandlerFactory, type StreamRunner, type StreamRunnerOptions } from '../../src/stream/runner.ts';
import { BIN, ROOT, runCli, waitFor } from '../helpers/cli.ts';
import { makePng } from '../helpers/png.ts';
import { startTestStack, tempDir, type TestStack } from '../helpers/stack.ts';

let stack: TestStack;
before(async () => {
  stack = await startTestStack();
});
after(async () => {
  await stack?.stop();
});

const quiet = createLogger({ level: process.env.STREAM_TEST_LOG ?? 'silent' });

interface LogLine {
  eventName?: string;
  eventID?: string;
  image_id?: string;
  sequenceNumber?: string;
  level?: string;
}

function readLines(file: string): LogLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as LogLine);
}

function countBy<T>(values: T[]): Map<T, number> {
  const m = new Map<T, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}

let seed = 0;
function newItem(animal: string, imageId = crypto.randomUUID()): ImageItem {
  const at = new Date(Date.UTC(2026, 1, 19, 16, 31, 30, ++seed)).toISOString();
  return buildItem({
    animal, imageId, uploadedAt: at, bucket: stack.bucket, s3Key: `animals/${animal}/2026-02-19/${imageId}-x.png`, filename: 'x.png',
    sizeBytes: 100 + seed, sha256: 'a'.repeat(64), width: 16, height: 16, sourceHost: 'test-host', sourcePath: `${animal}/x.png`, version: 1, updatedAt: at,
  });
}

function runnerFor(config: Config, extra: Partial<StreamRunnerOptions> = {}): Promise<StreamRunner> {
  return startStreamRunner({
    aws: config, table: config.table, stateDir: config.stateDir, echo: null, log: quiet,
    batchWindowMs: 50, pollIntervalMs: 25, retryDelayMs: 5, shardDiscoveryIntervalMs: 1000, ...extra,
  });
}

/** The keys of a JSON object's top level, in order and with repeats (JSON.parse keeps only the last). */
function topLevelKeys(json: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  for (let i = 0; i < json.length; i++) {
    const ch = json[i];
    if (ch === '"') {
      let j = i + 1;
      while (json[j] !== '"') j += json[j] === '\\' ? 2 : 1;
      if (depth === 1 && json[j + 1] === ':') keys.push(JSON.parse(json.slice(i, j + 1)) as string);
      i = j;
    } else if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') depth--;
  }
  return keys;
}

const logFileOf = (config: Config): string => path.join(config.stateDir, 'lambda.log');
const imageIdOf = (r: DynamoDBRecord): string => (r.dynamodb?.NewImage ?? r.dynamodb?.OldImage)?.image_id?.S ?? '?';

describe('animal-sync stream (the CLI)', () => {
  it('logs INSERT, MODIFY and REMOVE of one image, in order, to the log file and stdout; exits 0 on SIGTERM', async () => {
    const config = stack.config();
    const { items } = await stack.stores(config);
    const env = stack.childEnv({ ANIMAL_SYNC_TABLE: config.table, ANIMAL_SYNC_BUCKET: stack.bucket, ANIMAL_SYNC_STATE_DIR: config.stateDir, ANIMAL_SYNC_HOST_ID: 'test-host' });
    const child = spawn(BIN, ['stream', '--batch-window-ms', '100', '--poll-interval-ms', '50'], { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      await waitFor('the stream runner to start', () => stderr.includes('stream runner started') || child.exitCode !== null);
      assert.equal(child.exitCode, null, stderr);

      const file = path.join(tempDir(), 'rex.png');
      writeFileSync(file, makePng({ seed: 7 }));
      const up = await runCli(['upload', '--file', file, '--animal', 'dog', '--json'], { env });
      assert.equal(up.code, 0, up.stderr);
      const uploaded = JSON.parse(up.stdout) as ImageItem & { parts?: number };
      const { parts: _parts, ...item } = uploaded;
      // The CLI has no update command: a change is the item written again, version + 1.
      await items.putReplace({ ...item, version: 2, updated_at: new Date().toISOString() }, 1);
      const del = await runCli(['delete', '--animal', 'dog', '--image-id', item.image_id], { env });
      assert.equal(del.code, 0, del.stderr);

      const logFile = logFileOf(config);
      const events = await waitFor('INSERT, MODIFY and REMOVE in the log file', () => {
        const names = readLines(logFile).filter((l) => l.image_id === item.image_id).map((l) => l.eventName);
        return names.length >= 3 ? names : undefined;
      });
      assert.deepEqual(events, ['INSERT', 'MODIFY', 'REMOVE']);
      await waitFor('the lines on stdout', () => stdout.split('\n').filter((l) => l.includes(item.image_id)).length >= 3);

      child.kill('SIGTERM');
      assert.equal(await exited, 0, stderr);
      assert.match(stderr, /stream runner stopped/);
      const onStdout = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as LogLine).filter((l) => l.image_id === item.image_id);
      assert.deepEqual(onStdout.map((l) => l.eventName), ['INSERT', 'MODIFY', 'REMOVE']);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

describe('startStreamRunner', () => {
  it('resumes from its checkpoint after a restart: records written while it was down arrive, none is logged twice', async () => {
    const config = stack.config();
    const { items } = await stack.stores(config);
    const logFile = logFileOf(config);
    let runner = await runnerFor(config);
    for (let i = 0; i < 3; i++) await items.putNew(newItem('cat'));
    await waitFor('3 lines', () => readLines(logFile).length >= 3);
    await runner.stop();

    for (let i = 0; i < 2; i++) await items.putNew(newItem('cat'));
    // The starting position only applies to a stream never read before: the checkpoint wins.
    runner = await runnerFor(config, { startingPosition: 'LATEST' });
    try {
      await waitFor('5 distinct records', () => new Set(readLines(logFile).map((l) => l.eventID)).size >= 5);
    } finally {
      await runner.stop();
    }
    const lines = readLines(logFile);
    assert.equal(lines.length, 5, JSON.stringify(lines, null, 1));
    assert.deepEqual([...countBy(lines.map((l) => l.eventID)).values()], [1, 1, 1, 1, 1]);
    const checkpoints = JSON.parse(readFileSync(path.join(config.stateDir, 'stream', 'checkpoints.json'), 'utf8')) as { streams: Record<string, { shards: Record<string, { sequenceNumber?: string }> }> };
    const saved = Object.values(Object.values(checkpoints.streams)[0]?.shards ?? {}).map((s) => s.sequenceNumber);
    assert.deepEqual(saved, [lines[4]?.sequenceNumber]);
    assert.equal(existsSync(path.join(config.stateDir, 'stream', 'runner.lock')), false);
  });

  /**
   * Wraps the real handler: `behave(call, records)` decides per invocation whether to throw,
   * to report the poison record as failed (after logging the others), or to run normally.
   */
  function scriptedHandler(poison: string, behave: (call: number) => 'throw' | 'fail-poison' | 'ok', calls: DynamoDBRecord[][]): HandlerFactory {
    return (sink) => {
      const real = createHandler(sink);
      return async (event) => {
        calls.push(event.Records);
        const how = behave(calls.length);
        if (how === 'throw') throw new Error('handler crashed');
        if (how === 'ok') return real(event);
        const others = event.Records.filter((r) => imageIdOf(r) !== poison);
        await real({ Records: others });
        const bad = event.Records.find((r) => imageIdOf(r) === poison);
        return { batchItemFailures: bad ? [{ itemIdentifier: bad.dynamodb?.SequenceNumber ?? '' }] : [] };
      };
    };
  }

  it('retries a failed record and only what follows it; a handler that throws retries the whole batch', async () => {
    const config = stack.config();
    const { items } = await stack.stores(config);
    const [a, p, b] = [newItem('owl'), newItem('owl'), newItem('owl')] as [ImageItem, ImageItem, ImageItem];
    for (const item of [a, p, b]) await items.putNew(item);
    const calls: DynamoDBRecord[][] = [];
    // Call 1 throws; calls 2 and 3 fail the poison record; call 4 (the third retry) succeeds.
    const behave = (call: number) => (call === 1 ? 'throw' : call <= 3 ? 'fail-poison' : 'ok');
    const runner = await runnerFor(config, { maxRetries: 3, handlerFactory: scriptedHandler(p.image_id, behave, calls) });
    try {
      await waitFor('four invocations', () => calls.length >= 4);
      await waitFor('the poison record logged', () => readLines(logFileOf(config)).some((l) => l.image_id === p.image_id));
    } finally {
      await runner.stop();
    }
    assert.deepEqual(calls.map((c) => c.map(imageIdOf)), [
      [a.image_id, p.image_id, b.image_id],
      [a.image_id, p.image_id, b.image_id],
      [p.image_id, b.image_id],
      [p.image_id, b.image_id],
    ]);
    assert.equal(existsSync(path.join(config.stateDir, 'stream-failures.jsonl')), false);
  });

  it('after the maximum retries writes the batch to the on-failure file and goes on with later records', async () => {
    const config = stack.config();
    const { items } = await stack.stores(config);
    const failureFile = path.join(tempDir(), 'failures', 'stream-failures.jsonl');
    const [a, p, b] = [newItem('bat'), newItem('bat'), newItem('bat')] as [ImageItem, ImageItem, ImageItem];
    for (const item of [a, p, b]) await items.putNew(item);
    const calls: DynamoDBRecord[][] = [];
    const runner = await runnerFor(config, { maxRetries: 2, failureFile, handlerFactory: scriptedHandler(p.image_id, () => 'fail-poison', calls) });
    const c = newItem('bat');
    try {
      await waitFor('the on-failure file', () => existsSync(failureFile));
      await items.putNew(c);
      await waitFor('the later record logged', () => readLines(logFileOf(config)).some((l) => l.image_id === c.image_id));
    } finally {
      await runner.stop();
    }
    assert.deepEqual(calls.map((x) => x.map(imageIdOf)), [
      [a.image_id, p.image_id, b.image_id],
      [p.image_id, b.image_id],
      [p.image_id, b.image_id],
      [c.image_id],
    ]);
    const [pRecord, bRecord] = calls[1] as [DynamoDBRecord, DynamoDBRecord];
    const failures = readFileSync(failureFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(failures.length, 1);
    assert.deepEqual(
      { ...failures[0], time: undefined, streamArn: undefined, shardId: undefined, approximateArrivalOfFirstRecord: undefined, approximateArrivalOfLastRecord: undefined },
      {
        time: undefined, streamArn: undefined, shardId: undefined, approximateArrivalOfFirstRecord: undefined, approximateArrivalOfLastRecord: undefined,
        condition: 'RetryAttemptsExhausted',
        table: config.table,
        startSequenceNumber: pRecord.dynamodb?.SequenceNumber,
        endSequenceNumber: bRecord.dynamodb?.SequenceNumber,
        recordCount: 2,
        eventIDs: [pRecord.eventID, bRecord.eventID],
        approximateInvokeCount: 3,
        error: { kind: 'partial-failure', failedItemIdentifiers: [pRecord.dynamodb?.SequenceNumber] },
      },
    );
    assert.match(String(failures[0]?.shardId), /^shardId-/);
    assert.equal(failures[0]?.streamArn, runner.streamArn);
  });

  // Regression: the runner bound table and shardId to its child loggers, and deliverBatch and
  // the shard reader put them into their lines again: each key appeared twice.
  it('its own log lines name table and shardId once each', async () => {
    const config = stack.config();
    const { items } = await stack.stores(config);
    const [a, p] = [newItem('elk'), newItem('elk')] as [ImageItem, ImageItem];
    for (const item of [a, p]) await items.putNew(item);
    let out = '';
    const log = createLogger({ level: 'debug', destination: new Writable({ write(chunk: Buffer, _e, cb) { out += chunk.toString(); cb(); } }) });
    const calls: DynamoDBRecord[][] = [];
    const runner = await runnerFor(config, { log, maxRetries: 1, handlerFactory: scriptedHandler(p.image_id, (call) => (call === 1 ? 'fail-poison' : 'ok'), calls) });
    try {
      await waitFor('the retried record logged', () => readLines(logFileOf(config)).some((l) => l.image_id === p.image_id));
    } finally {
      await runner.stop();
    }
    const lines = out.split('\n').filter(Boolean);
    const retry = lines.find((l) => l.includes('batch failed; retrying'));
    assert.ok(retry, out);
    assert.ok(lines.some((l) => l.includes('reading shard')), out);
    for (const line of lines) {
      const keys = topLevelKeys(line);
      assert.deepEqual(keys.filter((k, i) => keys.indexOf(k) !== i), [], `a key repeated in ${line}`);
    }
    assert.equal((JSON.parse(retry) as { table?: string }).table, config.table);
    assert.match(String((JSON.parse(retry) as { shardId?: string }).shardId), /^shardId-/);
  });

  it('re-acquires an expired iterator and survives a trimmed position without losing or repeating records', async () => {
    const config = stack.config();
    const { items } = await stack.stores(config);
    // DynamoDB Local's iterators are "<arn>|001|base64(<shardId>|<seq>|<created ms>)" and it
    // answers an iterator older than 15 minutes with ExpiredIteratorException and a position
    // before the oldest record with TrimmedDataAccessException: an SDK middleware ages or
    // rewinds one iterator to provoke each, without mocks and without waiting 15 minutes.
    let fault: 'expire' | 'trim' | null = null;
    const seen: string[] = [];
    const streams = makeStreamsClient(config);
    streams.middlewareStack.add((next, context) => async (args) => {
      const input = args.input as { ShardIterator?: string };
      if (context.commandName === 'GetRecordsCommand' && fault && input.ShardIterator) {
        const [arn, ver, inner] = input.ShardIterator.split('|') as [string, string, string];
        const [shardId, seq, created] = Buffer.from(inner, 'base64').toString('utf8').split('|') as [string, string, string];
        const rewritten = fault === 'expire'
          ? `${shardId}|${seq}|${String(Date.now() - 16 * 60_000).padStart(created.length, '0')}`
          : `${shardId}|${'0'.repeat(seq.length)}|${created}`;
        input.ShardIterator = `${arn}|${ver}|${Buffer.from(rewritten).toString('base64')}`;
        fault = null;
      }
      try {
        return await next(args);
      } catch (err) {
        seen.push((err as Error).name);
        throw err;
      }
    }, { step: 'initialize', name: 'streamFaults' });
    const logFile = logFileOf(config);
    const runner = await runnerFor(config, { clients: { streams } });
    let seenBeforeStop: string[] | undefined;
    try {
      await items.putNew(newItem('fox'));
      await waitFor('record 1', () => readLines(logFile).length >= 1);
      fault = 'expire';
      await waitFor('the expired iterator', () => fault === null);
      await items.putNew(newItem('fox'));
      await waitFor('record 2', () => readLines(logFile).length >= 2);
      fault = 'trim';
      await waitFor('the trimmed position', () => fault === null);
      await items.putNew(newItem('fox'));
      await waitFor('record 3', () => readLines(logFile).length >= 3);
      // stop() aborts the GetRecords poll in flight (an AbortError): that is the shutdown,
      // not a fault, so only what was seen before it counts.
      seenBeforeStop = [...seen];
    } finally {
      await runner.stop();
      streams.destroy();
    }
    assert.deepEqual(seenBeforeStop, ['ExpiredIteratorException', 'TrimmedDataAccessException']);
    const lines = readLines(logFile);
    assert.equal(lines.length, 3);
    assert.equal(new Set(lines.map((l) => l.eventID)).size, 3);
  });
});
