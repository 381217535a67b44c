// Finds inbox/<animal>/*.png. Everything else is skipped with a reason (one log line each,
// see SkipLog). Scanning only reads directory entries and lstat: contents are checked later.
import type { Dirent, Stats } from 'node:fs';
import { lstatSync } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { MARKER_NAME } from '../inbox.ts';
import { ANIMAL_RULE, isValidAnimal } from '../model.ts';

export interface LocalFile {
  /** `<animal>/<filename>`, relative to the inbox, always with "/" separators. */
  sourcePath: string;
  animal: string;
  filename: string;
  absPath: string;
  size: number;
  mtimeMs: number;
}

export interface Skipped {
  path: string;
  reason: string;
}

/** Entries lstat-ed between two turns of the event loop: a slice blocks ~1 ms from a warm cache. */
const SCAN_SLICE = 256;

const NOT_UTF8 = 'the file name is not valid UTF-8 (rename it)';

const TEMP_SUFFIXES = ['.tmp', '.temp', '.part', '.partial', '.crdownload', '.download', '.swp', '.swo', '.swx', '.bak'];

/** Why a file name (not a folder) is not a candidate, or null. Pure. */
export function fileNameProblem(filename: string): string | null {
  const lower = filename.toLowerCase();
  if (filename.startsWith('.')) return 'dotfile';
  if (filename.endsWith('~') || (filename.startsWith('#') && filename.endsWith('#'))) return 'temporary file (editor backup)';
  if (TEMP_SUFFIXES.some((s) => lower.endsWith(s))) return 'temporary file (still being written or downloaded)';
  if (!lower.endsWith('.png')) return 'not a .png file name';
  if (Buffer.byteLength(filename) > 255) return 'name longer than 255 bytes';
  return null;
}

/** Why a folder directly in the inbox is not an animal folder, or null. Pure. */
export function folderNameProblem(name: string): string | null {
  if (name.startsWith('.')) return 'hidden folder';
  if (!isValidAnimal(name)) return `folder name is not a valid animal name (${ANIMAL_RULE})`;
  return null;
}

/** Splits `<animal>/<file>`; null when the path has another shape. Pure. */
export function splitSourcePath(sourcePath: string): { animal: string; filename: string } | null {
  const parts = sourcePath.split('/');
  if (parts.length !== 2 || !parts[0] || !parts[1]) return null;
  return { animal: parts[0], filename: parts[1] };
}

function kindOf(st: Stats | Dirent): string {
  if (st.isSymbolicLink()) return 'symbolic link (not followed)';
  if (st.isFIFO()) return 'FIFO (not a regular file)';
  if (st.isSocket()) return 'socket (not a regular file)';
  if (st.isBlockDevice() || st.isCharacterDevice()) return 'device (not a regular file)';
  if (st.isDirectory()) return 'folder';
  return 'not a regular file';
}

export type PathState =
  | { kind: 'file'; file: LocalFile }
  | { kind: 'skipped'; skipped: Skipped }
  | { kind: 'absent' };

async function lstatOrNull(p: string): Promise<Stats | null | NodeJS.ErrnoException> {
  try {
    return await lstat(p);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return e.code === 'ENOENT' || e.code === 'ENOTDIR' ? null : e;
  }
}

/**
 * Looks at one path (relative to the inbox) as it is now. Skips are reported under the same
 * path the full scan uses (`<folder>/` for folders), so each gets one log line.
 */
export async function inspectSourcePath(inbox: string, sourcePath: string): Promise<PathState> {
  const parts = sourcePath.split('/');
  if (parts.length === 1 && parts[0]) {
    const st = await lstatOrNull(path.join(inbox, sourcePath));
    if (st === null || sourcePath === MARKER_NAME) return { kind: 'absent' };
    if (st instanceof Error) return { kind: 'skipped', skipped: { path: sourcePath, reason: `cannot stat it (${st.code})` } };
    if (st.isDirectory()) {
      const problem = folderNameProblem(sourcePath);
      return problem ? { kind: 'skipped', skipped: { path: sourcePath + '/', reason: problem } } : { kind: 'absent' };
    }
    return { kind: 'skipped', skipped: { path: sourcePath, reason: st.isFile() ? 'file directly in the inbox (put it in an <animal>/ folder)' : kindOf(st) } };
  }
  const split = splitSourcePath(sourcePath);
  if (!split) return { kind: 'skipped', skipped: { path: sourcePath, reason: 'not of the form <animal>/<name>.png' } };
  const folderProblem = folderNameProblem(split.animal);
  if (folderProblem) return { kind: 'skipped', skipped: { path: split.animal + '/', reason: folderProblem } };
  const dirSt = await lstatOrNull(path.join(inbox, split.animal));
  if (dirSt === null || (!(dirSt instanceof Error) && !dirSt.isDirectory())) return { kind: 'absent' };
  return inspectEntry(inbox, split.animal, split.filename);
}

