// One reconcile pass: choose the candidate paths, feed them to bounded workers, retry the
// transient failures, make the deletes only if the delete guard allows them, and tally.
// The paths may come as a stream (a full pass, folder by folder: folder-pass.ts): only the
// tally, the transient failures and the deletes asked for are kept for the whole pass.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config.ts';
import { hasMarker } from '../inbox.ts';
import type { Logger } from '../log.ts';
import type { LastReconcile, PassCounts, ScanRow, SyncIndex } from './index-db.ts';
import { PassTally } from './pass-tally.ts';
import type { PathOutcome } from './outcome.ts';
import { deleteBlockReason, unchangedAtScan, type Action } from './planner.ts';
import type { LocalFile, ScanResult, Skipped } from './scanner.ts';

export interface PassHooks {
  onFailed?(sourcePath: string, error: string): void;
  onProgress?(e: { done: number; total: number; bytes: number }): void;
}

export interface PassOptions {
  force?: boolean;
  dryRun?: boolean;
  /** Extra rounds for paths that failed with a transient error. */
  retryRounds?: number;
  /** Paths the scan skipped, logged once each. */
  skipped?: Skipped[];
  /** What the scan found at these paths (its lstat), used instead of a second look on the first round. */
  seen?: ReadonlyMap<string, LocalFile>;
  /** The caller adopted already (a full pass): these paths wait for the catalogue, with the reason. */
  waiting?: ReadonlyMap<string, string>;
}

export interface PassResult extends PassCounts {
  deleteBlockReason: string | null;
  /** Deletes the guard held back (a retry of the failed uploads must carry them too). */
  heldDeletes: string[];
  failures: { path: string; error: string }[];
  plan: { path: string; action: Action }[];
  durationMs: number;
}

/** What a pass needs of the reconciler: one path at a time, serialized per path. */
export interface PathWorker {
  reconcile(sourcePath: string, opts: { dryRun?: boolean; seen?: LocalFile }): Promise<PathOutcome>;
  delete(sourcePath: string): Promise<PathOutcome>;
  noteSkip(s: Skipped): void;
  /**
   * Before any upload: paths without a row that this host's items already cover get their
   * rows (catalogue/adopt.ts). Returns the paths that must wait (the catalogue could not be
   * read: uploading them now could make a second item), with the reason.
   */
  adopt(paths: readonly string[], seen: ReadonlyMap<string, LocalFile> | undefined, opts: { complete: boolean }): Promise<Map<string, string>>;
  /** Aborted on shutdown: retry waits end at once. */
  readonly closing: AbortSignal;
}

export interface PassDeps {
  config: Config;
  index: SyncIndex;
  log: Logger;
  hooks?: PassHooks;
  now: () => number;
}

/** What `status` shows of a finished pass. */
export function lastReconcileOf(r: PassResult, finishedAt = new Date()): LastReconcile {
  return {
    finishedAt: finishedAt.toISOString(), durationMs: r.durationMs, uploaded: r.uploaded, updated: r.updated, deleted: r.deleted,
    unchanged: r.unchanged, skipped: r.skipped, failed: r.failed, ok: r.failed === 0 && r.heldDeletes.length === 0,
  };
}

export interface Candidates {
  /** Paths to reconcile: files that may have changed, and rows whose file the scan did not find. */
  paths: string[];
  /** The scan's view of those of them that are files. */
  seen: Map<string, LocalFile>;
  /** Files the skip rule settled without a trip through the queue. */
  unchanged: number;
}

/** Candidate selection of a full pass. Pure: the scan and the rows in, the work out. */
export function chooseCandidates(scan: ScanResult, rows: ReadonlyMap<string, ScanRow>, nowMs: number, stabilityMs: number): Candidates {
  const paths: string[] = [];
  const seen = new Map<string, LocalFile>();
  let unchanged = 0;
  for (const f of scan.files) {
    if (unchangedAtScan(f, rows.get(f.sourcePath), nowMs, stabilityMs)) unchanged++;
    else {
      paths.push(f.sourcePath);
      seen.set(f.sourcePath, f);
    }
  }
  const scanned = new Set(scan.files.map((f) => f.sourcePath));
  for (const p of rows.keys()) if (!scanned.has(p)) paths.push(p);
  return { paths, seen, unchanged };
}

export { tally, type Tally } from './pass-tally.ts';

/** One path for the workers, with the scan's look at it if it is a file. */
export interface Work {
  path: string;
  seen?: LocalFile;
}

/** The state of one pass while its paths go through: see runPass and folder-pass.ts. */
export class PassRun {
  private readonly worker: PathWorker;
  private readonly d: PassDeps;
  private readonly opts: PassOptions;
  private readonly started: number;
  private readonly tally = new PassTally();
  /** Transient failures of the current round: retried, and final only after the last round. */
  private retry = new Map<string, PathOutcome>();
  private done = 0;
  private bytes = 0;
  private total = 0;

  constructor(worker: PathWorker, d: PassDeps, opts: PassOptions) {
    this.worker = worker;
    this.d = d;
    this.opts = opts;
    this.started = d.now();
  }

  /** Paths the pass will look at (the progress total grows as a streamed pass finds them). */
  expect(paths: number): void {
    this.total += paths;
  }

