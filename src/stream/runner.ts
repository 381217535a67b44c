// A local stand-in for Lambda's DynamoDB event source mapping: finds the table's stream,
// walks its shards in lineage order, gathers batches, invokes the handler with Lambda's
// event shape and ReportBatchItemFailures semantics, and keeps a checkpoint per shard.
// `animal-sync stream` runs it alone; `animal-sync local` starts it in-process.
//
// The parts: openRunner (stream, lock, checkpoints, handler log, handler; all or nothing),
// a supervisor that starts a worker per shard that is ready (shard-worker.ts) and lists the
// shards again on a timer or when a shard ends, and stop.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { Logger } from '../log.ts';
import { makeDynamoClient } from '../stores/aws.ts';
import { CheckpointStore, initialCheckpoints } from './checkpoints.ts';
import { makeStreamsClient } from './clients.ts';
import type { StreamHandler } from './deliver.ts';
import { acquireRunnerLock } from './lock.ts';
import { resolveRunnerOptions, type HandlerFactory, type ResolvedOptions, type StreamRunnerOptions } from './options.ts';
import { openHandlerLog, type HandlerLog } from './output.ts';
import type { StartingPosition } from './positions.ts';
import { readShard, type ShardWorkerDeps } from './shard-worker.ts';
import { findStreamArn, listShards, shardsReadyToRead, type ShardInfo } from './shards.ts';

export type { HandlerFactory, LineSink, StreamRunnerOptions } from './options.ts';
export type { StartingPosition, StreamHandler };

export interface StreamRunner {
  readonly streamArn: string;
  /** Stops polling, lets the in-flight batch finish, saves the checkpoints. Idempotent. */
  stop(): Promise<void>;
}

async function defaultHandlerFactory(): Promise<HandlerFactory> {
  // Loaded only when needed: the handler is bundled and deployed on its own.
  const { createHandler } = await import('../../lambda/handler.ts');
  return createHandler;
}

interface OpenRunner {
  streamArn: string;
  store: CheckpointStore;
  shards: ShardInfo[];
  handler: StreamHandler;
  handlerLog: HandlerLog;
  lock: { release(): void };
}

/** Everything the runner holds, acquired in order; on a failure, what was acquired is let go. */
async function openRunner(o: Readonly<ResolvedOptions>, opts: StreamRunnerOptions, streams: DynamoDBStreamsClient, dynamodb: DynamoDBClient): Promise<OpenRunner> {
  let lock: { release(): void } | undefined;
  let handlerLog: HandlerLog | undefined;
  try {
    const streamArn = await findStreamArn(dynamodb, o.table);
    await mkdir(path.dirname(o.lockFile), { recursive: true });
    lock = acquireRunnerLock(o.lockFile);
    const store = await CheckpointStore.open(o.checkpointFile);
    const shards = await listShards(streams, streamArn);
    if (!store.hasStream(streamArn)) {
      store.addStream(streamArn, o.table, o.startingPosition, initialCheckpoints(shards, o.startingPosition));
      await store.save();
    }
    handlerLog = openHandlerLog(o.logFile, opts.echo === undefined ? (line) => process.stdout.write(line + '\n') : opts.echo);
    const handler = (opts.handlerFactory ?? (await defaultHandlerFactory()))(handlerLog.sink);
    return { streamArn, store, shards, handler, handlerLog, lock };
  } catch (err) {
    handlerLog?.close();
    lock?.release();
    throw err;
  }
}

/**
 * Requests for an early shard listing (a shard that ends may have children to start). A
 * request made while the supervisor is busy is kept for its next wait.
 */
class ListingRequests {
  private pending = false;
  private waiting: AbortController | undefined;

  request(): void {
    this.pending = true;
    this.waiting?.abort();
  }

  /** Waits `ms`, or less if a listing is requested or the runner stops. */
  async wait(ms: number, stopping: AbortSignal): Promise<void> {
    if (!this.pending) {
      this.waiting = new AbortController();
      await sleep(ms, undefined, { signal: AbortSignal.any([stopping, this.waiting.signal]) }).catch(() => undefined);
      this.waiting = undefined;
    }
    this.pending = false;
  }
}

/** Starts a worker for every shard that is ready, and lists the shards again until stopped. */
async function supervise(deps: ShardWorkerDeps, initialShards: ShardInfo[], workers: Map<string, Promise<void>>, log: Logger): Promise<void> {
  const { streamArn, store, stopping } = deps;
  const listings = new ListingRequests();
  let shards = initialShards;
  while (!stopping.aborted) {
    for (const shard of shardsReadyToRead(shards, (id) => store.isFinished(streamArn, id), new Set(workers.keys()))) {
      const done = readShard(deps, shard)
        .then((end) => { if (end === 'ended') listings.request(); })
        .catch((err: unknown) => log.error({ shardId: shard.shardId, err: (err as Error).message }, 'shard reader stopped'))
        .finally(() => workers.delete(shard.shardId));
      workers.set(shard.shardId, done);
    }
    await listings.wait(deps.options.shardDiscoveryIntervalMs, stopping);
    if (stopping.aborted) break;
    try {
      shards = await listShards(deps.streams, streamArn, stopping);
    } catch (err) {
      if (!stopping.aborted) log.warn({ err: (err as Error).message }, 'could not list the stream\'s shards; trying again later');
    }
  }
}

export async function startStreamRunner(opts: StreamRunnerOptions): Promise<StreamRunner> {
  const o = resolveRunnerOptions(opts);
  const componentLog = opts.log.child({ component: 'stream' });
  const log = componentLog.child({ table: o.table });
  const streams = opts.clients?.streams ?? makeStreamsClient(opts.aws);
  const dynamodb = opts.clients?.dynamodb ?? makeDynamoClient(opts.aws);
  const closeClients = (): void => {
    if (!opts.clients?.streams) streams.destroy();
    if (!opts.clients?.dynamodb) dynamodb.destroy();
  };
  const open = await openRunner(o, opts, streams, dynamodb).catch((err: unknown) => {
    closeClients();
    throw err;
  });
  const stopping = new AbortController();
  const deps: ShardWorkerDeps = { options: o, streams, streamArn: open.streamArn, store: open.store, handler: open.handler, log: componentLog, stopping: stopping.signal };
  const workers = new Map<string, Promise<void>>();

  // The details at debug; info says only that it runs (a newcomer's first screen stays short).
  log.info({ streamArn: open.streamArn }, 'stream runner started');
  log.debug({ logFile: o.logFile, failureFile: o.failureFile, checkpoints: o.checkpointFile, batchSize: o.batchSize, batchWindowMs: o.batchWindowMs, maxRetries: o.maxRetries }, 'stream runner settings');
  const supervisor = supervise(deps, open.shards, workers, log);
  let stopped: Promise<void> | undefined;

  return {
    streamArn: open.streamArn,
    stop() {
      stopped ??= (async () => {
        stopping.abort();
        await supervisor;
        await Promise.all([...workers.values()]);
        try {
          await open.store.save();
        } finally {
          open.handlerLog.close();
          open.lock.release();
          closeClients();
          log.info('stream runner stopped');
        }
      })();
      return stopped;
    },
  };
}
