// Carries out a restore plan that arrives in batches (one per animal partition, as each is
// read): every file checked against what is already there, downloaded in parallel into a temp
// file beside its target, checked, then moved into place without overwriting a different file.
// Downloads start with the first batch, not after the whole catalogue is read. A rerun after a
// crash skips what is already right, so it finishes the rest; a full disk stops the run
// (nothing half-written stays) for a rerun.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage } from '../errors.ts';
import { fetchVerified, type ObjectSource } from './fetch.ts';
import { localStateOf, placeFile, removeStaleTemps, tempPathFor } from './place-file.ts';
import type { RestoreEntry } from './plan.ts';

export type Outcome =
  | { kind: 'restored'; bytes: number; verified: boolean }
  | { kind: 'replaced'; bytes: number; verified: boolean }
  | { kind: 'present' }
  | { kind: 'conflict'; why: string }
  | { kind: 'failed'; error: string }
  | { kind: 'not-started' };

export interface RestoreReport {
  entry: RestoreEntry;
  outcome: Outcome;
}

export interface RunOptions {
  dir: string;
  overwrite: boolean;
  concurrency: number;
  attempts: number;
  retryBaseMs: number;
  /** After each file, and when a batch adds to the total. */
  onProgress?(done: number, total: number, bytes: number): void;
}

export interface RunResult {
  reports: RestoreReport[];
  staleTempsRemoved: number;
  /** Set when the run stopped early because the disk (or quota) is full. */
  diskFull?: string;
}

const DISK_FULL = new Set(['ENOSPC', 'EDQUOT']);

async function restoreOne(source: ObjectSource, entry: RestoreEntry, present: ReadonlySet<string>, opts: RunOptions, signal: AbortSignal): Promise<Outcome> {
  const target = path.join(opts.dir, ...entry.relPath.split('/'));
  const expected = entry.item.sha256?.toLowerCase();
  // A name that was not there when the folder was read is taken as absent; if it appears
  // meanwhile, placeFile finds it (a hard link never replaces a name).
  const before = present.has(entry.relPath) ? await localStateOf(target) : { kind: 'absent' as const };
  if (before.kind === 'other') return { kind: 'conflict', why: `${before.what} is in the way` };
  if (before.kind === 'file' && expected !== undefined) {
    if (before.sha256 === expected) return { kind: 'present' };
    if (!opts.overwrite) return { kind: 'conflict', why: 'a different file is there (sha256 differs)' };
  }
  // Without a sha256 in the item, a file already there can only be compared after the download.
  const temp = tempPathFor(target);
  const got = await fetchVerified(source, entry.item, temp, { attempts: opts.attempts, retryBaseMs: opts.retryBaseMs, signal });
  const placed = await placeFile(temp, target, got.sha256, { overwrite: opts.overwrite });
  if (placed === 'identical') return { kind: 'present' };
  if (placed === 'conflict') return { kind: 'conflict', why: 'a different file is there (its bytes differ)' };
  return { kind: placed === 'written' ? 'restored' : 'replaced', bytes: got.size, verified: got.verified };
}

/**
 * The folders of the plan, created, with the temp files a killed run left removed, and the
 * relative paths already there: one readdir per folder instead of one lstat per file.
 */
async function prepareFolders(dir: string, entries: readonly RestoreEntry[]): Promise<{ removed: number; present: Set<string> }> {
  const folders = [...new Set(entries.map((e) => e.relPath.slice(0, e.relPath.lastIndexOf('/'))))];
  let removed = 0;
  const present = new Set<string>();
  for (const rel of folders) {
    const folder = path.join(dir, ...rel.split('/'));
    await mkdir(folder, { recursive: true });
    const listed = await removeStaleTemps(folder);
    removed += listed.removed;
    for (const name of listed.others) present.add(`${rel}/${name}`);
  }
  return { removed, present };
}

/**
 * Runs `opts.concurrency` workers over the entries of `batches`. If reading the batches fails,
 * the files under way are finished and the error is thrown; what was restored stays (complete
 * and verified), for a rerun.
 */
export async function runRestore(source: ObjectSource, batches: AsyncIterable<readonly RestoreEntry[]>, opts: RunOptions): Promise<RunResult> {
  const reports: RestoreReport[] = [];
  const present = new Set<string>();
  const stop = new AbortController();
  let staleTempsRemoved = 0;
  let diskFull: string | undefined;
  let done = 0;
  let bytes = 0;
  let next = 0;
  let feeding = true;
  let feedError: unknown;
  let waiting: (() => void)[] = [];
  const wakeAll = (): void => {
    for (const w of waiting) w();
    waiting = [];
  };
  const feed = async (): Promise<void> => {
    try {
      for await (const batch of batches) {
        // After a full disk the rest is only counted (not started), for the summary.
        if (!stop.signal.aborted) {
          const prepared = await prepareFolders(opts.dir, batch);
          staleTempsRemoved += prepared.removed;
          for (const p of prepared.present) present.add(p);
        }
        for (const entry of batch) reports.push({ entry, outcome: { kind: 'not-started' } });
        opts.onProgress?.(done, reports.length, bytes);
        wakeAll();
      }
    } catch (err) {
      feedError = err;
    } finally {
      feeding = false;
      wakeAll();
    }
  };
  const take = async (): Promise<RestoreReport | undefined> => {
    while (next >= reports.length && feeding) await new Promise<void>((r) => waiting.push(r));
    return next < reports.length ? reports[next++] : undefined;
  };
  const work = async (): Promise<void> => {
    for (let report = await take(); report !== undefined; report = await take()) {
      if (stop.signal.aborted || feedError !== undefined) continue;
      try {
        report.outcome = await restoreOne(source, report.entry, present, opts, stop.signal);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== undefined && DISK_FULL.has(code)) {
          // Every later write would fail the same way: stop, and leave the rest to a rerun.
          diskFull ??= `${code}: no space left in ${opts.dir}`;
          stop.abort();
          continue;
        }
        if (stop.signal.aborted) continue;
        report.outcome = { kind: 'failed', error: errorMessage(err) };
      }
      if (report.outcome.kind === 'restored' || report.outcome.kind === 'replaced') bytes += report.outcome.bytes;
      opts.onProgress?.(++done, reports.length, bytes);
    }
  };
  await Promise.all([feed(), ...Array.from({ length: opts.concurrency }, work)]);
  if (feedError !== undefined) throw feedError;
  return { reports, staleTempsRemoved, diskFull };
}
