// Deciding one path: look at it as it is now, ask the planner, and hand the action to its
// step (upload, touch, or a delete the pass decides on). Bad content is skipped, not failed.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config.ts';
import { BadInputError, errorMessage, isTransient } from '../errors.ts';
import { inspectPngFile } from '../png.ts';
import { FileChangedError, sha256File } from '../transfer.ts';
import type { SyncIndex } from './index-db.ts';
import type { PathOutcome } from './outcome.ts';
import { planAction, planHashed, settleDelayMs, type Decision, type LocalState } from './planner.ts';
import { inspectSourcePath, type LocalFile, type PathState } from './scanner.ts';
import type { SkipLog } from './skip-log.ts';
import type { Uploader } from './upload.ts';

/** A reconcile step's outcome: a result, or an upload whose item write is still batched. */
export type StepOutcome = PathOutcome | { kind: 'finishing'; finish: Promise<'uploaded' | 'updated'> };

export interface ReconcilePathDeps {
  config: Config;
  index: SyncIndex;
  skips: SkipLog;
  uploader: Uploader;
  now: () => number;
}

export interface ReconcilePathOptions {
  dryRun?: boolean;
  /** The path as a scan just saw it; it is looked at again on any restart. */
  seen?: LocalFile;
}

const MAX_CHANGED_RESTARTS = 5;

export function localStateOf(state: PathState): LocalState {
  if (state.kind === 'file') return { kind: 'file', size: state.file.size, mtimeMs: state.file.mtimeMs };
  return state.kind === 'skipped' ? { kind: 'unusable' } : { kind: 'absent' };
}

/** The outcome of a failed step; the row (if any) remembers the error for `status`. */
export function failedOutcome(index: SyncIndex, sourcePath: string, err: unknown, opts: { dryRun?: boolean } = {}): PathOutcome {
  const msg = errorMessage(err);
  const transient = isTransient(err) || err instanceof FileChangedError;
  if (!opts.dryRun && index.get(sourcePath)) index.recordFailure(sourcePath, msg);
  return { kind: 'failed', error: msg, transient };
}

export async function reconcilePath(d: ReconcilePathDeps, sourcePath: string, opts: ReconcilePathOptions): Promise<StepOutcome> {
  try {
    return await reconcileSteps(d, sourcePath, opts);
  } catch (err) {
    if (err instanceof BadInputError) {
      d.skips.note({ path: sourcePath, reason: err.message });
      return { kind: 'skipped', reason: err.message };
    }
    return failedOutcome(d.index, sourcePath, err, opts);
  }
}

async function reconcileSteps(d: ReconcilePathDeps, sourcePath: string, opts: ReconcilePathOptions): Promise<StepOutcome> {
  const { config, index, skips } = d;
  for (let restarts = 0; ; restarts++) {
    const state: PathState = restarts === 0 && opts.seen ? { kind: 'file', file: opts.seen } : await inspectSourcePath(config.inbox, sourcePath);
    const file = state.kind === 'file' ? state.file : undefined;
    if (file) {
      // Write-settling backstop: a file modified within the stability window may still be
      // being written; wait until it has been quiet that long.
      const wait = settleDelayMs(file.mtimeMs, d.now(), config.stabilityMs);
      if (wait > 0 && restarts < MAX_CHANGED_RESTARTS * 4) {
        await sleep(Math.max(10, wait));
        continue;
      }
    }
    const row = index.get(sourcePath);
    const local = localStateOf(state);
    const planned = planAction(local, row);
    let action: Decision;
    if (planned.kind !== 'hash') action = planned;
    else {
      let sha256: string;
      try {
        sha256 = await sha256File(file!.absPath);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // gone since it was looked at
        throw err;
      }
      action = planHashed({ kind: 'file', size: file!.size, mtimeMs: file!.mtimeMs }, sha256, row);
    }
    if (state.kind === 'skipped') {
      skips.note(state.skipped);
      // The planner keeps the remote copy of a path that turned unsyncable (no delete).
      if (action.kind !== 'delete') return { kind: 'skipped', reason: state.skipped.reason };
    }
    if (opts.dryRun) {
      // Bad content shows up as skipped in the plan too (read-only check).
      if (action.kind === 'upload' && file) await inspectPngFile(file.absPath);
      return { kind: 'planned', action };
    }
    switch (action.kind) {
      case 'nothing':
        if (file) skips.forget(sourcePath);
        if (row?.last_error) index.clearFailure(sourcePath);
        return { kind: file || row ? 'unchanged' : 'nothing' };
      case 'touch':
        index.put({ ...row!, mtime_ms: file!.mtimeMs, size: file!.size, attempts: 0, last_error: null, last_error_at: null });
        return { kind: 'unchanged' };
      case 'delete':
        return { kind: 'delete-pending' };
      case 'upload': {
        const result = await d.uploader.upload(file!, row, action.reason);
        if (result === 'restart') {
          if (restarts >= MAX_CHANGED_RESTARTS) throw new FileChangedError(`${sourcePath} kept changing while being uploaded; will retry`);
          continue;
        }
        skips.forget(sourcePath);
        return typeof result === 'string' ? { kind: result } : { kind: 'finishing', finish: result.finish };
      }
    }
  }
}
