// npm run bench [-- --files N] [--size BYTES] [--runs R] [--scale] [--wan] [--large] [--dynamodb memory|disk] [--keep]
// One table, like for like, from one run: animal-sync's first `sync --once` (S3 + DynamoDB)
// against `rclone copy --transfers 8` and `--transfers 4` (S3 only) of the same inbox to the
// same s3rver, interleaved (the order rotates every round), a fresh bucket (and table) for
// every timed run, best of R for each side; CPU (user + sys) and peak RSS of each side's
// whole process tree from /usr/bin/time, and the emulators' CPU beside it. Then no-change
// passes and the watching daemon (ready time, RSS, close-to-catalogued latency), and restore of
// the set against `rclone copy --transfers 8` of its objects, R rounds (bench/restore.ts).
// --scale: 100,000 files of 1 KiB, one round. --wan: every request to S3 and DynamoDB goes
// through a proxy on loopback that delays it by 20 ms.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { resolveConfig } from '../src/config.ts';
import { makeDocumentClient, makeDynamoClient } from '../src/stores/aws.ts';
import { DynamoItemStore } from '../src/stores/dynamodb.ts';
import { BIN } from '../tests/helpers/cli.ts';
import { timeCommand, type TimedRun } from './child.ts';
import { startDelayProxy, type DelayProxy } from './delay-proxy.ts';
import { probeDaemon } from './daemon-probe.ts';
import { benchInbox } from './inbox.ts';
import { largeSet } from './large.ts';
import { benchRestore, restoreRows } from './restore.ts';
import { startBenchServers } from './servers.ts';
import { firstSync, hasRclone, rcloneCopy, type Endpoints, type Measured } from './sides.ts';

const { values: a } = parseArgs({
  options: {
    files: { type: 'string' }, size: { type: 'string' }, runs: { type: 'string' }, scale: { type: 'boolean', default: false },
    wan: { type: 'boolean', default: false }, large: { type: 'boolean', default: false }, dynamodb: { type: 'string', default: 'memory' },
    keep: { type: 'boolean', default: false },
  },
});
const FILES = Number(a.files ?? (a.scale ? 100_000 : 2000));
const SIZE = Number(a.size ?? (FILES > 5000 ? 1024 : 64 * 1024));
const RUNS = Number(a.runs ?? (a.scale ? 1 : 3));
const DELAY_MS = 20;

type Side = 'sync' | 'rclone8' | 'rclone4';

const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const best = (runs: Measured[], key: 'ms' | 'cpuS' | 'rssMiB'): number => Math.min(...runs.map((r) => r[key]));

async function main(): Promise<void> {
  const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: path.join(path.dirname(BIN), '..'), stdio: 'inherit' });
  if (build.status !== 0) throw new Error('npm run build failed');
  console.log(`inbox: ${FILES} PNGs of ${SIZE} bytes in 8 folders (made once, kept under ${os.tmpdir()})`);
  const inbox = benchInbox(FILES, SIZE);
  const root = mkdtempSync(path.join(os.tmpdir(), 'animal-sync-bench-'));
  const servers = await startBenchServers({ dataDir: root, dynamodb: a.dynamodb === 'disk' ? 'disk' : 'memory' });
  const proxies: DelayProxy[] = [];
  let at: Endpoints = { s3: servers.s3Endpoint, dynamodb: servers.dynamodbEndpoint };
  if (a.wan) {
    proxies.push(await startDelayProxy(servers.s3Endpoint, DELAY_MS), await startDelayProxy(servers.dynamodbEndpoint, DELAY_MS));
    at = { s3: proxies[0]!.url, dynamodb: proxies[1]!.url };
  }
  const withRclone = await hasRclone();
  const runs: Record<Side, Measured[]> = { sync: [], rclone8: [], rclone4: [] };
  const lines: string[] = [];
  let last: Awaited<ReturnType<typeof firstSync>> | undefined;
  const measure = async (side: Side): Promise<void> => {
    const run = side === 'sync' ? (last = await firstSync(servers, at, inbox)) : await rcloneCopy(servers, at, inbox, side === 'rclone8' ? 8 : 4);
    runs[side].push(run);
    console.log(`  ${side.padEnd(7)} ${s(run.ms)}, CPU ${run.cpuS.toFixed(2)} s, peak RSS ${run.rssMiB.toFixed(0)} MiB; JVM ${run.jvmS.toFixed(1)} s, s3rver ${run.s3rverS.toFixed(1)} s`);
  };
  try {
    const order: Side[] = withRclone ? ['rclone8', 'sync', 'rclone4'] : ['sync'];
    for (let r = 0; r < RUNS; r++) {
      console.log(`round ${r + 1} of ${RUNS}`);
      for (let k = 0; k < order.length; k++) await measure(order[(k + r) % order.length]!);
    }
    // Restore of the last first sync's set (its table is in the DynamoDB Local running now); not with --scale.
    const restored = a.scale ? [] : restoreRows(await benchRestore({ servers, at, env: last!.env, root, files: FILES, runs: RUNS, withRclone }));
    const noChange: TimedRun[] = [];
    for (let i = 0; i < (a.scale ? 2 : 3); i++) noChange.push(await timeCommand(BIN, ['sync', '--once', '--json'], last!.env));
    const config = resolveConfig({ env: last!.env, flags: {} });
    process.env.AWS_ENDPOINT_URL_DYNAMODB = servers.dynamodbEndpoint;
    const ddb = makeDynamoClient(config);
    const daemon = await probeDaemon(last!.env, inbox, new DynamoItemStore(ddb, makeDocumentClient(ddb), config.table));
    ddb.destroy();
    lines.push(...table(runs, noChange, daemon, withRclone, restored));
    if (a.large) lines.push('', await largeSet(servers, at, root));
  } finally {
    await Promise.allSettled(proxies.map((p) => p.stop()));
    await servers.stop();
    if (!a.keep) rmSync(root, { recursive: true, force: true });
  }
  console.log(['', `node bench/bench.ts ${process.argv.slice(2).join(' ')}`.trim(), `${FILES} files of ${SIZE} bytes; DynamoDB Local ${a.dynamodb === 'disk' ? 'on disk' : 'in memory'}; ${a.wan ? `every request delayed ${DELAY_MS} ms` : 'loopback'}; best of ${RUNS}`, '', ...lines].join('\n'));
}

