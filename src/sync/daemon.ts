// The watching daemon: a start-up reconcile, then watcher hints and a periodic full scan
// (inotify overflows are dropped silently, so the scan is what guarantees convergence), and an
// audit of the catalogue after start-up and every checkIntervalSec (changes behind its back).
// Full passes, audits and the passes other commands ask for (control.ts) run one at a time.
import { readdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import type { Config } from '../config.ts';
import { errorMessage } from '../errors.ts';
import { hasMarker } from '../inbox.ts';
import type { Logger } from '../log.ts';
import { storeProbe, type HealthCheck } from '../service/health.ts';
import type { Stores } from '../context.ts';
import type { AuditResult, AuditSummary } from '../catalogue/audit.ts';
import { startControlServer, type ControlRequest, type ControlServer } from './control.ts';
import type { FullPassResponse } from './full-pass.ts';
import { FullPasses } from './full-passes.ts';
import { SyncIndex, META_LAST_PASS, META_LAST_RECONCILE, type LastPass } from './index-db.ts';
import { acquireStateLock, type StateLock } from './lock.ts';
import { lastReconcileOf, Reconciler, type PassResult, type SyncHooks } from './reconciler.ts';
import { watchInbox, type InboxWatcher } from './watcher.ts';

export interface DaemonHealth {
  ok: boolean;
  checks: Record<string, { ok: boolean; detail?: string }>;
  stats: { queueDepth: number; inFlight: number; dirty: number; watcher: string; passes: number };
}

/** What `status` shows of a running daemon (over the control socket). */
export interface LiveStatus {
  pid: number;
  queueDepth: number;
  inFlight: number;
  dirty: number;
  watcher: string;
  passes: number;
  fullPassRunning: boolean;
  lastPass: LastPass | null;
  lastAudit: AuditSummary | null;
}

export interface DaemonOptions {
  config: Config;
  log: Logger;
  stores: Stores;
  hooks?: SyncHooks;
  /** Called with each finished pass (metrics, status). */
  onPass?: (result: PassResult, kind: 'full' | 'watch' | 'retry') => void;
  /** Called with each finished audit (metrics). */
  onAudit?: (audit: AuditResult) => void;
  force?: boolean;
  /** Debounce of watcher hints before a pass starts. */
  batchDelayMs?: number;
}

const MAX_RETRY_DELAY_MS = 5 * 60 * 1000;
/** An audit waits at most this long before each animal for the live work to drain. */
const LIVE_FIRST_MAX_MS = 5000;

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
  private readonly full: FullPasses;
  private control: ControlServer | undefined;
  private lastPass: LastPass | null = null;
  private stopping = false;
  private passes = 0;
  private readonly probeStores: () => Promise<HealthCheck>;

  private constructor(opts: DaemonOptions, lock: StateLock, index: SyncIndex) {
    this.opts = opts;
    this.lock = lock;
    this.index = index;
    this.probeStores = storeProbe(opts.stores);
    this.reconciler = new Reconciler({ config: opts.config, index, objects: opts.stores.objects, items: opts.stores.items, log: opts.log, hooks: opts.hooks });
    this.full = new FullPasses({
      config: opts.config, log: opts.log, index, items: opts.stores.items, objects: opts.stores.objects, reconciler: this.reconciler, force: opts.force ?? false,
      onPass: (result) => this.afterPass(result, 'full'),
      onAudit: opts.onAudit,
      track: (p) => void this.track(p),
      beforeAuditAnimal: () => this.liveWorkFirst(),
    });
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
    try {
      d.control = await startControlServer(opts.config.stateDir, (req) => d.onControl(req), opts.log);
    } catch (err) {
      index.close();
      lock.release();
      throw err;
    }
    d.track(d.fullPass());
    if (opts.config.checkIntervalSec > 0) d.track(d.audit());
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

  private fullPass(): Promise<void> {
    return this.stopping ? Promise.resolve() : this.full.scan();
  }

  private audit(): Promise<void> {
    return this.stopping ? Promise.resolve() : this.full.audit();
  }

  /**
   * Files being dropped go before the audit: it reads a whole animal's items and listing at a
   * time, which on 2 cores held new files up by seconds. Bounded, so a steady stream of
   * changes cannot put the audit off for ever.
   */
  private async liveWorkFirst(): Promise<void> {
    const until = Date.now() + LIVE_FIRST_MAX_MS;
    const busy = (): boolean => this.dirty.size > 0 || this.reconciler.queue.size + this.reconciler.queue.pending > 0;
    while (!this.stopping && busy() && Date.now() < until) await sleep(25);
  }

  private async onControl(req: ControlRequest): Promise<FullPassResponse | LiveStatus> {
    if (req.op === 'status') return this.liveStatus();
    if (this.stopping) throw new Error('the daemon is stopping');
    return this.track(this.full.request({ check: Boolean(req.check), force: Boolean(req.force), dryRun: Boolean(req.dryRun), deep: Boolean(req.deep) }));
  }

  liveStatus(): LiveStatus {
    return {
      pid: process.pid, queueDepth: this.reconciler.queue.size, inFlight: this.reconciler.queue.pending, dirty: this.dirty.size,
      watcher: this.watcherState.detail, passes: this.passes, fullPassRunning: this.full.busy, lastPass: this.lastPass, lastAudit: this.full.lastAudit,
    };
  }

  private afterPass(result: PassResult, kind: 'full' | 'watch' | 'retry'): void {
    this.passes++;
    const { log } = this.opts;
    const summary = { kind, uploaded: result.uploaded, updated: result.updated, deleted: result.deleted, unchanged: result.unchanged, skipped: result.skipped, failed: result.failed, deletesBlocked: result.heldDeletes.length, ms: result.durationMs };
    if (kind === 'full' || result.uploaded + result.updated + result.deleted + result.failed > 0) log.info(summary, `${kind} pass done`);
    const last = lastReconcileOf(result);
    this.lastPass = { ...last, kind };
    if (!this.stopping) {
      if (kind === 'full') this.index.setMeta(META_LAST_RECONCILE, last);
      this.index.setMeta(META_LAST_PASS, this.lastPass);
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

  async health(): Promise<DaemonHealth> {
    const marker = await hasMarker(this.opts.config.inbox);
    const stores = await this.probeStores();
    const checks: DaemonHealth['checks'] = {
      marker: marker ? { ok: true } : { ok: false, detail: `inbox marker missing in ${this.opts.config.inbox} (inbox unmounted?)` },
      watcher: this.watcherState,
      stores,
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
    this.full.stop();
    this.control?.close();
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
