// Where reading a shard starts, and what a checkpoint records about a shard: the vocabulary
// that the checkpoint file (checkpoints.ts) and the shard reader (shards.ts) share.

export type StartingPosition = 'TRIM_HORIZON' | 'LATEST';
export const STARTING_POSITIONS: readonly StartingPosition[] = ['TRIM_HORIZON', 'LATEST'];

export interface ShardCheckpoint {
  /** Last sequence number whose record was fully processed (or discarded to the failure file). */
  sequenceNumber?: string;
  /** The shard is closed and every record of it was processed: its children may start. */
  finished?: boolean;
  /** First start at LATEST and no record seen on this open shard yet. */
  latest?: boolean;
  updatedAt?: string;
}

export type IteratorStart =
  | { type: 'skip' }
  | { type: 'TRIM_HORIZON' }
  | { type: 'LATEST' }
  | { type: 'AFTER_SEQUENCE_NUMBER'; sequenceNumber: string };

/**
 * Pure: where reading a shard starts. A shard nobody has a checkpoint for is read from its
 * beginning: either this is the first start at TRIM_HORIZON, or it is a child shard that
 * appeared after its parent, and a child always starts at its first record.
 */
export function iteratorStartFor(cp: ShardCheckpoint | undefined): IteratorStart {
  if (cp?.finished) return { type: 'skip' };
  if (cp?.sequenceNumber) return { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: cp.sequenceNumber };
  if (cp?.latest) return { type: 'LATEST' };
  return { type: 'TRIM_HORIZON' };
}
