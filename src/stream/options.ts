// The stream runner's options: what a caller may set, and the frozen, checked values the
// runner works with (a TypeError names the option, what it expected and what it got).
import path from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';
import type { Logger } from '../log.ts';
import type { AwsSettings } from '../stores/aws.ts';
import type { StreamHandler } from './deliver.ts';
import { STARTING_POSITIONS, type StartingPosition } from './positions.ts';

/** Receives one JSON line, without a trailing newline (the handler's LineSink). */
export type LineSink = (line: string) => void;
/** Builds the handler around the runner's sink, like lambda/handler.ts's createHandler. */
export type HandlerFactory = (sink: LineSink) => StreamHandler;

export interface StreamRunnerOptions {
  /** SDK client settings (timeouts, attempts); the project's Config satisfies this. */
  aws: AwsSettings;
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

export interface ResolvedOptions {
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
  onRecords: ((records: readonly DynamoDBRecord[]) => void) | undefined;
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
    onRecords: o.onRecords,
  });
}
