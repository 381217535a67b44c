// A local stand-in for Lambda's DynamoDB event source mapping: finds the table's stream,
// walks its shards in lineage order, gathers batches, invokes the handler with Lambda's
// event shape and ReportBatchItemFailures semantics, and keeps a checkpoint per shard.
// `animal-sync stream` runs it alone; `animal-sync local` starts it in-process.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';
import type { Logger } from '../log.ts';
import { makeDynamoClient, type AwsSettings } from '../stores/aws.ts';
import { gatherBatch } from './batching.ts';
import { CheckpointStore, initialCheckpoints, iteratorStartFor, STARTING_POSITIONS, type StartingPosition } from './checkpoints.ts';
import { makeStreamsClient } from './clients.ts';
import { deliverBatch, type StreamHandler } from './deliver.ts';
import { toLambdaRecord } from './event.ts';
import { acquireRunnerLock } from './lock.ts';
import { appendJsonLine, openHandlerLog } from './output.ts';
import { backoffMs } from './retry.ts';
import { findStreamArn, listShards, shardsReadyToRead, ShardReader, type ShardInfo } from './shards.ts';

export type { StartingPosition, StreamHandler };

/** Receives one JSON line, without a trailing newline (the handler's LineSink). */
export type LineSink = (line: string) => void;
/** Builds the handler around the runner's sink, like lambda/handler.ts's createHandler. */
export type HandlerFactory = (sink: LineSink) => StreamHandler;

export interface StreamRunnerOptions {
  /** SDK client settings (timeouts, attempts); the project's Config satisfies this. */
  aws: AwsSettings;
  /** Environment the SDK endpoints come from; default process.env. */
  env?: NodeJS.ProcessEnv;
  table: string;
  /** Checkpoints go to <stateDir>/stream/checkpoints.json. */
  stateDir: string;
  /** Handler log lines are appended here; default <stateDir>/lambda.log. */
  logFile?: string;
  /** Discarded batches are appended here; default <stateDir>/stream-failures.jsonl. */
  failureFile?: string;
  /** Most records per invocation; default 100 (Lambda: 1..10000). */
  batchSize?: number;
  /** Longest wait for a batch to fill, from its first record; default 500. */
  batchWindowMs?: number;
  /** Retries of a failed batch before it is discarded to the failure file; default 3. */
  maxRetries?: number;
  /** Where a stream never seen before is read from; default TRIM_HORIZON. */
  startingPosition?: StartingPosition;
  /** Default: createHandler from lambda/handler.ts. */
  handlerFactory?: HandlerFactory;
  /** Wait between GetRecords calls on an idle shard; default 250. */
  pollIntervalMs?: number;
  /** How often the shard list is refreshed (also after any shard ends); default 10000. */
  shardDiscoveryIntervalMs?: number;
  /** First delay before retrying a failed batch, doubling up to 30 s; default 1000. */
  retryDelayMs?: number;
  /** Also show each handler line here; default process.stdout, null = file only. */
  echo?: LineSink | null;
  log: Logger;
  /** Sees each batch just before the handler does (the gallery's live feed); must not throw. */
  onRecords?: (records: readonly DynamoDBRecord[]) => void;
  /** Prebuilt clients (tests, fault injection); otherwise built from `aws` and destroyed on stop. */
  clients?: { streams?: DynamoDBStreamsClient; dynamodb?: DynamoDBClient };
}

export interface StreamRunner {
  readonly streamArn: string;
  /** Stops polling, lets the in-flight batch finish, saves the checkpoints. Idempotent. */
  stop(): Promise<void>;
}

interface ResolvedOptions {
  table: string;
  logFile: string;
  failureFile: string;
  checkpointFile: string;
  lockFile: string;
  batchSize: number;
  batchWindowMs: number;
  maxRetries: number;
  startingPosition: StartingPosition;
  pollIntervalMs: number;
  shardDiscoveryIntervalMs: number;
  retryDelayMs: number;
}

function intOption(name: string, value: unknown, fallback: number, min: number, max: number): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new TypeError(`startStreamRunner: ${name} must be an integer between ${min} and ${max}, got ${JSON.stringify(value)}`);
  }
  return v;
}

