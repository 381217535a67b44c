// One shard, read to its end: gather a batch, deliver it (src/stream/deliver.ts), checkpoint,
// and after any read or delivery error start again from the checkpoint.
import { setTimeout as sleep } from 'node:timers/promises';
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { Logger } from '../log.ts';
import { gatherBatch } from './batching.ts';
import type { CheckpointStore } from './checkpoints.ts';
import { deliverBatch, type StreamHandler } from './deliver.ts';
import { toLambdaRecord } from './event.ts';
import type { ResolvedOptions } from './options.ts';
import { appendJsonLine } from './output.ts';
import { iteratorStartFor } from './positions.ts';
import { backoffMs } from './retry.ts';
import { ShardReader, type ShardInfo } from './shards.ts';

const RETRY_DELAY_CAP_MS = 30_000;
const READ_ERROR_CAP_MS = 10_000;

/** What every shard worker of one runner shares. */
export interface ShardWorkerDeps {
  options: Readonly<ResolvedOptions>;
  streams: DynamoDBStreamsClient;
  streamArn: string;
  store: CheckpointStore;
  handler: StreamHandler;
  /**
   * Bound to the component only: deliverBatch puts table, stream and shard into each of its
   * lines itself, and a key bound twice is written twice.
   */
  log: Logger;
  stopping: AbortSignal;
}

/**
 * Returns when the shard is fully read and checkpointed as finished ('ended'), or when the
 * runner stops ('stopped').
 */
export async function readShard(deps: ShardWorkerDeps, shard: ShardInfo): Promise<'ended' | 'stopped'> {
  const { options: o, streamArn, store, stopping } = deps;
  const shardId = shard.shardId;
  const slog = deps.log.child({ table: o.table, shardId });
  // The reader names the shard in its own lines.
  const readerLog = deps.log.child({ table: o.table });
  // After any error the shard is read again from its checkpoint: whatever was read but not
  // yet checkpointed is handed to the handler again (at least once, never lost).
  const readerFromCheckpoint = (): ShardReader => new ShardReader(deps.streams, streamArn, shardId, iteratorStartFor(store.get(streamArn, shardId)), readerLog);
  let reader = readerFromCheckpoint();
  slog.debug({ start: iteratorStartFor(store.get(streamArn, shardId)) }, 'reading shard');
  for (let errors = 0; !stopping.aborted; ) {
    try {
      const batch = await gatherBatch((limit) => reader.read(limit, stopping), {
        batchSize: o.batchSize, windowMs: o.batchWindowMs, pollIntervalMs: o.pollIntervalMs, signal: stopping,
      });
      if (batch.stopped) break;
      if (batch.records.length > 0) {
        const records = batch.records.map((r) => toLambdaRecord(r, streamArn));
        o.onRecords?.(records);
        const result = await deliverBatch(records, {
          handler: deps.handler,
          checkpoint: async (seq) => {
            store.advance(streamArn, shardId, seq);
            await store.save();
          },
          discard: (entry) => appendJsonLine(o.failureFile, entry),
          maxRetries: o.maxRetries,
          retryDelayMs: o.retryDelayMs,
          retryDelayCapMs: RETRY_DELAY_CAP_MS,
          signal: stopping,
          log: deps.log,
          where: { table: o.table, streamArn, shardId },
        });
        if (result === 'stopped') break;
      }
      if (batch.ended) {
        store.finish(streamArn, shardId);
        await store.save();
        slog.info('shard fully read');
        return 'ended';
      }
      errors = 0;
    } catch (err) {
      if (stopping.aborted) break;
      errors++;
      const delay = backoffMs(errors, Math.max(o.pollIntervalMs, 500), READ_ERROR_CAP_MS);
      slog.warn({ err: (err as Error).message, name: (err as Error).name, delayMs: delay }, 'stream read or delivery failed; reading again from the checkpoint');
      reader = readerFromCheckpoint();
      await sleep(delay, undefined, { signal: stopping }).catch(() => undefined);
    }
  }
  return 'stopped';
}
