// The pure middle of the pipeline: what the local file is now + what the index says -> the
// one action that makes the remote side match. No I/O, no clock (the time is passed in).
import type { IndexRow } from './index-db.ts';

export interface FileState {
  kind: 'file';
  size: number;
  mtimeMs: number;
  sha256?: string;
}

export type LocalState =
  | FileState
  | { kind: 'absent' }
  /** Present but not syncable now (bad name, bad type, unreadable): the remote side is left alone. */
  | { kind: 'unusable' };

export type Action =
  | { kind: 'nothing' }
  /** Size or mtime moved: hash the file and plan again with planHashed. */
  | { kind: 'hash' }
  | { kind: 'upload'; reason: 'new' | 'resume' | 'changed' }
  /** Same bytes, new mtime: only the index learns the new mtime. */
  | { kind: 'touch' }
  | { kind: 'delete'; reason: 'removed' | 'resume' };

/** An action that needs no more looking at the file. */
export type Decision = Exclude<Action, { kind: 'hash' }>;

type RowView = Pick<IndexRow, 'state' | 'size' | 'mtime_ms' | 'sha256'>;

/** Everything decidable from metadata alone; `content` = only the bytes can tell. */
function planByMetadata(local: LocalState, row: RowView | undefined): Decision | { kind: 'content'; row: RowView } {
  // An interrupted delete is finished first, whatever the file is now; the next plan sees
  // no row and uploads the file afresh if it came back.
  if (row?.state === 'deleting') return { kind: 'delete', reason: 'resume' };
  if (local.kind === 'unusable') return { kind: 'nothing' };
  if (local.kind === 'absent') return row ? { kind: 'delete', reason: 'removed' } : { kind: 'nothing' };
  if (!row) return { kind: 'upload', reason: 'new' };
  if (row.state === 'uploading') return { kind: 'upload', reason: 'resume' };
  if (row.size === local.size && row.mtime_ms === local.mtimeMs) return { kind: 'nothing' };
  return { kind: 'content', row };
}

function planByContent(sha256: string, size: number, row: RowView): Decision {
  return sha256 === row.sha256 && size === row.size ? { kind: 'touch' } : { kind: 'upload', reason: 'changed' };
}

export function planAction(local: LocalState, row: RowView | undefined): Action {
  const d = planByMetadata(local, row);
  if (d.kind !== 'content') return d;
  const sha256 = local.kind === 'file' ? local.sha256 : undefined;
  return sha256 === undefined ? { kind: 'hash' } : planByContent(sha256, (local as FileState).size, d.row);
}

/** The plan once the file's bytes are hashed (what `hash` asked for). */
export function planHashed(local: FileState, sha256: string, row: RowView | undefined): Decision {
  const d = planByMetadata(local, row);
  return d.kind === 'content' ? planByContent(sha256, local.size, d.row) : d;
}

/**
 * Write-settling: how long a file last modified at `mtimeMs` must still stay quiet before it
 * may be read as final; 0 = it has been quiet for `stabilityMs` already.
 */
export function settleDelayMs(mtimeMs: number, nowMs: number, stabilityMs: number): number {
  return Math.max(0, stabilityMs - (nowMs - mtimeMs));
}

/**
 * The scan's skip rule: a settled file whose clean row the planner leaves alone by size and
 * mtime needs no trip through the queue (this keeps a no-change pass fast).
 */
export function unchangedAtScan(file: { size: number; mtimeMs: number }, row: Pick<IndexRow, 'state' | 'size' | 'mtime_ms' | 'last_error'> | undefined, nowMs: number, stabilityMs: number): boolean {
  if (!row || row.last_error || settleDelayMs(file.mtimeMs, nowMs, stabilityMs) > 0) return false;
  // No hash of the file is known here, so the row's sha256 is never read: a size or mtime
  // that moved asks for a hash instead.
  return planAction({ kind: 'file', size: file.size, mtimeMs: file.mtimeMs }, { ...row, sha256: null }).kind === 'nothing';
}

export interface DeleteGuardInput {
  deletes: number;
  hostItems: number;
  maxDelete: number;
  maxDeleteRatio: number;
  force: boolean;
  markerPresent: boolean;
  failedUploads: number;
}

/** Below this many deletes in one pass, the ratio rule does not apply (small inboxes). */
export const RATIO_RULE_MIN_DELETES = 5;

/** Whether a pass may make its deletes; null = yes, otherwise the reason it may not. Pure. */
export function deleteBlockReason(g: DeleteGuardInput): string | null {
  if (g.deletes === 0) return null;
  if (!g.markerPresent) return 'the inbox marker is missing (inbox unmounted or replaced?)';
  if (g.failedUploads > 0) return `${g.failedUploads} upload(s) failed in this pass; deletes wait for a clean pass`;
  if (g.force) return null;
  if (g.deletes > g.maxDelete) return `${g.deletes} deletes exceed maxDelete ${g.maxDelete}; rerun with --force if this is intended`;
  if (g.deletes > RATIO_RULE_MIN_DELETES && g.deletes * 100 > g.hostItems * g.maxDeleteRatio) {
    return `${g.deletes} deletes are more than ${g.maxDeleteRatio}% of this host's ${g.hostItems} items (inbox emptied?); rerun with --force if this is intended`;
  }
  return null;
}
