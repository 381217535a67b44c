// Reading the table's stream: which stream (DescribeTable), which shards (DescribeStream,
// all pages), in which order (a child only after its parent is fully read), and the records
// of one shard (GetShardIterator + GetRecords), recovering from expired iterators and
// trimmed positions.
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type DynamoDBStreamsClient,
  type _Record as SdkRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type { Logger } from '../log.ts';
import { NotFoundError, UsageError } from '../errors.ts';
import type { IteratorStart } from './positions.ts';
import { compareSequenceNumbers, sequenceNumberOf } from './event.ts';

export interface ShardInfo {
  shardId: string;
  parentShardId: string | undefined;
  /** The shard has an EndingSequenceNumber: no record will be added to it. */
  closed: boolean;
}

function errorName(err: unknown): string {
  return (err as { name?: string } | null)?.name ?? '';
}

export async function findStreamArn(client: DynamoDBClient, table: string): Promise<string> {
  const res = await client.send(new DescribeTableCommand({ TableName: table })).catch((err: unknown) => {
    if (errorName(err) === 'ResourceNotFoundException') {
      throw new NotFoundError(`table ${table} does not exist; create it with \`animal-sync init\` (or check --table)`);
    }
    throw err;
  });
  const arn = res.Table?.LatestStreamArn;
  if (!arn || res.Table?.StreamSpecification?.StreamEnabled === false) {
    throw new UsageError(`table ${table} has no stream enabled; the stream runner needs StreamViewType NEW_AND_OLD_IMAGES`);
  }
  return arn;
}

/** Every shard of the stream: DescribeStream pages through them by ExclusiveStartShardId. */
export async function listShards(client: DynamoDBStreamsClient, streamArn: string, signal?: AbortSignal): Promise<ShardInfo[]> {
  const shards: ShardInfo[] = [];
  let start: string | undefined;
  do {
    const res = await client.send(new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: start }), { abortSignal: signal });
    const d = res.StreamDescription;
    for (const s of d?.Shards ?? []) {
      if (!s.ShardId) continue;
      shards.push({ shardId: s.ShardId, parentShardId: s.ParentShardId, closed: Boolean(s.SequenceNumberRange?.EndingSequenceNumber) });
    }
    start = d?.LastEvaluatedShardId;
  } while (start);
  return shards;
}

/**
 * Pure: the shards to start reading now. A shard waits for its parent to be fully read, so a
 * key's changes reach the handler in order across a shard split or rollover. A parent the
 * stream no longer lists has been trimmed away and is not waited for.
 */
export function shardsReadyToRead(shards: readonly ShardInfo[], isFinished: (shardId: string) => boolean, running: ReadonlySet<string>): ShardInfo[] {
  const listed = new Set(shards.map((s) => s.shardId));
  return shards.filter((s) => {
    if (isFinished(s.shardId) || running.has(s.shardId)) return false;
    const parent = s.parentShardId;
    return parent === undefined || !listed.has(parent) || isFinished(parent);
  });
}

export interface ReadPage {
  records: SdkRecord[];
  /** The shard is closed and everything in it has been returned. */
  ended: boolean;
}

/** Expired-iterator / trimmed-position recoveries within one read before the error is passed on. */
const MAX_RECOVERIES_PER_READ = 3;

/**
 * Reads one shard from a start position. It remembers the last sequence number it handed
 * out, so that an iterator that expires (15 minutes) is re-acquired AFTER that record, and it
 * never hands out a record at or before it again (also after falling back to TRIM_HORIZON).
 */
export class ShardReader {
  readonly shardId: string;
  private readonly client: DynamoDBStreamsClient;
  private readonly streamArn: string;
  private readonly log: Logger;
  private readonly start: IteratorStart;
  private iterator: string | undefined;
  private lastRead: string | undefined;
  private fromHorizon = false;
  private ended = false;

  constructor(client: DynamoDBStreamsClient, streamArn: string, shardId: string, start: IteratorStart, log: Logger) {
    this.client = client;
    this.streamArn = streamArn;
    this.shardId = shardId;
    this.start = start;
    this.log = log;
    if (start.type === 'skip') this.ended = true;
    if (start.type === 'AFTER_SEQUENCE_NUMBER') this.lastRead = start.sequenceNumber;
  }

  /** Sequence number of the last record returned (or of the start position). */
  get position(): string | undefined {
    return this.lastRead;
  }

  private async acquire(signal?: AbortSignal): Promise<string | undefined> {
    const type = this.fromHorizon ? 'TRIM_HORIZON' : this.lastRead !== undefined ? 'AFTER_SEQUENCE_NUMBER' : this.start.type;
    if (type === 'skip') return undefined;
    const res = await this.client.send(new GetShardIteratorCommand({
      StreamArn: this.streamArn,
      ShardId: this.shardId,
      ShardIteratorType: type,
      SequenceNumber: type === 'AFTER_SEQUENCE_NUMBER' ? this.lastRead : undefined,
    }), { abortSignal: signal });
    return res.ShardIterator;
  }

  async read(limit: number, signal?: AbortSignal): Promise<ReadPage> {
    for (let recoveries = 0; ; recoveries++) {
      if (this.ended) return { records: [], ended: true };
      try {
        if (this.iterator === undefined) {
          this.iterator = await this.acquire(signal);
          if (this.iterator === undefined) {
            this.ended = true;
            continue;
          }
        }
        const res = await this.client.send(
          new GetRecordsCommand({ ShardIterator: this.iterator, Limit: Math.min(1000, Math.max(1, limit)) }),
          { abortSignal: signal },
        );
        const after = this.lastRead;
        const records = (res.Records ?? []).filter((r) => after === undefined || compareSequenceNumbers(sequenceNumberOf(r), after) > 0);
        const last = records[records.length - 1];
        if (last) this.lastRead = sequenceNumberOf(last);
        this.fromHorizon = false;
        this.iterator = res.NextShardIterator;
        if (this.iterator === undefined) this.ended = true;
        return { records, ended: this.ended };
      } catch (err) {
        const name = errorName(err);
        if (recoveries >= MAX_RECOVERIES_PER_READ) throw err;
        if (name === 'ExpiredIteratorException') {
          this.log.info({ shardId: this.shardId, after: this.lastRead ?? null }, 'shard iterator expired; acquiring a new one');
          this.iterator = undefined;
          continue;
        }
        if (name === 'TrimmedDataAccessException') {
          // The position is older than the stream keeps (24 h): what lay between is gone.
          // Go on from the oldest record still there, skipping anything already handed out.
          this.log.warn({ shardId: this.shardId, after: this.lastRead ?? null }, 'stream records were trimmed before they were read; continuing from the oldest record left');
          this.fromHorizon = true;
          this.iterator = undefined;
          continue;
        }
        if (name === 'ResourceNotFoundException') {
          this.log.warn({ shardId: this.shardId, err: (err as Error).message }, 'shard no longer exists; treating it as fully read');
          this.ended = true;
          continue;
        }
        throw err;
      }
    }
  }
}
