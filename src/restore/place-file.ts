// Putting a downloaded file under its final name without ever overwriting a different file
// by accident, and the temp names downloads are written under first. A temp file lives in
// the target's own folder (a rename is atomic only within one file system), starts with a
// dot and ends in .part: the sync daemon skips such names, so it never uploads a half file.
import { linkSync, unlinkSync } from 'node:fs';
import { lstat, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { sha256File } from '../transfer.ts';

/** A local file with other content is in the way (exit 1: a difference, nothing was changed). */
export class LocalFileDiffersError extends Error {
  override name = 'LocalFileDiffersError';
}

const TEMP_SUFFIX = '.restore.part';
const TEMP_RE = /^\..+\.\d+-\d+\.restore\.part$/;
let tempCounter = 0;

export function tempPathFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}-${++tempCounter}${TEMP_SUFFIX}`);
}

/**
 * Removes temp files a killed run left in `dir`, and returns the names of the other entries.
 * Only safe while no other restore writes there: the caller holds the restore lock.
 */
export async function removeStaleTemps(dir: string): Promise<{ removed: number; others: string[] }> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { removed: 0, others: [] };
    throw err;
  }
  const stale = names.filter((n) => TEMP_RE.test(n));
  await Promise.all(stale.map((n) => rm(path.join(dir, n), { force: true })));
  return { removed: stale.length, others: names.filter((n) => !TEMP_RE.test(n)) };
}

export type LocalState = { kind: 'absent' } | { kind: 'file'; sha256: string } | { kind: 'other'; what: string };

/** What is at `target` now: nothing, a regular file (with its sha256), or something else. */
export async function localStateOf(target: string): Promise<LocalState> {
  let st;
  try {
    st = await lstat(target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'absent' };
    throw err;
  }
  if (!st.isFile()) return { kind: 'other', what: st.isDirectory() ? 'a folder' : st.isSymbolicLink() ? 'a symlink' : 'not a regular file' };
  return { kind: 'file', sha256: await sha256File(target) };
}

export type Placement = 'written' | 'replaced' | 'identical' | 'conflict';

function removeTemp(temp: string): void {
  try {
    unlinkSync(temp);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/**
 * Moves `temp` (bytes with `sha256`) to `target`. A hard link refuses an existing name
 * atomically, so a file that appeared meanwhile is never clobbered (a rename would replace it);
 * an existing file with the same bytes counts as done, a different one is a conflict unless
 * `overwrite`. `temp` is gone afterwards in every case. No fsync: the bytes are complete in the
 * page cache before the name exists, which is what survives a crash of this process (kill -9);
 * a power loss may lose recent files, and the rerun reports what it finds.
 * The common case (link, unlink) is two synchronous calls: microseconds each, cheaper in CPU
 * than two thread-pool round trips.
 */
export async function placeFile(temp: string, target: string, sha256: string, opts: { overwrite: boolean }): Promise<Placement> {
  try {
    try {
      linkSync(temp, target);
      return 'written';
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST' && code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
      // EPERM/ENOTSUP: a file system without hard links (vfat, some FUSE): look, then rename.
    }
    const now = await localStateOf(target);
    if (now.kind === 'file' && now.sha256 === sha256) return 'identical';
    if (now.kind === 'absent' || (opts.overwrite && now.kind === 'file')) {
      await rename(temp, target);
      return now.kind === 'absent' ? 'written' : 'replaced';
    }
    return 'conflict';
  } finally {
    removeTemp(temp);
  }
}
