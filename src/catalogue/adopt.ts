// Adoption: a local file without an index row whose item this host already has in the
// catalogue gets that item's row (same image_id and keys) instead of a second upload. The
// pass then does the rest: same bytes -> unchanged (nothing written), other bytes -> an update
// in place (MODIFY, version + 1), object missing -> the object is sent again under its key.
import type { Logger } from '../log.ts';
import type { ItemStore } from '../stores/dynamodb.ts';
import type { ObjectStore } from '../stores/s3.ts';
import type { IndexRow, SyncIndex } from '../sync/index-db.ts';
import type { LocalFile } from '../sync/scanner.ts';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { BLOCKING_READ_MAX, sha256File } from '../transfer.ts';
import { primaryItem, type HostItem } from './items.ts';
import { readCatalogue, type CatalogueView } from './read.ts';
import { walkCatalogue } from './walk.ts';

const HASH_CONCURRENCY = 16;

/** Small files in one read: a stream's 1 MiB buffer per 4 KiB picture costs more than the hash. */
async function hashOf(file: LocalFile): Promise<string> {
  if (file.size > BLOCKING_READ_MAX) return sha256File(file.absPath);
  return createHash('sha256').update(await readFile(file.absPath)).digest('hex');
}

async function mapLimit<T, R>(list: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(list.length);
  let next = 0;
  const work = async (): Promise<void> => {
    while (next < list.length) {
      const i = next++;
      out[i] = await fn(list[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, list.length) }, work));
  return out;
}

/** Meta key set once a full pass adopted everything it met: from then on a file without a row is new. */
export const META_CATALOGUE_ADOPTED = 'catalogue_adopted';

export interface AdoptDeps {
  index: SyncIndex;
  items: ItemStore;
  objects: ObjectStore;
  hostId: string;
  log: Logger;
  /** Where the inbox is (an older `upload`'s absolute source_path inside it is that file's). */
  config?: { inbox: string };
}

/**
 * The index row that stands for `item`. `trustContent` = the object is there with the item's
 * size, so the item's sha256 may stand for the object's; otherwise sha256 stays unknown and
 * the planner re-sends the file under the same key.
 */
export function rowForItem(item: HostItem, trustContent: boolean): Omit<IndexRow, 'updated_at' | 'attempts' | 'last_error' | 'last_error_at'> {
  return {
    source_path: item.source_path, animal: item.animal, filename: item.filename, image_id: item.image_id, uploaded_at: item.uploaded_at,
    s3_key: item.s3_key, size: item.size_bytes, mtime_ms: null, sha256: trustContent ? item.sha256 : null,
    width: item.width, height: item.height, version: item.version, state: 'synced',
  };
}

export function objectMatches(view: CatalogueView, item: HostItem): boolean {
  return view.objects.get(item.s3_key)?.size === item.size_bytes;
}

export type AdoptionSeed = ReturnType<typeof rowForItem>;

/**
 * The rows `files` (without rows) would get from their items, read-only: the catalogue is read
 * (a Query and a listing per animal) and files are hashed, nothing is written. Throws
 * CatalogueUnreadableError.
 */
export async function matchCatalogue(d: Omit<AdoptDeps, 'index' | 'log'>, files: readonly LocalFile[]): Promise<AdoptionSeed[]> {
  if (files.length === 0) return [];
  const view = await readCatalogue(d, d.hostId, files.map((f) => f.animal), d.config?.inbox);
  const matches: { file: LocalFile; item: HostItem }[] = [];
  await walkCatalogue(files, new Map(), view, {
    localOnly: () => undefined,
    catalogueOnly: () => undefined,
    match: ({ file, items }) => void matches.push({ file, item: primaryItem(items, undefined) }),
  });
  // A file whose bytes are the item's gets its row with its own size and mtime: the pass then
  // counts it unchanged on its fast path, as if the index had never been lost.
  return mapLimit(matches, HASH_CONCURRENCY, async ({ file, item }) => {
    const trusted = objectMatches(view, item);
    const seed = rowForItem(item, trusted);
    if (!trusted || item.size_bytes !== file.size) return seed;
    const sha256 = await hashOf(file).catch(() => null);
    return sha256 === item.sha256 ? { ...seed, mtime_ms: file.mtimeMs } : seed;
  });
}

/** What the pass makes of an adopted row: nothing (same bytes), a MODIFY (other bytes), or the object sent again. */
export function adoptionOutcome(seed: AdoptionSeed): 'adopt' | 'update' | 'resend' {
  if (seed.mtime_ms !== null) return 'adopt';
  return seed.sha256 === null ? 'resend' : 'update';
}

/** Gives `files` (without rows) the rows of their items; returns how many were adopted. Throws CatalogueUnreadableError. */
export async function adoptFromCatalogue(d: AdoptDeps, files: readonly LocalFile[]): Promise<number> {
  const seeds = await matchCatalogue(d, files);
  // Rows that appeared meanwhile (a watch pass got there first) are left as they are.
  d.index.transaction(() => {
    for (const row of seeds) if (!d.index.get(row.source_path)) d.index.put(row);
  });
  if (seeds.length > 0) d.log.info({ adopted: seeds.length, files: files.length }, `adopted ${seeds.length} file(s) already in the catalogue (no upload)`);
  return seeds.length;
}
