// The invoke/retry loop for one batch: invoke, read the response (src/stream/retry.ts),
// checkpoint what succeeded, retry from the lowest failure, and after the last retry write
// the rest to the on-failure file and move on.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { Logger } from '../log.ts';
import { sequenceNumberOf } from './event.ts';
import { invocationContext } from './lambda-context.ts';
import { backoffMs, describeDiscardedBatch, planAfterInvoke, type DiscardedBatch, type InvokeOutcome } from './retry.ts';

/** Called as Lambda calls a function: the event, and a context describing the invocation. */
export type StreamHandler = (event: DynamoDBStreamEvent, context: Context) => unknown;

export interface DeliverDeps {
  handler: StreamHandler;
  /** Records `sequenceNumber` as fully processed, durably. */
  checkpoint(sequenceNumber: string): Promise<void>;
  /** Appends one description of a discarded batch, durably. */
  discard(batch: DiscardedBatch): Promise<void>;
  maxRetries: number;
  retryDelayMs: number;
  retryDelayCapMs: number;
  /** Stops further retries (the in-flight invocation always finishes). */
  signal: AbortSignal;
  log: Logger;
  where: { table: string; streamArn: string; shardId: string };
  now?: () => Date;
}

async function invoke(handler: StreamHandler, records: DynamoDBRecord[], streamArn: string): Promise<InvokeOutcome> {
  try {
    // A fresh array per invocation: a handler that mutates its event cannot change a retry.
    const event = { Records: records.map((r) => structuredClone(r)) };
    return { kind: 'returned', response: await handler(event, invocationContext({ streamArn, startedAt: Date.now() })) };
  } catch (error) {
    return { kind: 'threw', error };
  }
}

/**
 * Returns 'delivered' once every record was processed or discarded (and checkpointed), or
 * 'stopped' when a stop came between retries; the checkpoint then sits just before the
 * first record still to retry, so a restart retries exactly that.
 */
export async function deliverBatch(records: readonly DynamoDBRecord[], deps: DeliverDeps): Promise<'delivered' | 'stopped'> {
  const now = deps.now ?? (() => new Date());
  let batch = [...records];
  for (let retriesDone = 0, invokes = 1; ; retriesDone++, invokes++) {
    const outcome = await invoke(deps.handler, batch, deps.where.streamArn);
    const plan = planAfterInvoke(batch.map(sequenceNumberOf), outcome, retriesDone, deps.maxRetries);
    const where = { ...deps.where, first: sequenceNumberOf(batch[0] as DynamoDBRecord), records: batch.length };
    switch (plan.action) {
      case 'done':
        await deps.checkpoint(plan.checkpoint);
        return 'delivered';
      case 'discard': {
        const rest = batch.slice(plan.discardFrom);
        // The failure line is written before the checkpoint passes the batch: a crash in
        // between repeats the line, it never loses it.
        await deps.discard(describeDiscardedBatch({ records: rest, ...deps.where, invokeCount: invokes, reason: plan.reason, now: now() }));
        await deps.checkpoint(plan.checkpoint);
        deps.log.error({ ...where, discarded: rest.length, invokes, reason: plan.reason }, 'retries exhausted; batch written to the on-failure file and skipped');
        return 'delivered';
      }
      case 'retry': {
        if (plan.checkpoint !== null) await deps.checkpoint(plan.checkpoint);
        batch = batch.slice(plan.retryFrom);
        const delay = backoffMs(retriesDone + 1, deps.retryDelayMs, deps.retryDelayCapMs);
        deps.log.warn({ ...where, reason: plan.reason, retry: retriesDone + 1, of: deps.maxRetries, retryRecords: batch.length, delayMs: delay }, 'batch failed; retrying from the lowest failed record');
        if (deps.signal.aborted) return 'stopped';
        try {
          await sleep(delay, undefined, { signal: deps.signal });
        } catch {
          return 'stopped';
        }
      }
    }
  }
}
