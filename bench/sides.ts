// The two sides of a timed run, each into a fresh bucket (and, for animal-sync, a fresh
// table and state dir) so that no run finds the work of another: animal-sync's first
// `sync --once`, and `rclone copy --transfers N` of the same inbox.
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { BIN } from '../tests/helpers/cli.ts';
import { timeCommand, type TimedRun } from './child.ts';
import { cpuSeconds } from './proc.ts';
import type { BenchServers } from './servers.ts';

export interface Endpoints {
  s3: string;
  dynamodb: string;
}

let runs = 0;

export interface Measured extends TimedRun {
  /** CPU seconds the emulators used while the command ran (not the product's cost). */
  jvmS: number;
  s3rverS: number;
}

async function timedAgainst(servers: BenchServers, cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Measured> {
  const jvm0 = cpuSeconds(servers.dynamodbPid());
  const s3rver0 = cpuSeconds(servers.s3Pid);
  const run = await timeCommand(cmd, args, env);
  return { ...run, jvmS: cpuSeconds(servers.dynamodbPid()) - jvm0, s3rverS: cpuSeconds(servers.s3Pid) - s3rver0 };
}

export function syncEnv(servers: BenchServers, at: Endpoints, inbox: string, bucket: string, table: string, stateDir: string): NodeJS.ProcessEnv {
  return {
    ...process.env, ...servers.env, AWS_ENDPOINT_URL_S3: at.s3, AWS_ENDPOINT_URL_DYNAMODB: at.dynamodb, AWS_ENDPOINT_URL_DYNAMODB_STREAMS: at.dynamodb,
    ANIMAL_SYNC_LOG_LEVEL: 'warn', ANIMAL_SYNC_INBOX: inbox, ANIMAL_SYNC_STATE_DIR: stateDir, ANIMAL_SYNC_BUCKET: bucket, ANIMAL_SYNC_TABLE: table,
  };
}

/** A first sync into a fresh bucket and table; the state dir is kept for the no-change runs. */
export async function firstSync(servers: BenchServers, at: Endpoints, inbox: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<Measured & { env: NodeJS.ProcessEnv; drop(): Promise<void> }> {
  const fresh = await servers.fresh(`Sync${++runs}`);
  const env = { ...syncEnv(servers, at, inbox, fresh.bucket, fresh.table, mkdtempSync(path.join(servers.dataDir, 'state-'))), ...extraEnv };
  const run = await timedAgainst(servers, BIN, ['sync', '--once', '--json'], env);
  if (run.code !== 0) throw new Error(`sync --once failed (exit ${run.code}): ${run.stderr.slice(-2000)}`);
  const summary = JSON.parse(run.stdout) as { uploaded: number; failed: number };
  if (summary.failed > 0) throw new Error(`sync --once: ${summary.failed} file(s) failed`);
  return { ...run, env, drop: fresh.drop };
}

export async function rcloneCopy(servers: BenchServers, at: Endpoints, inbox: string, transfers: number): Promise<Measured> {
  const fresh = await servers.fresh(`Rclone${++runs}`, { table: false });
  const env: NodeJS.ProcessEnv = {
    ...process.env, RCLONE_CONFIG_BENCH_TYPE: 's3', RCLONE_CONFIG_BENCH_PROVIDER: 'Other', RCLONE_CONFIG_BENCH_ACCESS_KEY_ID: 'S3RVER',
    RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY: 'S3RVER', RCLONE_CONFIG_BENCH_ENDPOINT: at.s3, RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE: 'true',
  };
  // rclone's S3 back end fails on a CA bundle it is handed through the AWS variables.
  delete env.AWS_CA_BUNDLE;
  const run = await timedAgainst(servers, 'rclone', ['copy', '--transfers', String(transfers), '--exclude', '.animal-sync-inbox', inbox, `bench:${fresh.bucket}`], env);
  if (run.code !== 0) throw new Error(`rclone copy failed (exit ${run.code}): ${run.stderr.slice(-2000)}`);
  return run;
}

export function hasRclone(): Promise<boolean> {
  return timeCommand('rclone', ['version'], process.env).then((r) => r.code === 0, () => false);
}
