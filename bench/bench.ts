// npm run bench [-- --large] [--files N] [--keep]
// Measures, against the local stack on this machine: first `sync --once` of 2,000 × 64 KiB
// PNGs in 8 folders (wall time, files/s, MiB/s, peak RSS), a no-change re-run, the watching
// daemon's close-to-catalogued latency at 20 files/s, rclone copy --transfers 8 of the same
// files if rclone is installed, and with --large 4 × 256 MiB PNGs against a bare lib-storage upload.
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Upload } from '@aws-sdk/lib-storage';
import { resolveConfig } from '../src/config.ts';
import { makeStores } from '../src/context.ts';
import { startLocalStack } from '../src/local/stack.ts';
import { makeS3Client } from '../src/stores/aws.ts';
import { ensureInbox } from '../src/inbox.ts';
import { makePng } from '../tests/helpers/png.ts';
import { BIN } from '../tests/helpers/cli.ts';
import { freePort } from '../tests/helpers/stack.ts';

const { values: args } = parseArgs({ options: { large: { type: 'boolean', default: false }, files: { type: 'string', default: '2000' }, keep: { type: 'boolean', default: false }, concurrency: { type: 'string' }, profile: { type: 'string' } } });
const FILES = Number(args.files);
const ANIMALS = ['dog', 'cat', 'bird', 'fox', 'owl', 'cow', 'pig', 'emu'];
const root = path.join(os.tmpdir(), `animal-sync-bench-${process.pid}`);
const inbox = path.join(root, 'inbox');
const stateDir = path.join(root, 'state');
const mib = (n: number): number => n / 1024 / 1024;

