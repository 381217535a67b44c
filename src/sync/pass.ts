// One reconcile pass: choose the candidate paths, feed them to bounded workers, retry the
// transient failures, make the deletes only if the delete guard allows them, and tally.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config.ts';
import { hasMarker } from '../inbox.ts';
import type { Logger } from '../log.ts';
import type { LastReconcile, PassCounts, ScanRow, SyncIndex } from './index-db.ts';
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

export type Tally = PassCounts & Pick<PassResult, 'failures' | 'plan'>;

/** Counts what the outcomes came to. Pure. */
export function tally(outcomes: ReadonlyMap<string, PathOutcome>): Tally {
  const t: Tally = { uploaded: 0, updated: 0, deleted: 0, unchanged: 0, skipped: 0, failed: 0, failures: [], plan: [] };
  for (const [path, o] of outcomes) {
    switch (o.kind) {
      case 'uploaded': case 'updated': case 'deleted': case 'unchanged': case 'skipped': t[o.kind]++; break;
      case 'failed':
        t.failed++;
        t.failures.push({ path, error: o.error });
        break;
      case 'planned':
        if (o.action.kind !== 'nothing') t.plan.push({ path, action: o.action });
        break;
      default: break;
    }
  }
  return t;
}

/** Paths whose outcome asks for a delete (made only if the guard allows it). */
function deletesAsked(outcomes: ReadonlyMap<string, PathOutcome>): string[] {
  const out: string[] = [];
  for (const [p, o] of outcomes) if (o.kind === 'delete-pending' || (o.kind === 'planned' && o.action.kind === 'delete')) out.push(p);
  return out;
}

/**
 * One reconcile pass over `paths`: uploads and updates first, then, only if the delete
 * guard allows it (marker present, no failed upload, under the caps), the deletes.
 */
export async function runPass(worker: PathWorker, d: PassDeps, paths: Iterable<string>, opts: PassOptions = {}): Promise<PassResult> {
  const started = d.now();
  const { config, index, log, hooks } = d;
  for (const s of opts.skipped ?? []) worker.noteSkip(s);
  const unique = [...new Set(paths)];
  let done = 0;
  let bytes = 0;
  const outcomes = new Map<string, PathOutcome>();
  // Paths are fed to the queue by a bounded set of workers, not all at once: memory stays
  // flat for a big inbox. There are enough of them to keep every transfer slot busy while
  // finished uploads wait for their batched item writes.
  const runRound = async (all: string[], seen?: ReadonlyMap<string, LocalFile>, adopted?: ReadonlyMap<string, string>): Promise<void> => {
    const waiting = adopted ?? (opts.dryRun ? new Map<string, string>() : await worker.adopt(all, seen, { complete: false }));
    for (const [p, error] of waiting) outcomes.set(p, { kind: 'failed', error, transient: true });
    const list = waiting.size === 0 ? all : all.filter((p) => !waiting.has(p));
    let next = 0;
    const work = async (): Promise<void> => {
      while (next < list.length) {
        const p = list[next++]!;
        const outcome = await worker.reconcile(p, { dryRun: opts.dryRun, seen: seen?.get(p) });
        outcomes.set(p, outcome);
        if (outcome.kind !== 'failed') {
          done++;
          if (outcome.kind === 'uploaded' || outcome.kind === 'updated') bytes += index.get(p)?.size ?? 0;
          hooks?.onProgress?.({ done, total: unique.length, bytes });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(list.length, config.concurrency + 64) }, work));
  };
  await runRound(unique, opts.seen, opts.waiting);
  for (let round = 0; round < (opts.retryRounds ?? 2); round++) {
    const again = unique.filter((p) => { const o = outcomes.get(p); return o?.kind === 'failed' && o.transient; });
    if (again.length === 0) break;
    const wait = config.retryBaseMs * 2 ** round;
    log.info({ files: again.length, retryInMs: wait }, `retrying ${again.length} failed file(s)`);
    await sleep(wait, undefined, { signal: worker.closing }).catch(() => undefined);
    if (worker.closing.aborted) break;
    await runRound(again);
  }
  const pendingDeletes = deletesAsked(outcomes);
  let blockReason: string | null = null;
  let heldDeletes: string[] = [];
  if (pendingDeletes.length > 0) {
    const failedUploads = [...outcomes.values()].filter((o) => o.kind === 'failed').length;
    blockReason = deleteBlockReason({
      deletes: pendingDeletes.length, hostItems: index.itemCount(), maxDelete: config.maxDelete, maxDeleteRatio: config.maxDeleteRatio,
      force: opts.force ?? false, markerPresent: await hasMarker(config.inbox), failedUploads,
    });
    if (blockReason) {
      heldDeletes = pendingDeletes;
      log.error({ deletes: pendingDeletes.length, reason: blockReason }, `not deleting ${pendingDeletes.length} file(s): ${blockReason}`);
    } else if (!opts.dryRun) {
      await Promise.all(pendingDeletes.map(async (p) => outcomes.set(p, await worker.delete(p))));
    }
  }
  const counted = tally(outcomes);
  counted.skipped += opts.skipped?.length ?? 0;
  for (const f of counted.failures) {
    log.error({ path: f.path, error: f.error }, `failed ${f.path}: ${f.error}`);
    hooks?.onFailed?.(f.path, f.error);
  }
  return { ...counted, deleteBlockReason: blockReason, heldDeletes, durationMs: d.now() - started };
}
