// Pure: what an invocation's result means for the checkpoint, the way Lambda's event source
// mapping reads it with ReportBatchItemFailures on. No I/O, no clock.
//
// - No batchItemFailures (null, missing, empty, or no response at all): the batch succeeded,
//   checkpoint its last record.
// - Failures that name records of the batch: checkpoint just before the LOWEST failed
//   sequence number and retry from that record (it and only what follows it).
// - A failure with an empty, missing or unknown itemIdentifier, or a handler that threw:
//   the whole batch failed.
// - Once `maxRetries` retries are spent, the remaining records are discarded: described in
//   the on-failure file, then checkpointed past, so the stream moves on.

export type InvokeOutcome =
  | { kind: 'returned'; response: unknown }
  | { kind: 'threw'; error: unknown };

export type FailureReason =
  | { kind: 'function-error'; message: string }
  | { kind: 'partial-failure'; failedItemIdentifiers: string[] }
  | { kind: 'invalid-response'; message: string };

export type InvokePlan =
  /** Every record succeeded: checkpoint the last one. */
  | { action: 'done'; checkpoint: string }
  /** Checkpoint `checkpoint` (null: nothing of this batch succeeded) and invoke again with records[retryFrom..]. */
  | { action: 'retry'; checkpoint: string | null; retryFrom: number; reason: FailureReason }
  /** Retries spent: describe records[discardFrom..] in the on-failure file, then checkpoint past the batch. */
  | { action: 'discard'; checkpoint: string; discardFrom: number; reason: FailureReason };

function errorText(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

/** Where the batch failed, from the handler's outcome: -1 = nowhere, else the index of the first record to retry. */
export function firstFailedIndex(sequenceNumbers: readonly string[], outcome: InvokeOutcome): { index: number; reason: FailureReason | null } {
  if (outcome.kind === 'threw') return { index: 0, reason: { kind: 'function-error', message: errorText(outcome.error) } };
  const response = outcome.response;
  if (response === null || typeof response !== 'object') return { index: -1, reason: null };
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === null || failures === undefined) return { index: -1, reason: null };
  if (!Array.isArray(failures)) {
    return { index: 0, reason: { kind: 'invalid-response', message: `batchItemFailures is ${typeof failures}, not an array` } };
  }
  if (failures.length === 0) return { index: -1, reason: null };
  const position = new Map(sequenceNumbers.map((s, i) => [s, i]));
  const ids: string[] = [];
  let lowest = Number.POSITIVE_INFINITY;
  for (const f of failures) {
    const id = (f as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    const at = typeof id === 'string' ? position.get(id) : undefined;
    if (at === undefined) {
      return { index: 0, reason: { kind: 'invalid-response', message: `itemIdentifier ${JSON.stringify(id ?? null)} is not a sequence number of this batch` } };
    }
    ids.push(id as string);
    lowest = Math.min(lowest, at);
  }
  return { index: lowest, reason: { kind: 'partial-failure', failedItemIdentifiers: ids } };
}

/**
 * `sequenceNumbers`: the batch just invoked, in stream order. `retriesDone`: how many times
 * this batch (or what is left of it) has already been retried.
 */
export function planAfterInvoke(sequenceNumbers: readonly string[], outcome: InvokeOutcome, retriesDone: number, maxRetries: number): InvokePlan {
  const last = sequenceNumbers[sequenceNumbers.length - 1];
  if (last === undefined) throw new RangeError('planAfterInvoke: an empty batch was invoked');
  const { index, reason } = firstFailedIndex(sequenceNumbers, outcome);
  if (index < 0 || reason === null) return { action: 'done', checkpoint: last };
  if (retriesDone >= maxRetries) return { action: 'discard', checkpoint: last, discardFrom: index, reason };
  return { action: 'retry', checkpoint: index === 0 ? null : (sequenceNumbers[index - 1] as string), retryFrom: index, reason };
}

/** Delay before retry number `attempt` (1-based): base, 2×base, 4×base… capped. */
export function backoffMs(attempt: number, baseMs: number, capMs: number): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
}

export interface DiscardedRecord {
  eventID?: string | undefined;
  dynamodb?: { SequenceNumber?: string | undefined; ApproximateCreationDateTime?: number | undefined } | undefined;
}

/** One line of the on-failure file: enough to find and replay the batch by hand. */
export interface DiscardedBatch {
  time: string;
  condition: 'RetryAttemptsExhausted';
  table: string;
  streamArn: string;
  shardId: string;
  startSequenceNumber: string;
  endSequenceNumber: string;
  recordCount: number;
  eventIDs: (string | null)[];
  approximateInvokeCount: number;
  approximateArrivalOfFirstRecord: string | null;
  approximateArrivalOfLastRecord: string | null;
  error: FailureReason;
}

function arrival(r: DiscardedRecord | undefined): string | null {
  const s = r?.dynamodb?.ApproximateCreationDateTime;
  return typeof s === 'number' ? new Date(s * 1000).toISOString() : null;
}

export function describeDiscardedBatch(input: {
  records: readonly DiscardedRecord[];
  table: string;
  streamArn: string;
  shardId: string;
  invokeCount: number;
  reason: FailureReason;
  now: Date;
}): DiscardedBatch {
  const first = input.records[0];
  const last = input.records[input.records.length - 1];
  return {
    time: input.now.toISOString(),
    condition: 'RetryAttemptsExhausted',
    table: input.table,
    streamArn: input.streamArn,
    shardId: input.shardId,
    startSequenceNumber: first?.dynamodb?.SequenceNumber ?? '',
    endSequenceNumber: last?.dynamodb?.SequenceNumber ?? '',
    recordCount: input.records.length,
    eventIDs: input.records.map((r) => r.eventID ?? null),
    approximateInvokeCount: input.invokeCount,
    approximateArrivalOfFirstRecord: arrival(first),
    approximateArrivalOfLastRecord: arrival(last),
    error: input.reason,
  };
}
