// Wires the stages of the pipeline (STYLE.md: scan -> plan -> execute -> record): the scan
// and candidate choice and the pass (pass.ts), the per-path decision (reconcile-path.ts), the
// upload (upload.ts) and the delete (remove.ts). Work on one path is serialized (PathLock);
// many paths run in parallel (p-queue).
import PQueue from 'p-queue';
import type { Config } from '../config.ts';
import { adoptFromCatalogue, META_CATALOGUE_ADOPTED } from '../catalogue/adopt.ts';
import { errorMessage } from '../errors.ts';
import { hasMarker } from '../inbox.ts';
import type { Logger } from '../log.ts';
import type { ItemStore } from '../stores/dynamodb.ts';
import type { ObjectStore } from '../stores/s3.ts';
import type { SyncIndex } from './index-db.ts';
import type { PathOutcome } from './outcome.ts';
import { runFolderPass } from './folder-pass.ts';
import { runPass, type PassHooks, type PassOptions, type PassResult, type PathWorker } from './pass.ts';
import { PathLock } from './path-lock.ts';
import { failedOutcome, reconcilePath, type ReconcilePathOptions } from './reconcile-path.ts';
import { removePath } from './remove.ts';
import { inspectSourcePath, type LocalFile, type Skipped } from './scanner.ts';
import { SkipLog } from './skip-log.ts';
import { Uploader, type UploadHooks } from './upload.ts';

export type { PathOutcome } from './outcome.ts';
export { lastReconcileOf, type PassResult, type PassOptions } from './pass.ts';

export interface SyncHooks extends UploadHooks, PassHooks {
  onDeleted?(sourcePath: string): void;
  onQueue?(e: { queued: number; inFlight: number }): void;
}

export interface ReconcilerDeps {
  config: Config;
  index: SyncIndex;
  objects: ObjectStore;
  items: ItemStore;
  log: Logger;
  hooks?: SyncHooks;
  /** Wall clock in ms; injectable for tests. */
  now?: () => number;
}

export class Reconciler implements PathWorker {
  readonly queue: PQueue;
  private readonly locks = new PathLock();
  private readonly d: ReconcilerDeps;
  private readonly now: () => number;
  private readonly skips: SkipLog;
  private readonly uploader: Uploader;
  /** Aborted by close(): queued work is dropped and retry waits end at once. */
  private readonly closer = new AbortController();
  private exclusiveRuns = 0;

  constructor(deps: ReconcilerDeps) {
    this.d = deps;
    this.now = deps.now ?? Date.now;
    this.skips = new SkipLog(deps.log);
    this.uploader = new Uploader({ ...deps, now: this.now });
    this.queue = new PQueue({ concurrency: deps.config.concurrency });
    const report = (): void => deps.hooks?.onQueue?.({ queued: this.queue.size, inFlight: this.queue.pending });
    this.queue.addEventListener('active', report);
    this.queue.addEventListener('next', report);
  }

  get closing(): AbortSignal {
    return this.closer.signal;
  }

  /** Queued work that has not started yet is dropped; running work goes on. */
  close(): void {
    this.closer.abort();
  }

  /** Aborts in-flight transfers (used when the grace time of a shutdown runs out). */
  abortInFlight(): void {
    this.uploader.abortInFlight();
  }

  noteSkip(s: Skipped): void {
    this.skips.note(s);
  }

  async adopt(paths: readonly string[], seen: ReadonlyMap<string, LocalFile> | undefined, opts: { complete: boolean }): Promise<Map<string, string>> {
    const { index } = this.d;
    const waiting = new Map<string, string>();
    if (index.getMeta(META_CATALOGUE_ADOPTED)) return waiting;
    const files: LocalFile[] = [];
    for (const p of paths) {
      if (index.get(p)) continue;
      const file = seen?.get(p) ?? (await inspectSourcePath(this.d.config.inbox, p).then((s) => (s.kind === 'file' ? s.file : undefined)));
      if (file) files.push(file);
    }
    try {
      await adoptFromCatalogue({ ...this.d, hostId: this.d.config.hostId }, files);
      if (opts.complete) index.setMeta(META_CATALOGUE_ADOPTED, { at: new Date(this.now()).toISOString() });
    } catch (err) {
      const why = `not uploaded: the catalogue could not be read to look for this file's item (${errorMessage(err)}); will retry`;
      for (const f of files) waiting.set(f.sourcePath, why);
    }
    return waiting;
  }

  /** Reconciles one path now (serialized with any other work on it). Deletes are not made: they come back as delete-pending. */
  reconcile(sourcePath: string, opts: ReconcilePathOptions = {}): Promise<PathOutcome> {
    return this.locks.run(sourcePath, async () => {
      const outcome = await this.queue.add(() =>
        this.closing.aborted ? { kind: 'cancelled' as const } : reconcilePath({ ...this.d, skips: this.skips, uploader: this.uploader, now: this.now }, sourcePath, opts));
      if (outcome.kind !== 'finishing') return outcome;
      // The transfer slot is free again while the item write is batched with others; the
      // path stays locked until the item is written and the index row says synced.
      try {
        return { kind: await outcome.finish };
      } catch (err) {
        return failedOutcome(this.d.index, sourcePath, err);
      }
    }, opts.dryRun ? 'plan' : 'reconcile');
  }

  /** Runs `fn` with `sourcePath` locked against any other work on it (a repair of its row). */
  exclusive<T>(sourcePath: string, fn: () => Promise<T>): Promise<T> {
    // A kind of its own per call: a waiting run absorbs only requests of its own kind.
    return this.locks.run(sourcePath, fn, `exclusive-${++this.exclusiveRuns}`);
  }

  /** Deletes one path's item and object, if the file is (still) gone. */
  delete(sourcePath: string): Promise<PathOutcome> {
    return this.locks.run(sourcePath, () => this.queue.add(async (): Promise<PathOutcome> => {
      if (this.closing.aborted) return { kind: 'cancelled' };
      try {
        return await removePath({ ...this.d, skips: this.skips }, sourcePath);
      } catch (err) {
        return failedOutcome(this.d.index, sourcePath, err);
      }
    }), 'delete');
  }

  /** A pass over everything: every candidate in the inbox and every path the index knows. */
  async runFullPass(opts: Omit<PassOptions, 'skipped' | 'seen' | 'waiting'> = {}): Promise<PassResult> {
    const { config, log } = this.d;
    if (!(await hasMarker(config.inbox))) {
      log.error({ inbox: config.inbox }, `inbox marker missing in ${config.inbox}: the inbox may be unmounted; no deletes until it is back (run \`animal-sync init\` if this really is the inbox)`);
    }
    return runFolderPass(this, { ...this.d, now: this.now }, opts);
  }

  runPass(paths: Iterable<string>, opts: PassOptions = {}): Promise<PassResult> {
    return runPass(this, { ...this.d, now: this.now }, paths, opts);
  }
}
