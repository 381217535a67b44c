// Restore against rclone: `animal-sync restore` of a catalogued set into an empty folder, and
// `rclone copy --transfers 8 --fast-list` of the same objects from the bucket to a folder,
// interleaved R times (the order alternates), each into a fresh folder, best of R for each side.
// Folders are removed only at the end: this disk creates files slowly for minutes after many
// were deleted, which would penalise whichever side runs next.
// bench/bench.ts calls benchRestore after its rounds, on the last first sync's bucket and table.
// On its own, for iterating on restore (starts the servers, catalogues the set with one
// sync --once, then measures):
//   node bench/restore.ts [--files N] [--size BYTES] [--runs R] [--profile DIR] [--only ours|rclone]
// --profile writes a --cpu-prof of every animal-sync restore into DIR.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BIN } from '../tests/helpers/cli.ts';
import { timeCommand, type TimedRun } from './child.ts';
import { cpuSeconds } from './proc.ts';
import type { BenchServers } from './servers.ts';
import type { Endpoints } from './sides.ts';

export interface RestoreBenchInput {
  servers: BenchServers;
  at: Endpoints;
  /** The environment of the sync that catalogued the set (bucket, table, host). */
  env: NodeJS.ProcessEnv;
  /** Where the restored folders go (removed with it by the caller). */
  root: string;
  files: number;
  runs: number;
  withRclone: boolean;
  /** Extra environment of our runs only (NODE_OPTIONS=--cpu-prof ...). */
  oursEnv?: NodeJS.ProcessEnv;
  skip?: 'ours' | 'rclone';
}

type Run = TimedRun & { s3rverS: number };

export interface RestoreFigures {
  files: number;
  ours: Run[];
  rclone: Run[];
}

function countFiles(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) if (e.isFile() && !e.name.startsWith('.')) n++;
  return n;
}

function bucketOf(env: NodeJS.ProcessEnv): string {
  if (!env.ANIMAL_SYNC_BUCKET) throw new Error('benchRestore: the sync environment names no ANIMAL_SYNC_BUCKET');
  return env.ANIMAL_SYNC_BUCKET;
}

/** rclone's remote "src" is the bench's S3 endpoint, configured by environment only. */
function rcloneEnvFor(at: Endpoints): NodeJS.ProcessEnv {
  const { AWS_CA_BUNDLE: _caBundle, ...rest } = process.env; // rclone's S3 back end fails on a CA bundle handed to it this way
  const remote = { TYPE: 's3', PROVIDER: 'Other', ACCESS_KEY_ID: 'S3RVER', SECRET_ACCESS_KEY: 'S3RVER', ENDPOINT: at.s3, FORCE_PATH_STYLE: 'true' };
  return { ...rest, ...Object.fromEntries(Object.entries(remote).map(([k, v]) => [`RCLONE_CONFIG_SRC_${k}`, v])) };
}

export async function benchRestore(o: RestoreBenchInput): Promise<RestoreFigures> {
  const figures: RestoreFigures = { files: o.files, ours: [], rclone: [] };
  const timed = async (cmd: string, args: string[], env: NodeJS.ProcessEnv, dest: string, what: string): Promise<Run> => {
    const s3rver0 = cpuSeconds(o.servers.s3Pid);
    const run = await timeCommand(cmd, args, env);
    const s3rverS = cpuSeconds(o.servers.s3Pid) - s3rver0;
    if (run.code !== 0) throw new Error(`${what} failed (exit ${run.code}): ${run.stderr.slice(-2000)}`);
    // A count check keeps the comparison fair: an rclone that copied nothing is fast too.
    const wrote = countFiles(dest);
    if (wrote !== o.files) throw new Error(`${what} wrote ${wrote} files into ${dest}, expected ${o.files}`);
    console.log(`  ${what.padEnd(8)} ${(run.ms / 1000).toFixed(2)} s, CPU ${run.cpuS.toFixed(2)} s, peak RSS ${run.rssMiB.toFixed(0)} MiB; s3rver ${s3rverS.toFixed(1)} s`);
    return { ...run, s3rverS };
  };
  const ours = async (n: number): Promise<void> => {
    const dest = path.join(o.root, `restored-${n}`);
    figures.ours.push(await timed(BIN, ['restore', '--to', dest, '--json'], { ...o.env, ...o.oursEnv }, dest, 'restore'));
  };
  // --fast-list: one recursive listing. Without it rclone lists folder by folder with a
  // Delimiter, and s3rver reports no common prefix for keys nested two levels deep: rclone
  // then copies nothing (exit 0, in well under a second).
  const rclone = async (n: number): Promise<void> => {
    const dest = path.join(o.root, `rclone-restore-${n}`);
    figures.rclone.push(await timed('rclone', ['copy', '--transfers', '8', '--fast-list', `src:${bucketOf(o.env)}/animals`, dest], rcloneEnvFor(o.at), dest, 'rclone 8'));
  };
  const sides = [...(o.skip === 'ours' ? [] : [ours]), ...(o.withRclone && o.skip !== 'rclone' ? [rclone] : [])];
  for (let r = 0; r < o.runs; r++) {
    console.log(`restore round ${r + 1} of ${o.runs}`);
    for (let k = 0; k < sides.length; k++) await sides[(k + r) % sides.length]!(r + 1);
  }
  return figures;
}

