// node --openssl-legacy-provider bench/steady.ts [--minutes 60] [--files 2000] [--window 300] [--sample-sec 60]
// The watching daemon under steady change, for RSS growth: an inbox of N files (warm: the
// daemon's start-up pass catalogues them), then a new 64 KiB PNG every second and, once
// `window` new files exist, a delete of the oldest every second: the inbox stays the same size,
// so RSS that grows is the daemon's and not the inbox's. The daemon's RSS is sampled from /proc; the run
// ends with a check that the catalogue converged (items = files), and prints the samples,
// start and end RSS and the slope of a least-squares line through the samples after warm-up.
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ensureInbox } from '../src/inbox.ts';
import { makeDocumentClient, makeDynamoClient } from '../src/stores/aws.ts';
import { DynamoItemStore } from '../src/stores/dynamodb.ts';
import { resolveConfig } from '../src/config.ts';
import { makePng } from '../tests/helpers/png.ts';
import { startWatchingDaemon } from './daemon-probe.ts';
import { ANIMALS } from './inbox.ts';
import { cpuSeconds, rssMiB } from './proc.ts';
import { startBenchServers } from './servers.ts';
import { syncEnv } from './sides.ts';

const { values: a } = parseArgs({ options: { minutes: { type: 'string', default: '60' }, files: { type: 'string', default: '2000' }, 'sample-sec': { type: 'string', default: '60' }, window: { type: 'string', default: '300' } } });
const MINUTES = Number(a.minutes);
const FILES = Number(a.files);
const SAMPLE_MS = Number(a['sample-sec']) * 1000;
const WINDOW = Number(a.window);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Slope of the least-squares line through (minute, MiB) points, in MiB per hour. */
function slopePerHour(points: { min: number; mib: number }[]): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((s, p) => s + p.min, 0) / n;
  const my = points.reduce((s, p) => s + p.mib, 0) / n;
  const num = points.reduce((s, p) => s + (p.min - mx) * (p.mib - my), 0);
  const den = points.reduce((s, p) => s + (p.min - mx) ** 2, 0);
  return (num / den) * 60;
}

async function main(): Promise<void> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'animal-sync-steady-'));
  const servers = await startBenchServers({ dataDir: root, dynamodb: 'memory' });
  try {
    const inbox = path.join(root, 'inbox');
    mkdirSync(inbox);
    ensureInbox(inbox);
    for (const animal of [...ANIMALS, 'steady']) mkdirSync(path.join(inbox, animal));
    for (let i = 0; i < FILES; i++) writeFileSync(path.join(inbox, ANIMALS[i % ANIMALS.length]!, `img-${i}.png`), makePng({ seed: i, padTo: 1024 }));
    const fresh = await servers.fresh('Steady');
    const env = syncEnv(servers, { s3: servers.s3Endpoint, dynamodb: servers.dynamodbEndpoint }, inbox, fresh.bucket, fresh.table, path.join(root, 'state'));
    const daemon = await startWatchingDaemon(env);
    const pid = daemon.child.pid!;
    console.log(`daemon ready in ${(daemon.readyMs / 1000).toFixed(1)} s over ${FILES} files; RSS ${rssMiB(pid).now.toFixed(1)} MiB; running ${MINUTES} min`);
    const samples: { min: number; mib: number; cpuS: number }[] = [];
    const t0 = performance.now();
    const live: string[] = [];
    let written = 0;
    let deleted = 0;
    let nextSample = 0;
    for (let tick = 0; performance.now() - t0 < MINUTES * 60_000; tick++) {
      const name = `s-${tick}.png`;
      writeFileSync(path.join(inbox, 'steady', name), makePng({ seed: 1_000_000 + tick, padTo: 64 * 1024 }));
      live.push(name);
      written++;
      if (live.length > WINDOW) {
        unlinkSync(path.join(inbox, 'steady', live.shift()!));
        deleted++;
      }
      const elapsed = performance.now() - t0;
      if (elapsed >= nextSample) {
        const s = { min: elapsed / 60_000, mib: rssMiB(pid).now, cpuS: cpuSeconds(pid) };
        samples.push(s);
        console.log(`  ${s.min.toFixed(1).padStart(5)} min  RSS ${s.mib.toFixed(1)} MiB  CPU ${s.cpuS.toFixed(1)} s  (${written} written, ${deleted} deleted)`);
        nextSample += SAMPLE_MS;
      }
      await sleep(Math.max(0, (tick + 1) * 1000 - (performance.now() - t0)));
    }
    // Converged: the catalogue holds exactly the steady files that are still there.
    const config = resolveConfig({ env, flags: {} });
    const ddb = makeDynamoClient(config);
    const items = new DynamoItemStore(ddb, makeDocumentClient(ddb), fresh.table);
    let catalogued = -1;
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(1000)) {
      catalogued = (await items.queryAll('steady')).length;
      if (catalogued === live.length) break;
    }
    ddb.destroy();
    const end = { mib: rssMiB(pid).now, peak: rssMiB(pid).peak };
    await daemon.stop();
    const warm = samples.filter((s) => s.min >= Math.min(5, MINUTES / 4));
    console.log([
      '',
      `node --openssl-legacy-provider bench/steady.ts --minutes ${MINUTES} --files ${FILES} --window ${WINDOW}`,
      `${written} files written and ${deleted} deleted over ${MINUTES} min (one a second; the oldest deleted once ${WINDOW} exist) beside ${FILES} warm files`,
      `RSS at start ${samples[0]!.mib.toFixed(1)} MiB, after warm-up ${warm[0]?.mib.toFixed(1) ?? 'n/a'} MiB, at the end ${end.mib.toFixed(1)} MiB, peak ${end.peak.toFixed(1)} MiB`,
      `slope after warm-up: ${slopePerHour(warm).toFixed(2)} MiB per hour; daemon CPU ${(samples.at(-1)!.cpuS - samples[0]!.cpuS).toFixed(1)} s`,
      `catalogue: ${catalogued} items for ${live.length} files in steady/ (${catalogued === live.length ? 'converged' : 'NOT converged'})`,
    ].join('\n'));
    if (catalogued !== live.length) process.exitCode = 1;
  } finally {
    await servers.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