export function resolveRunnerOptions(o: StreamRunnerOptions): Readonly<ResolvedOptions> {
  if (typeof o.table !== 'string' || o.table === '') throw new TypeError(`startStreamRunner: table must be a non-empty string, got ${JSON.stringify(o.table)}`);
  if (typeof o.stateDir !== 'string' || o.stateDir === '') throw new TypeError(`startStreamRunner: stateDir must be a non-empty string, got ${JSON.stringify(o.stateDir)}`);
  const startingPosition = o.startingPosition ?? 'TRIM_HORIZON';
  if (!STARTING_POSITIONS.includes(startingPosition)) {
    throw new TypeError(`startStreamRunner: startingPosition must be one of ${STARTING_POSITIONS.join(', ')}, got ${JSON.stringify(o.startingPosition)}`);
  }
  const stateDir = path.resolve(o.stateDir);
  return Object.freeze({
    table: o.table,
    logFile: path.resolve(o.logFile ?? path.join(stateDir, 'lambda.log')),
    failureFile: path.resolve(o.failureFile ?? path.join(stateDir, 'stream-failures.jsonl')),
    checkpointFile: path.join(stateDir, 'stream', 'checkpoints.json'),
    lockFile: path.join(stateDir, 'stream', 'runner.lock'),
    batchSize: intOption('batchSize', o.batchSize, 100, 1, 10_000),
    batchWindowMs: intOption('batchWindowMs', o.batchWindowMs, 500, 0, 300_000),
    maxRetries: intOption('maxRetries', o.maxRetries, 3, 0, 10_000),
    startingPosition,
    pollIntervalMs: intOption('pollIntervalMs', o.pollIntervalMs, 250, 1, 60_000),
    shardDiscoveryIntervalMs: intOption('shardDiscoveryIntervalMs', o.shardDiscoveryIntervalMs, 10_000, 1, 3_600_000),
    retryDelayMs: intOption('retryDelayMs', o.retryDelayMs, 1000, 0, 300_000),
  });
}

async function defaultHandlerFactory(): Promise<HandlerFactory> {
  // Loaded only when needed: the handler is bundled and deployed on its own.
  const { createHandler } = await import('../../lambda/handler.ts');
  return createHandler;
}

const RETRY_DELAY_CAP_MS = 30_000;
const READ_ERROR_CAP_MS = 10_000;

