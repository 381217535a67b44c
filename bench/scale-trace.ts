// Probe (not part of the product): one first `sync --once` of a big inbox, traced. Every
// --every seconds it prints the files done, the throughput, and the CPU per file of each of
// the three processes (client, DynamoDB Local's JVM, s3rver) in that interval, and the
// client's RSS: which of them grows with the inbox.
//   node bench/scale-trace.ts [--files 100000] [--size 1024] [--dynamodb disk|memory] [--every 20] [--max-seconds 1200]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BIN } from '../tests/helpers/cli.ts';
import { benchInbox } from './inbox.ts';
import { cpuSeconds, rssMiB } from './proc.ts';
import { startBenchServers } from './servers.ts';

const { values: a } = parseArgs({
  options: {
    files: { type: 'string', default: '100000' }, size: { type: 'string', default: '1024' }, dynamodb: { type: 'string', default: 'disk' },
    every: { type: 'string', default: '20' }, 'max-seconds': { type: 'string', default: '1200' }, env: { type: 'string', multiple: true, default: [] },
  },
});
const inbox = benchInbox(Number(a.files), Number(a.size));
const root = mkdtempSync(path.join(os.tmpdir(), 'scale-trace-'));
const servers = await startBenchServers({ dataDir: root, dynamodb: a.dynamodb === 'memory' ? 'memory' : 'disk' });
const { bucket, table } = await servers.fresh('Trace');
const extra = Object.fromEntries(a.env.map((kv) => kv.split('=', 2) as [string, string]));
const env = { ...process.env, ...servers.env, ANIMAL_SYNC_LOG_LEVEL: 'warn', ANIMAL_SYNC_INBOX: inbox, ANIMAL_SYNC_STATE_DIR: path.join(root, 'state'), ANIMAL_SYNC_BUCKET: bucket, ANIMAL_SYNC_TABLE: table, ...extra };
console.log(`first sync --once of ${a.files} files of ${a.size} bytes, DynamoDB Local ${a.dynamodb} ${JSON.stringify(extra)}`);
console.log('   s | files done | files/s | client CPU ms/file | JVM CPU ms/file | s3rver CPU ms/file | client RSS MiB (peak)');
const t0 = performance.now();
const child = spawn(BIN, ['sync', '--once'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
let done = 0;
let tail = '';
child.stderr.on('data', (d: Buffer) => {
  tail = (tail + d).slice(-4000);
  for (const m of String(d).matchAll(/progress: (\d+)\//g)) done = Number(m[1]);
});
child.stdout.on('data', (d: Buffer) => process.stdout.write(`summary: ${d}`));
const sample = () => ({ t: performance.now(), done, client: cpuSeconds(child.pid!), jvm: cpuSeconds(servers.dynamodbPid()), s3: cpuSeconds(servers.s3Pid) });
let mark = sample();
const timer = setInterval(() => {
  const now = sample();
  const files = Math.max(1, now.done - mark.done);
  const per = (x: number): string => ((x * 1000) / files).toFixed(2).padStart(6);
  const rss = rssMiB(child.pid!);
  console.log(`${((now.t - t0) / 1000).toFixed(0).padStart(4)} | ${String(now.done).padStart(10)} | ${(files / ((now.t - mark.t) / 1000)).toFixed(0).padStart(7)} | ${per(now.client - mark.client)} | ${per(now.jvm - mark.jvm)} | ${per(now.s3 - mark.s3)} | ${rss.now.toFixed(0)} (${rss.peak.toFixed(0)})`);
  mark = now;
}, Number(a.every) * 1000);
const kill = setTimeout(() => { console.log('--max-seconds reached: stopping the sync'); child.kill('SIGTERM'); }, Number(a['max-seconds']) * 1000);
const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
clearInterval(timer);
clearTimeout(kill);
console.log(`exit ${code} after ${((performance.now() - t0) / 1000).toFixed(1)} s; JVM CPU total ${cpuSeconds(servers.dynamodbPid()).toFixed(0)} s, s3rver CPU total ${cpuSeconds(servers.s3Pid).toFixed(0)} s`);
if (code !== 0) console.log(tail.split('\n').slice(-5).join('\n'));
await servers.stop();
rmSync(root, { recursive: true, force: true });
