// The pure middle of the pipeline: what the local file is now + what the index says -> the
// one action that makes the remote side match. No I/O, no clock.
import type { IndexRow } from './index-db.ts';

export type LocalState =
  | { kind: 'file'; size: number; mtimeMs: number; sha256?: string }
  | { kind: 'absent' }
  /** Present but not syncable now (bad content, unreadable): the remote side is left alone. */
  | { kind: 'unusable' };

export type Action =
  | { kind: 'nothing' }
  /** Size or mtime moved: hash the file and plan again with `sha256`. */
  | { kind: 'hash' }
  | { kind: 'upload'; reason: 'new' | 'resume' | 'changed' }
  /** Same bytes, new mtime: only the index learns the new mtime. */
  | { kind: 'touch' }
  | { kind: 'delete'; reason: 'removed' | 'resume' };

type RowView = Pick<IndexRow, 'state' | 'size' | 'mtime_ms' | 'sha256'>;

export function planAction(local: LocalState, row: RowView | undefined): Action {
  // An interrupted delete is finished first, whatever the file is now; the next plan sees
  // no row and uploads the file afresh if it came back.
  if (row?.state === 'deleting') return { kind: 'delete', reason: 'resume' };
  if (local.kind === 'unusable') return { kind: 'nothing' };
  if (local.kind === 'absent') return row ? { kind: 'delete', reason: 'removed' } : { kind: 'nothing' };
  if (!row) return { kind: 'upload', reason: 'new' };
  if (row.state === 'uploading') return { kind: 'upload', reason: 'resume' };
  if (row.size === local.size && row.mtime_ms === local.mtimeMs) return { kind: 'nothing' };
  if (local.sha256 === undefined) return { kind: 'hash' };
  if (local.sha256 === row.sha256 && local.size === row.size) return { kind: 'touch' };
  return { kind: 'upload', reason: 'changed' };
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
