// Gathering a batch the way an event source mapping does: records accumulate until the
// batch is full, the batching window (counted from the first record) has passed, or the
// shard has ended; an idle shard is polled every `pollIntervalMs`.
import { setTimeout as sleep } from 'node:timers/promises';
import type { _Record as SdkRecord } from '@aws-sdk/client-dynamodb-streams';
import type { ReadPage } from './shards.ts';

export interface BatchState {
  count: number;
  batchSize: number;
  /** When the first record of the batch arrived; null while the batch is empty. */
  firstRecordAtMs: number | null;
  nowMs: number;
  windowMs: number;
  shardEnded: boolean;
}

/** Pure: is it time to invoke the handler with what has been gathered? */
export function batchIsDue(s: BatchState): boolean {
  if (s.count >= s.batchSize) return true;
  if (s.count === 0 || s.firstRecordAtMs === null) return false;
  return s.shardEnded || s.nowMs - s.firstRecordAtMs >= s.windowMs;
}

/** Pure: how long to wait before polling again (never past the end of the window). */
export function pollDelayMs(s: Pick<BatchState, 'firstRecordAtMs' | 'nowMs' | 'windowMs'> & { pollIntervalMs: number }): number {
  if (s.firstRecordAtMs === null) return s.pollIntervalMs;
  const left = s.firstRecordAtMs + s.windowMs - s.nowMs;
  return Math.max(1, Math.min(s.pollIntervalMs, left));
}

export interface GatherOptions {
  batchSize: number;
  windowMs: number;
  pollIntervalMs: number;
  signal: AbortSignal;
  now?: () => number;
}

export interface GatheredBatch {
  records: SdkRecord[];
  /** The shard ended: these are its last records (possibly none). */
  ended: boolean;
  /** Stopped before the batch was due; the records were read but are not to be invoked. */
  stopped: boolean;
}

export async function gatherBatch(read: (limit: number) => Promise<ReadPage>, opts: GatherOptions): Promise<GatheredBatch> {
  const now = opts.now ?? Date.now;
  const records: SdkRecord[] = [];
  let firstRecordAtMs: number | null = null;
  for (;;) {
    if (opts.signal.aborted) return { records, ended: false, stopped: true };
    const page = await read(opts.batchSize - records.length);
    if (page.records.length > 0 && firstRecordAtMs === null) firstRecordAtMs = now();
    records.push(...page.records);
    const state = { count: records.length, batchSize: opts.batchSize, firstRecordAtMs, nowMs: now(), windowMs: opts.windowMs, shardEnded: page.ended };
    if (page.ended || batchIsDue(state)) return { records, ended: page.ended, stopped: false };
    // A page with records may have more behind it: read again at once.
    if (page.records.length > 0) continue;
    try {
      await sleep(pollDelayMs({ ...state, pollIntervalMs: opts.pollIntervalMs }), undefined, { signal: opts.signal });
    } catch {
      return { records, ended: false, stopped: true };
    }
  }
}