export async function startStreamRunner(opts: StreamRunnerOptions): Promise<StreamRunner> {
  const o = resolveRunnerOptions(opts);
  const log = opts.log.child({ component: 'stream', table: o.table });
  const env = opts.env ?? process.env;
  const ownStreams = !opts.clients?.streams;
  const ownDynamo = !opts.clients?.dynamodb;
  const streams = opts.clients?.streams ?? makeStreamsClient(opts.aws, env);
  const dynamodb = opts.clients?.dynamodb ?? makeDynamoClient(opts.aws, env);
  const closeClients = (): void => {
    if (ownStreams) streams.destroy();
    if (ownDynamo) dynamodb.destroy();
  };

  let lock: { release(): void } | undefined;
  let handlerLog: ReturnType<typeof openHandlerLog> | undefined;
  let streamArn: string;
  let store: CheckpointStore;
  let shards: ShardInfo[];
  let handler: StreamHandler;
  try {
    streamArn = await findStreamArn(dynamodb, o.table);
    await mkdir(path.dirname(o.lockFile), { recursive: true });
    lock = acquireRunnerLock(o.lockFile);
    store = await CheckpointStore.open(o.checkpointFile);
    shards = await listShards(streams, streamArn);
    if (!store.hasStream(streamArn)) {
      store.addStream(streamArn, o.table, o.startingPosition, initialCheckpoints(shards, o.startingPosition));
      await store.save();
    }
    handlerLog = openHandlerLog(o.logFile, opts.echo === undefined ? (line) => process.stdout.write(line + '\n') : opts.echo);
    handler = (opts.handlerFactory ?? (await defaultHandlerFactory()))(handlerLog.sink);
  } catch (err) {
    handlerLog?.close();
    lock?.release();
    closeClients();
    throw err;
  }
  const arn = streamArn;
  const sink = handlerLog;

  const stopping = new AbortController();
  const workers = new Map<string, Promise<void>>();
  // A shard that ends may have children to start: it asks for a shard listing at once.
  let wakeRequested = false;
  let wake: (() => void) | undefined;
  const requestWake = (): void => {
    wakeRequested = true;
    wake?.();
  };

  async function runShard(shard: ShardInfo): Promise<void> {
    const slog = log.child({ shardId: shard.shardId });
    const where = { table: o.table, streamArn: arn, shardId: shard.shardId };
    // After any error the shard is read again from its checkpoint: whatever was read but not
    // yet checkpointed is handed to the handler again (at least once, never lost).
    const newReader = (): ShardReader => new ShardReader(streams, arn, shard.shardId, iteratorStartFor(store.get(arn, shard.shardId)), slog);
    let reader = newReader();
    slog.info({ start: iteratorStartFor(store.get(arn, shard.shardId)) }, 'reading shard');
    for (let errors = 0; !stopping.signal.aborted; ) {
      try {
        const batch = await gatherBatch((limit) => reader.read(limit, stopping.signal), {
          batchSize: o.batchSize, windowMs: o.batchWindowMs, pollIntervalMs: o.pollIntervalMs, signal: stopping.signal,
        });
        if (batch.stopped) break;
        if (batch.records.length > 0) {
          const records = batch.records.map((r) => toLambdaRecord(r, arn));
          opts.onRecords?.(records);
          const result = await deliverBatch(records, {
            handler,
            checkpoint: async (seq) => {
              store.advance(arn, shard.shardId, seq);
              await store.save();
            },
            discard: (entry) => appendJsonLine(o.failureFile, entry),
            maxRetries: o.maxRetries,
            retryDelayMs: o.retryDelayMs,
            retryDelayCapMs: RETRY_DELAY_CAP_MS,
            signal: stopping.signal,
            log: slog,
            where,
          });
          if (result === 'stopped') break;
        }
        if (batch.ended) {
          store.finish(arn, shard.shardId);
          await store.save();
          slog.info('shard fully read');
          requestWake();
          return;
        }
        errors = 0;
      } catch (err) {
        if (stopping.signal.aborted) break;
        errors++;
        const delay = backoffMs(errors, Math.max(o.pollIntervalMs, 500), READ_ERROR_CAP_MS);
        slog.warn({ err: (err as Error).message, name: (err as Error).name, delayMs: delay }, 'stream read or delivery failed; reading again from the checkpoint');
        reader = newReader();
        await sleep(delay, undefined, { signal: stopping.signal }).catch(() => undefined);
      }
    }
  }

  function startReadyShards(): void {
    for (const shard of shardsReadyToRead(shards, (id) => store.isFinished(arn, id), new Set(workers.keys()))) {
      const done = runShard(shard)
        .catch((err: unknown) => log.error({ shardId: shard.shardId, err: (err as Error).message }, 'shard reader stopped'))
        .finally(() => workers.delete(shard.shardId));
      workers.set(shard.shardId, done);
    }
  }

  async function supervise(): Promise<void> {
    while (!stopping.signal.aborted) {
      startReadyShards();
      if (!wakeRequested) await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, o.shardDiscoveryIntervalMs);
        const done = (): void => {
          clearTimeout(timer);
          stopping.signal.removeEventListener('abort', done);
          wake = undefined;
          resolve();
        };
        wake = done;
        stopping.signal.addEventListener('abort', done);
      });
      wakeRequested = false;
      if (stopping.signal.aborted) break;
      try {
        shards = await listShards(streams, arn, stopping.signal);
      } catch (err) {
        if (!stopping.signal.aborted) log.warn({ err: (err as Error).message }, 'could not list the stream\'s shards; trying again later');
      }
    }
  }

  log.info({ streamArn: arn, logFile: o.logFile, failureFile: o.failureFile, checkpoints: o.checkpointFile, batchSize: o.batchSize, batchWindowMs: o.batchWindowMs, maxRetries: o.maxRetries }, 'stream runner started');
  const supervisor = supervise();
  let stopped: Promise<void> | undefined;

  return {
    streamArn: arn,
    stop() {
      stopped ??= (async () => {
        stopping.abort();
        await supervisor;
        await Promise.all([...workers.values()]);
        try {
          await store.save();
        } finally {
          sink.close();
          lock?.release();
          closeClients();
          log.info('stream runner stopped');
        }
      })();
      return stopped;
    },
  };
}