  noteSkipped(skipped: readonly Skipped[]): void {
    for (const s of skipped) this.worker.noteSkip(s);
    this.tally.t.skipped += skipped.length;
  }

  /** Files the skip rule settled without a trip through the queue. */
  noteUnchanged(files: number): void {
    this.tally.t.unchanged += files;
  }

  /** Paths that wait for the catalogue (adoption could not read it): failed for this round. */
  wait(waiting: ReadonlyMap<string, string>): void {
    for (const [p, error] of waiting) this.retry.set(p, { kind: 'failed', error, transient: true });
  }

  /**
   * Feeds `work` to a bounded set of workers, not all at once: memory stays flat for a big
   * inbox. There are enough of them to keep every transfer slot busy while finished uploads
   * wait for their batched item writes.
   */
  async feed(work: Iterable<Work> | AsyncIterable<Work>, fn: (w: Work) => Promise<void> = (w) => this.reconcile(w)): Promise<void> {
    const it = Symbol.asyncIterator in work ? work[Symbol.asyncIterator]() : work[Symbol.iterator]();
    const pull = async (): Promise<void> => {
      for (let n = await it.next(); !n.done; n = await it.next()) await fn(n.value);
    };
    // Every worker finishes what it took before a failure of the stream is passed on.
    const settled = await Promise.allSettled(Array.from({ length: this.d.config.concurrency + 64 }, pull));
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** One round over `paths`: adoption of those without a row first, then the workers. */
  async round(paths: readonly string[], seen?: ReadonlyMap<string, LocalFile>, adopted?: ReadonlyMap<string, string>): Promise<void> {
    const waiting = adopted ?? (this.opts.dryRun ? new Map<string, string>() : await this.worker.adopt(paths, seen, { complete: false }));
    this.wait(waiting);
    await this.feed((function* (): Generator<Work> {
      for (const p of paths) if (!waiting.has(p)) yield { path: p, seen: seen?.get(p) };
    })());
  }

  /** The retry rounds, the deletes the guard allows, and the result of the whole pass. */
  async finish(): Promise<PassResult> {
    const { config, index, log, hooks } = this.d;
    const { worker, opts } = this;
    for (let round = 0; round < (opts.retryRounds ?? 2) && this.retry.size > 0; round++) {
      const again = [...this.retry.keys()];
      const wait = config.retryBaseMs * 2 ** round;
      log.info({ files: again.length, retryInMs: wait }, `retrying ${again.length} failed file(s)`);
      await sleep(wait, undefined, { signal: worker.closing }).catch(() => undefined);
      if (worker.closing.aborted) break;
      this.retry = new Map();
      await this.round(again);
    }
    for (const [p, o] of this.retry) this.tally.add(p, o);
    this.retry = new Map();
    const pendingDeletes = this.tally.deletes.splice(0);
    let blockReason: string | null = null;
    let heldDeletes: string[] = [];
    if (pendingDeletes.length > 0) {
      blockReason = deleteBlockReason({
        deletes: pendingDeletes.length, hostItems: index.itemCount(), maxDelete: config.maxDelete, maxDeleteRatio: config.maxDeleteRatio,
        force: opts.force ?? false, markerPresent: await hasMarker(config.inbox), failedUploads: this.tally.t.failed,
      });
      if (blockReason) {
        heldDeletes = pendingDeletes;
        log.error({ deletes: pendingDeletes.length, reason: blockReason }, `not deleting ${pendingDeletes.length} file(s): ${blockReason}`);
      } else if (!opts.dryRun) {
        await this.feed(pendingDeletes.map((path) => ({ path })), async (w) => this.tally.add(w.path, await worker.delete(w.path)));
      }
    }
    const counted = this.tally.t;
    for (const f of counted.failures) {
      log.error({ path: f.path, error: f.error }, `failed ${f.path}: ${f.error}`);
      hooks?.onFailed?.(f.path, f.error);
    }
    return { ...counted, deleteBlockReason: blockReason, heldDeletes, durationMs: this.d.now() - this.started };
  }

  private async reconcile(w: Work): Promise<void> {
    const outcome = await this.worker.reconcile(w.path, { dryRun: this.opts.dryRun, seen: w.seen });
    if (outcome.kind === 'failed' && outcome.transient) {
      this.retry.set(w.path, outcome);
      return;
    }
    this.tally.add(w.path, outcome);
    if (outcome.kind === 'failed') return;
    this.done++;
    if (outcome.kind === 'uploaded' || outcome.kind === 'updated') this.bytes += this.d.index.get(w.path)?.size ?? 0;
    this.d.hooks?.onProgress?.({ done: this.done, total: this.total, bytes: this.bytes });
  }
}

/**
 * One reconcile pass over `paths`: uploads and updates first, then, only if the delete
 * guard allows it (marker present, no failed upload, under the caps), the deletes.
 */
export async function runPass(worker: PathWorker, d: PassDeps, paths: Iterable<string>, opts: PassOptions = {}): Promise<PassResult> {
  const run = new PassRun(worker, d, opts);
  run.noteSkipped(opts.skipped ?? []);
  const unique = [...new Set(paths)];
  run.expect(unique.length);
  await run.round(unique, opts.seen, opts.waiting);
  return run.finish();
}
