// The watching daemon: a start-up reconcile, then watcher hints and a periodic full scan
// (inotify overflows are dropped silently, so the scan is what guarantees convergence).
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.ts';
import { errorMessage } from '../errors.ts';
import { hasMarker } from '../inbox.ts';
import type { Logger } from '../log.ts';
import type { Stores } from '../context.ts';
import { SyncIndex, META_LAST_RECONCILE } from './index-db.ts';
import { acquireStateLock, type StateLock } from './lock.ts';
import { lastReconcileOf, Reconciler, type PassResult, type SyncHooks } from './reconciler.ts';
import { watchInbox, type InboxWatcher } from './watcher.ts';

export interface DaemonHealth {
  ok: boolean;
  checks: Record<string, { ok: boolean; detail?: string }>;
  stats: { queueDepth: number; inFlight: number; dirty: number; watcher: string; passes: number };
}

export interface DaemonOptions {
  config: Config;
  log: Logger;
  stores: Stores;
  hooks?: SyncHooks;
  /** Called with each finished pass (metrics, status). */
  onPass?: (result: PassResult, kind: 'full' | 'watch' | 'retry') => void;
  force?: boolean;
  /** Debounce of watcher hints before a pass starts. */
  batchDelayMs?: number;
}

const MAX_RETRY_DELAY_MS = 5 * 60 * 1000;

export class SyncDaemon {
  readonly reconciler: Reconciler;
  readonly index: SyncIndex;
  private readonly opts: DaemonOptions;
  private readonly lock: StateLock;
  private watcher: InboxWatcher | undefined;
  private watcherState: { ok: boolean; detail: string } = { ok: false, detail: 'starting' };
  private readonly dirty = new Set<string>();
  private flushTimer: NodeJS.Timeout | undefined;
  private scanTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryRound = 0;
  private readonly retryPaths = new Set<string>();
  private readonly running = new Set<Promise<unknown>>();
  private fullPassRunning = false;
  private stopping = false;
  private passes = 0;
  private storeProbe: { at: number; ok: boolean; detail?: string } | undefined;

  private constructor(opts: DaemonOptions, lock: StateLock, index: SyncIndex) {
    this.opts = opts;
    this.lock = lock;
    this.index = index;
    this.reconciler = new Reconciler({ config: opts.config, index, objects: opts.stores.objects, items: opts.stores.items, log: opts.log, hooks: opts.hooks });
  }

  /** Takes the state-dir lock, queues the start-up reconcile and starts watching. Resolves once the watcher is ready. */
  static async start(opts: DaemonOptions): Promise<SyncDaemon> {
    const lock = acquireStateLock(opts.config.stateDir);
    let index: SyncIndex;
    try {
      index = SyncIndex.open(opts.config.stateDir);
    } catch (err) {
      lock.release();
      throw err;
    }
    const d = new SyncDaemon(opts, lock, index);
    d.track(d.fullPass());
    await d.startWatcher(opts.config.usePolling);
    d.scheduleScan();
    return d;
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.running.add(p);
    const done = (): void => void this.running.delete(p);
    p.then(done, done);
    return p;
  }

  private async startWatcher(polling: boolean): Promise<void> {
    const { config, log } = this.opts;
    const w = watchInbox(config.inbox, { stabilityMs: config.stabilityMs, polling }, {
      onPath: (p) => this.markDirty(p),
      onFolder: (name) => void this.track(this.markFolderDirty(name)),
      onError: (err) => void this.onWatcherError(err, w),
    });
    this.watcher = w;
    await w.ready;
    if (this.watcher === w) this.watcherState = { ok: true, detail: w.backend === 'polling' ? 'polling' : 'inotify' };
    log.info({ inbox: config.inbox, backend: w.backend }, `watching ${config.inbox}`);
  }

