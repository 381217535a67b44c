// Probe (not part of the product): the client's cost of one first `sync --once` of an N-file
// inbox into a fresh bucket and table, then of no-change passes on that warm index, each
// under /usr/bin/time (CPU, peak RSS). --node-flags="..." adds Node flags to the synced process
// (e.g. --node-flags="--cpu-prof --cpu-prof-dir=/tmp/prof"); --daemon then starts the watching
// daemon on that warm index (bench/daemon-probe.ts: ready time, RSS, latency).
// PROBE_BIN=<wrapper> runs the synced command through a wrapper script (taskset, strace) that ends by exec'ing bin/animal-sync.
//   node bench/probe-pass.ts [--files 2000] [--size 65536] [--no-change 2] [--node-flags="..."] [--first-runs 1] [--daemon]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { resolveConfig } from '../src/config.ts';
import { makeDocumentClient, makeDynamoClient } from '../src/stores/aws.ts';
import { DynamoItemStore } from '../src/stores/dynamodb.ts';
import { BIN } from '../tests/helpers/cli.ts';
import { timeCommand, type TimedRun } from './child.ts';
import { probeDaemon } from './daemon-probe.ts';
import { benchInbox } from './inbox.ts';
import { startBenchServers } from './servers.ts';
import { syncEnv } from './sides.ts';

const { values: a } = parseArgs({
  options: {
    files: { type: 'string', default: '2000' }, size: { type: 'string' }, 'no-change': { type: 'string', default: '2' },
    'node-flags': { type: 'string', default: '' }, 'first-runs': { type: 'string', default: '1' }, daemon: { type: 'boolean', default: false },
  },
});
const files = Number(a.files);
const size = Number(a.size ?? (files > 5000 ? 1024 : 64 * 1024));
const inbox = benchInbox(files, size);
const root = mkdtempSync(path.join(os.tmpdir(), 'probe-pass-'));
const servers = await startBenchServers({ dataDir: root, dynamodb: 'memory' });
const at = { s3: servers.s3Endpoint, dynamodb: servers.dynamodbEndpoint };
// The CLI's launcher passes its own V8 flags; NODE_OPTIONS carries the extra ones through it.
const nodeOptions = a['node-flags'] ? { NODE_OPTIONS: a['node-flags'] } : {};

const line = (what: string, r: TimedRun): string =>
  `${what}: ${(r.ms / 1000).toFixed(2)} s wall, CPU ${r.cpuS.toFixed(2)} s (user ${r.userS.toFixed(2)} + sys ${r.sysS.toFixed(2)}; ${((r.cpuS * 1000) / files).toFixed(2)} ms/file), peak RSS ${r.rssMiB.toFixed(0)} MiB, exit ${r.code}`;

try {
  console.log(`${files} files of ${size} bytes; load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  let env: NodeJS.ProcessEnv = {};
  for (let i = 0; i < Number(a['first-runs']); i++) {
    const fresh = await servers.fresh(`Probe${i}`);
    env = { ...syncEnv(servers, at, inbox, fresh.bucket, fresh.table, mkdtempSync(path.join(root, 'state-'))), ...nodeOptions };
    const first = await timeCommand(process.env.PROBE_BIN ?? BIN, ['sync', '--once', '--json'], env);
    console.log(line('first sync', first));
    if (first.code !== 0) console.log(first.stderr.slice(-2000));
    else console.log(`  summary ${JSON.stringify(JSON.parse(first.stdout))}`);
  }
  for (let i = 0; i < Number(a['no-change']); i++) console.log(line('no-change', await timeCommand(process.env.PROBE_BIN ?? BIN, ['sync', '--once', '--json'], env)));
  if (a.daemon) {
    const ddb = makeDynamoClient(resolveConfig({ env, flags: {} }));
    const d = await probeDaemon(env, inbox, new DynamoItemStore(ddb, makeDocumentClient(ddb), env.ANIMAL_SYNC_TABLE!));
    ddb.destroy();
    console.log(`daemon: ready in ${(d.readyMs / 1000).toFixed(2)} s, RSS ${d.rssAfterReadyMiB.toFixed(0)} MiB after ready (peak ${d.peakRssMiB.toFixed(0)}), close-to-catalogued p50 ${d.p50.toFixed(0)} ms, p99 ${d.p99.toFixed(0)} ms (${d.seen}/${d.sent})`);
  }
} finally {
  await servers.stop();
  rmSync(root, { recursive: true, force: true });
}