function table(runs: Record<Side, Measured[]>, noChange: TimedRun[], d: Awaited<ReturnType<typeof probeDaemon>>, withRclone: boolean, extra: string[][]): string[] {
  const col = (side: Side, f: (r: Measured[]) => string): string => (runs[side].length ? f(runs[side]) : 'n/a');
  const ratio = (side: Side, key: 'ms' | 'cpuS'): string => (runs[side].length ? `${(best(runs.sync, key) / best(runs[side], key)).toFixed(2)}×` : 'n/a');
  const perFile = (r: Measured[]): string => {
    const least = r.reduce((x, y) => (y.cpuS < x.cpuS ? y : x));
    return `${((least.cpuS * 1000) / FILES).toFixed(2)} ms/file (user ${least.userS.toFixed(2)} + sys ${least.sysS.toFixed(2)})`;
  };
  const emu = (r: Measured[]): string => `JVM ${Math.min(...r.map((x) => x.jvmS)).toFixed(1)} s, s3rver ${Math.min(...r.map((x) => x.s3rverS)).toFixed(1)} s`;
  const wanGoal = a.wan ? '≤ 0.6× rclone --transfers 8' : '≤ 0.9× rclone --transfers 8';
  const noChangeGoal = FILES >= 100_000 ? '≤ 2 s' : FILES >= 20_000 ? '≤ 0.5 s' : '≤ 0.3 s';
  const rows = [
    ['measure', 'animal-sync', 'rclone --transfers 8', 'rclone --transfers 4', 'animal-sync / rclone 8, / rclone 4', 'goal'],
    ['first sync, wall (best)', `${s(best(runs.sync, 'ms'))} (${(FILES / (best(runs.sync, 'ms') / 1000)).toFixed(0)} files/s)`, col('rclone8', (r) => s(best(r, 'ms'))), col('rclone4', (r) => s(best(r, 'ms'))), `${ratio('rclone8', 'ms')}, ${ratio('rclone4', 'ms')}`, wanGoal],
    ['client CPU user+sys (best)', `${best(runs.sync, 'cpuS').toFixed(2)} s = ${perFile(runs.sync)}`, col('rclone8', (r) => `${best(r, 'cpuS').toFixed(2)} s = ${perFile(r)}`), col('rclone4', (r) => `${best(r, 'cpuS').toFixed(2)} s = ${perFile(r)}`), `${ratio('rclone8', 'cpuS')}, ${ratio('rclone4', 'cpuS')}`, '≤ 1.0× rclone'],
    ['client peak RSS (best)', `${best(runs.sync, 'rssMiB').toFixed(0)} MiB`, col('rclone8', (r) => `${best(r, 'rssMiB').toFixed(0)} MiB`), col('rclone4', (r) => `${best(r, 'rssMiB').toFixed(0)} MiB`), '', '≤ 128 MiB'],
    ['emulators\' CPU during the run (least)', emu(runs.sync), col('rclone8', emu), col('rclone4', emu), '', 'not the product\'s'],
    ['no-change sync --once', `${s(Math.min(...noChange.map((r) => r.ms)))} (runs ${noChange.map((r) => s(r.ms)).join(', ')}), CPU ${Math.min(...noChange.map((r) => r.cpuS)).toFixed(2)} s, RSS ${Math.min(...noChange.map((r) => r.rssMiB)).toFixed(0)} MiB`, '', '', '', noChangeGoal],
    ['daemon ready (watcher up, start-up pass done; warm index)', s(d.readyMs), '', '', '', '≤ 10 s'],
    ['daemon RSS after ready / peak', `${d.rssAfterReadyMiB.toFixed(0)} / ${d.peakRssMiB.toFixed(0)} MiB`, '', '', '', '≤ 256 MiB'],
    ['close-to-catalogued at 20 files/s', `p50 ${d.p50.toFixed(0)} ms, p99 ${d.p99.toFixed(0)} ms (${d.seen}/${d.sent} seen)`, '', '', '', 'p50 ≤ 1 s'],
  ];
  rows.push(...extra);
  if (!withRclone) rows.push(['rclone', 'not installed (apt-get install rclone to compare)', '', '', '', '']);
  return rows.map((r, i) => `| ${r.join(' | ')} |${i === 0 ? '\n|' + r.map(() => '---|').join('') : ''}`);
}

await main();