  private async onWatcherError(err: Error, w: InboxWatcher): Promise<void> {
    const { log } = this.opts;
    const code = (err as NodeJS.ErrnoException).code;
    if (this.stopping || this.watcher !== w) return;
    if (w.backend === 'polling') {
      this.watcherState = { ok: false, detail: `polling watcher failed: ${errorMessage(err)}; relying on full scans` };
      log.error({ err: errorMessage(err), code }, 'the polling watcher failed too; changes are picked up by the periodic full scan only');
      return;
    }
    // Never run blind: fall back to polling, which needs no inotify watches.
    log.error({ err: errorMessage(err), code }, `file watcher error (${code ?? err.name}): ${errorMessage(err)}. ` +
      (code === 'ENOSPC' ? 'The inotify watch limit is reached (raise fs.inotify.max_user_watches). ' : '') + 'Falling back to polling.');
    this.watcherState = { ok: false, detail: `watcher error ${code ?? err.name}; switching to polling` };
    this.watcher = undefined;
    await w.close().catch(() => undefined);
    if (this.stopping) return;
    await this.startWatcher(true);
    this.track(this.fullPass());
  }

  markDirty(sourcePath: string): void {
    if (this.stopping) return;
    this.dirty.add(sourcePath);
    this.flushTimer ??= setTimeout(() => this.flush(), this.opts.batchDelayMs ?? 20);
  }

  private async markFolderDirty(name: string): Promise<void> {
    for (const p of this.index.pathsUnder(name)) this.markDirty(p);
    try {
      for (const entry of await readdir(path.join(this.opts.config.inbox, name))) this.markDirty(`${name}/${entry}`);
    } catch {
      // the folder is gone: the index rows above cover it
    }
    this.markDirty(name);
  }

  private flush(): void {
    this.flushTimer = undefined;
    if (this.stopping || this.dirty.size === 0) return;
    const paths = [...this.dirty];
    this.dirty.clear();
    this.track(this.pass(paths, 'watch'));
  }

  private async pass(paths: string[], kind: 'watch' | 'retry'): Promise<void> {
    try {
      const result = await this.reconciler.runPass(paths, { force: this.opts.force, retryRounds: 1 });
      this.afterPass(result, kind);
    } catch (err) {
      // E.g. the state dir's disk is full, so not even a failure could be recorded: the pass's
      // paths are retried like failed files, not left for the next full scan (minutes away).
      this.opts.log.error({ err: errorMessage(err), files: paths.length }, `reconcile pass failed: ${errorMessage(err)}`);
      if (!this.stopping) this.scheduleRetry(paths);
    }
  }

  private async fullPass(): Promise<void> {
    if (this.fullPassRunning || this.stopping) return;
    this.fullPassRunning = true;
    try {
      const result = await this.reconciler.runFullPass({ force: this.opts.force, retryRounds: 1 });
      this.afterPass(result, 'full');
    } catch (err) {
      this.opts.log.error({ err: errorMessage(err), inbox: this.opts.config.inbox }, `full scan failed: ${errorMessage(err)}; retrying at the next scan`);
    } finally {
      this.fullPassRunning = false;
    }
  }

  private afterPass(result: PassResult, kind: 'full' | 'watch' | 'retry'): void {
    this.passes++;
    const { log } = this.opts;
    const summary = { kind, uploaded: result.uploaded, updated: result.updated, deleted: result.deleted, unchanged: result.unchanged, skipped: result.skipped, failed: result.failed, deletesBlocked: result.heldDeletes.length, ms: result.durationMs };
    if (kind === 'full' || result.uploaded + result.updated + result.deleted + result.failed > 0) log.info(summary, `${kind} pass done`);
    if (kind === 'full') {
      const last = lastReconcileOf(result);
      if (!this.stopping) this.index.setMeta(META_LAST_RECONCILE, last);
    }
    this.opts.onPass?.(result, kind);
    // The deletes a failed upload held back go with the retry: a clean retry pass makes them.
    if (result.failed > 0 && !this.stopping) this.scheduleRetry([...result.failures.map((f) => f.path), ...result.heldDeletes]);
    else if (kind !== 'watch') this.retryRound = 0;
  }

