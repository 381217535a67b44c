// Carries out a restore plan: every file checked against what is already there, downloaded
// in parallel into a temp file beside its target, checked, then moved into place without
// overwriting a different file. A rerun after a crash skips what is already right, so it
// finishes the rest; a full disk stops the run (nothing half-written stays) for a rerun.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import PQueue from 'p-queue';
import { errorMessage } from '../errors.ts';
import type { CatalogueReader } from '../stores/catalogue-reader.ts';
import { fetchVerified } from './fetch.ts';
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
  onDone?(done: number, bytes: number): void;
}

export interface RunResult {
  reports: RestoreReport[];
  staleTempsRemoved: number;
  /** Set when the run stopped early because the disk (or quota) is full. */
  diskFull?: string;
}

const DISK_FULL = new Set(['ENOSPC', 'EDQUOT']);

async function restoreOne(reader: CatalogueReader, entry: RestoreEntry, opts: RunOptions, signal: AbortSignal): Promise<Outcome> {
  const target = path.join(opts.dir, ...entry.relPath.split('/'));
  const expected = entry.item.sha256?.toLowerCase();
  const before = await localStateOf(target);
  if (before.kind === 'other') return { kind: 'conflict', why: `${before.what} is in the way` };
  if (before.kind === 'file' && expected !== undefined) {
    if (before.sha256 === expected) return { kind: 'present' };
    if (!opts.overwrite) return { kind: 'conflict', why: 'a different file is there (sha256 differs)' };
  }
  // Without a sha256 in the item, a file already there can only be compared after the download.
  const temp = tempPathFor(target);
  const got = await fetchVerified(reader, entry.item, temp, { attempts: opts.attempts, retryBaseMs: opts.retryBaseMs, signal });
  const placed = await placeFile(temp, target, got.sha256, { overwrite: opts.overwrite });
  if (placed === 'identical') return { kind: 'present' };
  if (placed === 'conflict') return { kind: 'conflict', why: 'a different file is there (its bytes differ)' };
  return { kind: placed === 'written' ? 'restored' : 'replaced', bytes: got.size, verified: got.verified };
}

/** The folders of the plan, created, with the temp files a killed run left removed. */
async function prepareFolders(dir: string, entries: readonly RestoreEntry[]): Promise<number> {
  const folders = [...new Set(entries.map((e) => path.join(dir, ...e.relPath.split('/').slice(0, -1))))];
  let removed = 0;
  for (const folder of folders) {
    await mkdir(folder, { recursive: true });
    removed += await removeStaleTemps(folder);
  }
  return removed;
}

export async function runRestore(reader: CatalogueReader, entries: readonly RestoreEntry[], opts: RunOptions): Promise<RunResult> {
  const staleTempsRemoved = await prepareFolders(opts.dir, entries);
  const queue = new PQueue({ concurrency: opts.concurrency });
  const stop = new AbortController();
  const outcomes: Outcome[] = entries.map(() => ({ kind: 'not-started' }));
  let diskFull: string | undefined;
  let done = 0;
  let bytes = 0;
  entries.forEach((entry, i) => {
    void queue.add(async () => {
      if (stop.signal.aborted) return;
      try {
        outcomes[i] = await restoreOne(reader, entry, opts, stop.signal);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== undefined && DISK_FULL.has(code)) {
          // Every later write would fail the same way: stop, and leave the rest to a rerun.
          diskFull ??= `${code}: no space left in ${opts.dir}`;
          stop.abort();
          return;
        }
        if (stop.signal.aborted) return;
        outcomes[i] = { kind: 'failed', error: errorMessage(err) };
      }
      const o = outcomes[i]!;
      if (o.kind === 'restored' || o.kind === 'replaced') bytes += o.bytes;
      opts.onDone?.(++done, bytes);
    });
  });
  await queue.onIdle();
  return { reports: entries.map((entry, i) => ({ entry, outcome: outcomes[i]! })), staleTempsRemoved, diskFull };
}