/** One entry of an animal folder that is known to be a folder (one lstat). */
async function inspectEntry(inbox: string, animal: string, filename: string): Promise<PathState> {
  const absPath = path.join(inbox, animal, filename);
  return classifyEntry(absPath, animal, filename, await lstatOrNull(absPath));
}

/** The same look with a blocking lstat, at `dir` + "/" + `filename` (the full scan's, see scanFolder). */
function inspectEntrySync(dir: string, animal: string, filename: string): PathState {
  const absPath = `${dir}${path.sep}${filename}`;
  let st: Stats | null | NodeJS.ErrnoException;
  try {
    st = lstatSync(absPath, { throwIfNoEntry: false }) ?? null;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    st = e.code === 'ENOTDIR' ? null : e;
  }
  return classifyEntry(absPath, animal, filename, st);
}

/** What an entry is, from its lstat (null = gone). Pure. */
function classifyEntry(absPath: string, animal: string, filename: string, st: Stats | null | NodeJS.ErrnoException): PathState {
  const sourcePath = `${animal}/${filename}`;
  if (st === null) return { kind: 'absent' };
  if (st instanceof Error) return { kind: 'skipped', skipped: { path: sourcePath, reason: `cannot stat it (${st.code})` } };
  if (st.isDirectory()) return { kind: 'skipped', skipped: { path: sourcePath + '/', reason: 'nested folder (only <animal>/<name>.png is synced)' } };
  const nameProblem = fileNameProblem(filename);
  if (nameProblem) return { kind: 'skipped', skipped: { path: sourcePath, reason: nameProblem } };
  if (!st.isFile()) return { kind: 'skipped', skipped: { path: sourcePath, reason: kindOf(st) } };
  if (st.size === 0) return { kind: 'skipped', skipped: { path: sourcePath, reason: 'empty file (0 bytes)' } };
  return { kind: 'file', file: { sourcePath, animal, filename, absPath, size: st.size, mtimeMs: st.mtimeMs } };
}

export interface ScanResult {
  files: LocalFile[];
  skipped: Skipped[];
}

/** The animal folders directly in the inbox, sorted, and what else is there (skipped). Throws if the inbox cannot be read. */
export async function listInbox(inbox: string): Promise<{ folders: string[]; skipped: Skipped[] }> {
  const folders: string[] = [];
  const skipped: Skipped[] = [];
  for (const top of await readdir(inbox, { withFileTypes: true })) {
    if (top.name === MARKER_NAME) continue;
    if (!top.isDirectory()) {
      skipped.push({ path: top.name, reason: top.isFile() ? 'file directly in the inbox (put it in an <animal>/ folder)' : kindOf(top) });
      continue;
    }
    const problem = folderNameProblem(top.name);
    if (problem) skipped.push({ path: top.name + '/', reason: problem });
    else folders.push(top.name);
  }
  return { folders: folders.sort(), skipped };
}

/** The candidates of one animal folder (listed by listInbox), sorted by path. */
export async function scanFolder(inbox: string, folder: string): Promise<ScanResult> {
  const files: LocalFile[] = [];
  const skipped: Skipped[] = [];
  const dir = path.join(inbox, folder);
  // Names, not Dirents, and the path by concatenation: the lstat tells the type anyway, and
  // this is ~20 % of the CPU of a scan of 100,000 files (bench/README).
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    return { files, skipped: [{ path: folder + '/', reason: `cannot read the folder (${(err as NodeJS.ErrnoException).code})` }] };
  }
  // Blocking lstats, a slice at a time: a quarter of the CPU of one promise per entry, and
  // no thousands of requests queued at once (a 100,000-file scan peaked ~100 MiB higher).
  for (let i = 0; i < names.length; i++) {
    if (i > 0 && i % SCAN_SLICE === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    const name = names[i]!;
    const state = inspectEntrySync(dir, folder, name);
    if (state.kind === 'file') files.push(state.file);
    else if (state.kind === 'skipped') skipped.push(state.skipped);
    // A name that is not UTF-8 comes back from readdir with U+FFFD in it: that path does not
    // exist, and without this line the file would be ignored without a word.
    else if (name.includes('\uFFFD')) skipped.push({ path: `${folder}/${name}`, reason: NOT_UTF8 });
  }
  files.sort((a, b) => (a.sourcePath < b.sourcePath ? -1 : 1));
  return { files, skipped };
}

/** Lists every candidate under the inbox (a full pass goes folder by folder instead). Throws if the inbox itself cannot be read. */
export async function scanInbox(inbox: string): Promise<ScanResult> {
  const { folders, skipped } = await listInbox(inbox);
  const files: LocalFile[] = [];
  for (const folder of folders) {
    const one = await scanFolder(inbox, folder);
    for (const f of one.files) files.push(f);
    skipped.push(...one.skipped);
  }
  // By path across folders too ('bird-2/' sorts before 'bird/').
  files.sort((a, b) => (a.sourcePath < b.sourcePath ? -1 : 1));
  return { files, skipped };
}