  /** Failed files come back with growing delays (up to 5 minutes); others are never held up. */
  private scheduleRetry(paths: string[]): void {
    const delay = Math.min(this.opts.config.retryBaseMs * 2 ** this.retryRound, MAX_RETRY_DELAY_MS);
    this.retryRound++;
    // Added to what is already waiting: a timer replaced here must not drop the files of an
    // earlier failed pass (they would wait for the next full scan).
    for (const p of paths) this.retryPaths.add(p);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      const due = [...this.retryPaths];
      this.retryPaths.clear();
      this.track(this.pass(due, 'retry'));
    }, delay);
    const waiting = this.retryPaths.size;
    this.opts.log.info({ files: waiting, retryInMs: delay }, `will retry ${waiting} failed file(s) in ${Math.round(delay / 1000)} s`);
  }

  private scheduleScan(): void {
    this.scanTimer = setTimeout(() => {
      this.track(this.fullPass()).finally(() => {
        if (!this.stopping) this.scheduleScan();
      });
    }, this.opts.config.scanIntervalSec * 1000);
  }

  /** Runs a full pass now (tests, SIGHUP). */
  rescan(): Promise<void> {
    return this.track(this.fullPass());
  }

  private async probeStores(): Promise<{ ok: boolean; detail?: string }> {
    const now = Date.now();
    if (this.storeProbe && now - this.storeProbe.at < 5000) return this.storeProbe;
    const { objects, items } = this.opts.stores;
    try {
      await Promise.all([objects.head('animals/.health-probe'), items.get({ partition_key: 'ANIMAL#.health', sort_key: 'IMG#probe' })]);
      this.storeProbe = { at: now, ok: true };
    } catch (err) {
      this.storeProbe = { at: now, ok: false, detail: `store unreachable: ${errorMessage(err)}` };
    }
    return this.storeProbe;
  }

  async health(): Promise<DaemonHealth> {
    const marker = await hasMarker(this.opts.config.inbox);
    const stores = await this.probeStores();
    const checks: DaemonHealth['checks'] = {
      marker: marker ? { ok: true } : { ok: false, detail: `inbox marker missing in ${this.opts.config.inbox} (inbox unmounted?)` },
      watcher: this.watcherState,
      stores: stores.ok ? { ok: true } : { ok: false, detail: stores.detail },
    };
    return {
      ok: Object.values(checks).every((c) => c.ok),
      checks,
      stats: { queueDepth: this.reconciler.queue.size, inFlight: this.reconciler.queue.pending, dirty: this.dirty.size, watcher: this.watcherState.detail, passes: this.passes },
    };
  }

  /** Stops watching, lets in-flight work finish within the grace time, then closes the index. */
  async stop(): Promise<{ graceful: boolean }> {
    if (this.stopping) return { graceful: true };
    this.stopping = true;
    for (const t of [this.flushTimer, this.scanTimer, this.retryTimer]) if (t) clearTimeout(t);
    await this.watcher?.close().catch(() => undefined);
    this.watcherState = { ok: false, detail: 'stopped' };
    this.reconciler.close();
    const all = Promise.allSettled([...this.running]).then(() => this.reconciler.queue.onIdle());
    let timer: NodeJS.Timeout | undefined;
    const graceful = await Promise.race([
      all.then(() => true),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), this.opts.config.graceMs))),
    ]);
    if (timer) clearTimeout(timer);
    if (!graceful) {
      this.opts.log.warn({ graceMs: this.opts.config.graceMs }, 'grace time over: aborting in-flight transfers (their intents stay journaled and are finished on the next start)');
      this.reconciler.abortInFlight();
      // unref: once the aborted work has settled, this timer must not hold the exit back 2 s.
      await Promise.race([all, new Promise((r) => setTimeout(r, 2000).unref())]);
    }
    this.index.close();
    this.lock.release();
    return { graceful };
  }
}