// Async on purpose: the S3 server runs in this process and must keep answering meanwhile.
function timeCommand(cmd: string, cmdArgs: string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; maxRssKiB: number; stdout: string; code: number | null }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn('/usr/bin/time', ['-f', 'MAXRSS=%M', cmd, ...cmdArgs], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('close', (code) => {
      const ms = performance.now() - t0;
      const m = /MAXRSS=(\d+)/.exec(stderr);
      if (code !== 0) process.stderr.write(stderr.split('\n').slice(-10).join('\n'));
      resolve({ ms, maxRssKiB: m ? Number(m[1]) : NaN, stdout, code });
    });
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  // Measure the bundle that users run (bin/animal-sync falls back to the sources when dist/ is stale).
  const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: path.join(path.dirname(BIN), '..'), stdio: 'inherit' });
  if (build.status !== 0) throw new Error('npm run build failed');
  mkdirSync(inbox, { recursive: true });
  ensureInbox(inbox);
  console.log(`generating ${FILES} PNGs of 64 KiB in ${ANIMALS.length} folders under ${inbox}`);
  for (let i = 0; i < FILES; i++) {
    const animal = ANIMALS[i % ANIMALS.length]!;
    mkdirSync(path.join(inbox, animal), { recursive: true });
    writeFileSync(path.join(inbox, animal, `img-${i}.png`), makePng({ seed: i, padTo: 64 * 1024 }));
  }
  const bytesSmall = FILES * 64 * 1024;
  const bucket = 'bench';
  const stack = await startLocalStack({ dataDir: path.join(root, 'servers'), s3Port: await freePort(), dynamodbPort: await freePort(), bucket });
  Object.assign(process.env, stack.env);
  const env: NodeJS.ProcessEnv = { ...process.env, ANIMAL_SYNC_LOG_LEVEL: 'warn', ANIMAL_SYNC_INBOX: inbox, ANIMAL_SYNC_STATE_DIR: stateDir, ANIMAL_SYNC_BUCKET: bucket, ANIMAL_SYNC_TABLE: 'BenchImages', ...(args.concurrency ? { ANIMAL_SYNC_CONCURRENCY: args.concurrency } : {}) };
  const config = resolveConfig({ env, flags: {} });
  const stores = makeStores(config);
  await stores.items.ensureTable();
  const results: string[] = [];
  try {
    // 1. first sync, interleaved with rclone copy --transfers 8 of the same files to the same
    // server (rclone, sync, rclone): this disk's speed drifts, so the ratio is taken against
    // the mean of the rclone runs on either side.
    const hasRclone = spawnSync('rclone', ['version']).status === 0;
    const rcloneEnv: NodeJS.ProcessEnv = { ...env, RCLONE_CONFIG_LOCAL_TYPE: 's3', RCLONE_CONFIG_LOCAL_PROVIDER: 'Other', RCLONE_CONFIG_LOCAL_ACCESS_KEY_ID: 'S3RVER', RCLONE_CONFIG_LOCAL_SECRET_ACCESS_KEY: 'S3RVER', RCLONE_CONFIG_LOCAL_ENDPOINT: stack.s3Endpoint, RCLONE_CONFIG_LOCAL_FORCE_PATH_STYLE: 'true' };
    delete rcloneEnv.AWS_CA_BUNDLE;
    const rclone = async (n: number) => (await timeCommand('rclone', ['copy', '--transfers', '8', '--exclude', '.animal-sync-inbox', inbox, `local:${bucket}/rclone-${n}`], rcloneEnv)).ms;
    const rcloneBefore = hasRclone ? await rclone(1) : NaN;
    // --profile DIR: a V8 CPU profile of the first sync, for finding where its time goes.
    const first = await timeCommand(BIN, ['sync', '--once', '--json'], args.profile ? { ...env, NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${path.resolve(args.profile)}` } : env);
    const rcloneAfter = hasRclone ? await rclone(2) : NaN;
    const summary = JSON.parse(first.stdout || '{}') as { uploaded?: number; failed?: number };
    results.push(`first sync --once: ${(first.ms / 1000).toFixed(2)} s, ${(FILES / (first.ms / 1000)).toFixed(0)} files/s, ${(mib(bytesSmall) / (first.ms / 1000)).toFixed(1)} MiB/s, peak RSS ${(first.maxRssKiB / 1024).toFixed(0)} MiB (uploaded ${summary.uploaded}, failed ${summary.failed}, exit ${first.code})`);
    if (hasRclone) {
      const mean = (rcloneBefore + rcloneAfter) / 2;
      results.push(`rclone copy --transfers 8: ${(rcloneBefore / 1000).toFixed(2)} s before, ${(rcloneAfter / 1000).toFixed(2)} s after; animal-sync first sync / rclone mean = ${(first.ms / mean).toFixed(2)}`);
    } else {
      results.push('rclone: not installed (apt-get install rclone to compare)');
    }
    // 2. no-change rerun (best of 3)
    const reruns = [];
    for (let i = 0; i < 3; i++) reruns.push(await timeCommand(BIN, ['sync', '--once', '--json'], env));
    results.push(`no-change sync --once: best ${(Math.min(...reruns.map((r) => r.ms)) / 1000).toFixed(3)} s (runs ${reruns.map((r) => (r.ms / 1000).toFixed(3)).join(', ')}), peak RSS ${(reruns[0]!.maxRssKiB / 1024).toFixed(0)} MiB`);
    // 3. restore of the whole set into an empty folder, against rclone copy of the same objects (bench/restore.ts)
    results.push(...await (await import('./restore.ts')).benchRestore({ root, bucket, files: FILES, bytes: bytesSmall, env, rcloneEnv: hasRclone ? rcloneEnv : null, timeCommand }));
    // 4. close-to-catalogued latency of the watching daemon at 20 files/s
    const daemon = spawn(BIN, ['sync'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    await new Promise((r) => setTimeout(r, 3000));
    const N = 200;
    const closedAt = new Map<string, number>();
    const seenAt = new Map<string, number>();
    mkdirSync(path.join(inbox, 'latency'), { recursive: true });
    const poller = (async () => {
      while (seenAt.size < N) {
        const page = await stores.items.query('latency', { limit: 100 });
        const now = performance.now();
        for (const it of page.items) if (!seenAt.has(it.source_path)) seenAt.set(it.source_path, now);
        await new Promise((r) => setTimeout(r, 20));
        if (closedAt.size === N && now - Math.max(...closedAt.values()) > 30000) break;
      }
    })();
    for (let i = 0; i < N; i++) {
      const p = `latency/l-${i}.png`;
      writeFileSync(path.join(inbox, p), makePng({ seed: 100000 + i, padTo: 64 * 1024 }));
      closedAt.set(p, performance.now());
      await new Promise((r) => setTimeout(r, 50));
    }
    await poller;
    daemon.kill('SIGTERM');
    await new Promise((r) => daemon.on('exit', r));
    const lat = [...closedAt].filter(([p]) => seenAt.has(p)).map(([p, t]) => seenAt.get(p)! - t).sort((a, b) => a - b);
    results.push(`close-to-catalogued at 20 files/s (stabilityMs ${config.stabilityMs}): p50 ${percentile(lat, 50).toFixed(0)} ms, p99 ${percentile(lat, 99).toFixed(0)} ms, max ${lat[lat.length - 1]?.toFixed(0)} ms (${lat.length}/${N} seen)`);
    // 5. large files
    if (args.large) {
      const largeDir = path.join(inbox, 'whale');
      mkdirSync(largeDir, { recursive: true });
      for (let i = 0; i < 4; i++) writeFileSync(path.join(largeDir, `big-${i}.png`), makePng({ seed: 500 + i, padTo: 256 * 1024 * 1024 }));
      const s3 = makeS3Client(config);
      const t0 = performance.now();
      await Promise.all([0, 1, 2, 3].map((i) => new Upload({ client: s3, partSize: config.partSizeBytes, queueSize: 4, params: { Bucket: bucket, Key: `bare/big-${i}.png`, Body: createReadStream(path.join(largeDir, `big-${i}.png`)) } }).done()));
      const bare = performance.now() - t0;
      const large = await timeCommand(BIN, ['sync', '--once', '--json'], env);
      results.push(`large set 4 × 256 MiB: sync --once ${(large.ms / 1000).toFixed(2)} s (${(1024 / (large.ms / 1000)).toFixed(0)} MiB/s, peak RSS ${(large.maxRssKiB / 1024).toFixed(0)} MiB) vs bare lib-storage Upload ${(bare / 1000).toFixed(2)} s: ratio ${(large.ms / bare).toFixed(2)}`);
      s3.destroy();
    }
  } finally {
    stores.close();
    await stack.stop();
    if (!args.keep) rmSync(root, { recursive: true, force: true });
  }
  console.log('\n' + results.join('\n'));
}

await main();