/** Rows for bench.ts's table: measure | animal-sync | rclone 8 | rclone 4 | ratio | goal. */
export function restoreRows(f: RestoreFigures): string[][] {
  const best = (runs: Run[], key: 'ms' | 'cpuS' | 'rssMiB'): number => Math.min(...runs.map((r) => r[key]));
  const has = f.ours.length > 0 && f.rclone.length > 0;
  const ratio = (key: 'ms' | 'cpuS'): string => (has ? `${(best(f.ours, key) / best(f.rclone, key)).toFixed(2)}×` : 'n/a');
  const cell = (runs: Run[], text: (r: Run[]) => string): string => (runs.length ? text(runs) : 'n/a');
  const wall = (runs: Run[]): string => `${(best(runs, 'ms') / 1000).toFixed(2)} s (${(f.files / (best(runs, 'ms') / 1000)).toFixed(0)} files/s)`;
  const cpu = (runs: Run[]): string => `${best(runs, 'cpuS').toFixed(2)} s`;
  const rss = (runs: Run[]): string => `${best(runs, 'rssMiB').toFixed(0)} MiB`;
  return [
    [`restore ${f.files} files, wall (best)`, cell(f.ours, wall), cell(f.rclone, wall), '', ratio('ms'), '≤ 1.0× rclone copy --transfers 8'],
    ['restore, client CPU user+sys (best)', cell(f.ours, cpu), cell(f.rclone, cpu), '', ratio('cpuS'), ''],
    ['restore, client peak RSS (best)', cell(f.ours, rss), cell(f.rclone, rss), '', '', '≤ 128 MiB'],
  ];
}

async function main(): Promise<void> {
  const { values: a } = parseArgs({ options: { files: { type: 'string' }, size: { type: 'string' }, runs: { type: 'string' }, profile: { type: 'string' }, only: { type: 'string' } } });
  const files = Number(a.files ?? 2000);
  const size = Number(a.size ?? 64 * 1024);
  const { benchInbox } = await import('./inbox.ts');
  const { startBenchServers } = await import('./servers.ts');
  const { firstSync, hasRclone } = await import('./sides.ts');
  // Our runs take the bundle, as in bench.ts (bin/animal-sync falls back to the sources when it is stale).
  if (spawnSync('npm', ['run', 'build', '--silent'], { cwd: path.join(path.dirname(BIN), '..'), stdio: 'inherit' }).status !== 0) throw new Error('npm run build failed');
  const inbox = benchInbox(files, size);
  const root = mkdtempSync(path.join(os.tmpdir(), 'animal-sync-bench-restore-'));
  const servers = await startBenchServers({ dataDir: root, dynamodb: 'memory' });
  try {
    const at = { s3: servers.s3Endpoint, dynamodb: servers.dynamodbEndpoint };
    const sync = await firstSync(servers, at, inbox);
    console.log(`catalogued ${files} × ${size} B in ${(sync.ms / 1000).toFixed(2)} s`);
    const oursEnv = a.profile ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${path.resolve(a.profile)}` } : {};
    const skip = a.only === 'ours' ? 'rclone' : a.only === 'rclone' ? 'ours' : undefined;
    const f = await benchRestore({ servers, at, env: sync.env, root, files, runs: Number(a.runs ?? 3), withRclone: await hasRclone(), oursEnv, skip });
    console.log(`\nnode bench/restore.ts ${process.argv.slice(2).join(' ')}`.trimEnd() + `; load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    for (const row of restoreRows(f)) console.log(`| ${row.join(' | ')} |`);
  } finally {
    await servers.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

if (import.meta.main) await main();
