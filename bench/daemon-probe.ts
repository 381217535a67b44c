// The watching daemon on an inbox whose index is warm (a first sync ran on this state dir):
// how long until it is ready (watcher up and the start-up pass done), its RSS, and the
// close-to-catalogued latency of new files written at 20 files/s.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ItemStore } from '../src/stores/dynamodb.ts';
import { BIN } from '../tests/helpers/cli.ts';
import { makePng } from '../tests/helpers/png.ts';
import { rssMiB } from './proc.ts';

export interface DaemonFigures {
  readyMs: number;
  rssAfterReadyMiB: number;
  peakRssMiB: number;
  p50: number;
  p99: number;
  seen: number;
  sent: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

export interface WatchingDaemon {
  child: ChildProcess;
  /** Start to ready: the watcher is up and the start-up pass is done. */
  readyMs: number;
  stop(): Promise<void>;
}

/** Starts `animal-sync sync` (JSON logs on stdout) and resolves once it is ready. */
export async function startWatchingDaemon(env: NodeJS.ProcessEnv): Promise<WatchingDaemon> {
  const t0 = performance.now();
  const child = spawn(BIN, ['sync'], { env: { ...env, ANIMAL_SYNC_LOG_LEVEL: 'info', ANIMAL_SYNC_LOG_FORMAT: 'json' }, stdio: ['ignore', 'pipe', 'inherit'] });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  let watching = 0;
  let passDone = 0;
  let out = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const onData = (d: Buffer): void => {
        out = (out + d).slice(-100_000);
        if (!watching && out.includes('"msg":"watching ')) watching = performance.now();
        if (!passDone && out.includes('"msg":"full pass done"')) passDone = performance.now();
        if (!watching || !passDone) return;
        child.stdout.off('data', onData);
        child.stdout.resume(); // keeps draining its log, so the daemon never blocks on a full pipe
        resolve();
      };
      child.stdout.on('data', onData);
      child.once('exit', (code) => reject(new Error(`the daemon exited (${code}) before it was ready: ${out.slice(-2000)}`)));
    });
  } catch (e) {
    await stop();
    throw e;
  }
  return { child, readyMs: Math.max(watching, passDone) - t0, stop };
}

export async function probeDaemon(env: NodeJS.ProcessEnv, inbox: string, items: ItemStore, files = 200): Promise<DaemonFigures> {
  const daemon = await startWatchingDaemon(env);
  const pid = daemon.child.pid!;
  let peak = 0;
  const sampler = setInterval(() => { try { peak = Math.max(peak, rssMiB(pid).peak); } catch { /* gone */ } }, 500);
  try {
    const readyMs = daemon.readyMs;
    const rssAfterReadyMiB = rssMiB(pid).now;
    const folder = path.join(inbox, 'latency');
    mkdirSync(folder, { recursive: true });
    const closedAt = new Map<string, number>();
    const seenAt = new Map<string, number>();
    const poller = (async () => {
      while (seenAt.size < files) {
        const page = await items.query('latency', { limit: 100 });
        const now = performance.now();
        for (const it of page.items) if (!seenAt.has(it.source_path)) seenAt.set(it.source_path, now);
        if (closedAt.size === files && now - Math.max(...closedAt.values()) > 30_000) break;
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    for (let i = 0; i < files; i++) {
      const p = `latency/l-${i}.png`;
      writeFileSync(path.join(inbox, p), makePng({ seed: 100_000 + i, padTo: 64 * 1024 }));
      closedAt.set(p, performance.now());
      await new Promise((r) => setTimeout(r, 50));
    }
    await poller;
    const lat = [...closedAt].filter(([p]) => seenAt.has(p)).map(([p, t]) => seenAt.get(p)! - t).sort((a, b) => a - b);
    return { readyMs, rssAfterReadyMiB, peakRssMiB: Math.max(peak, rssMiB(pid).peak), p50: percentile(lat, 50), p99: percentile(lat, 99), seen: lat.length, sent: files };
  } finally {
    clearInterval(sampler);
    await daemon.stop();
    // The shared inbox stays as it was for the next bench run.
    rmSync(path.join(inbox, 'latency'), { recursive: true, force: true });
  }
}
