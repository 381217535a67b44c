// `upload` of a file that lies in the inbox as <animal>/<name>.png: the daemon will meet that
// file too, so it is catalogued the daemon's way (source_path relative to the inbox, this host)
// and the index learns it, journaled like the daemon's own uploads. Otherwise the daemon would
// upload it a second time (DESIGN.md invariant 7: never two items for one source_path).
import { existsSync, type Stats } from 'node:fs';
import path from 'node:path';
import { rowForItem } from '../catalogue/adopt.ts';
import { asHostItem, type HostItem } from '../catalogue/items.ts';
import { inboxRoots } from '../catalogue/source-path.ts';
import type { Config } from '../config.ts';
import type { Stores } from '../context.ts';
import { LockedError } from '../errors.ts';
import { partitionKey, sortKey, type ImageItem } from '../model.ts';
import { askDaemon } from '../sync/control.ts';
import { INDEX_FILE, SyncIndex, type IndexRow } from '../sync/index-db.ts';
import { acquireStateLock } from '../sync/lock.ts';
import type { FullPassResponse } from '../sync/full-pass.ts';

export class InboxFileKnownError extends Error {
  override name = 'InboxFileKnownError';
}

export interface InboxUpload {
  sourcePath: string;
  /** The row this upload journals before its first S3 call, with the keys it must use. */
  journal(row: Omit<IndexRow, 'updated_at' | 'attempts' | 'last_error' | 'last_error_at'>): void;
  /** The item is written: the row becomes synced (size and mtime of the file sent). */
  record(item: ImageItem, st: Pick<Stats, 'mtimeMs'>): void;
  /** The send failed and its object was removed: the daemon will upload the file as new. */
  forget(): void;
  release(): void;
}

function rowOf(item: ImageItem, mtimeMs: number | null): Omit<IndexRow, 'updated_at' | 'attempts' | 'last_error' | 'last_error_at'> {
  return {
    source_path: item.source_path!, animal: item.animal, filename: item.filename, image_id: item.image_id, uploaded_at: item.uploaded_at,
    s3_key: item.s3_key, size: item.size_bytes, mtime_ms: mtimeMs, sha256: item.sha256, width: item.width, height: item.height,
    version: item.version, state: 'synced',
  };
}

/** What the index of the state dir says of the path, read-only (a daemon holds it). */
function rowBesideDaemon(stateDir: string, sourcePath: string): IndexRow | undefined {
  if (!existsSync(path.join(stateDir, INDEX_FILE))) return undefined;
  const index = SyncIndex.open(stateDir, { readOnly: true });
  try {
    return index.get(sourcePath);
  } finally {
    index.close();
  }
}

/**
 * A running daemon holds the state dir: it runs a pass (which catalogues the file its own way)
 * and the item it wrote is returned. null when the holder is not a daemon (then: LockedError).
 */
async function catalogueByDaemon(config: Config, stores: Stores, sourcePath: string): Promise<ImageItem | null> {
  const res = (await askDaemon(config.stateDir, { op: 'pass', check: false, force: false, dryRun: false })) as FullPassResponse | null;
  if (res === null) return null;
  const failed = res.result?.failures.find((f) => f.path === sourcePath);
  if (failed) throw new Error(`the running daemon could not sync ${sourcePath}: ${failed.error}`);
  const row = rowBesideDaemon(config.stateDir, sourcePath);
  const item = row && row.state === 'synced' ? await itemOfRow(stores, row) : null;
  if (!item) throw new Error(`the running daemon ran a pass but has no item for ${sourcePath} (is the file still being written? see its log)`);
  return item;
}

/** This host's item for `sourcePath` (an older upload's absolute spelling included), from one Query of the partition. */
async function ownItem(config: Config, stores: Stores, animal: string, sourcePath: string): Promise<{ raw: ImageItem; item: HostItem } | undefined> {
  const roots = inboxRoots(config.inbox);
  let next: Record<string, unknown> | undefined;
  do {
    const page = await stores.items.query(animal, { next });
    for (const raw of page.items) {
      const item = asHostItem(raw as unknown as Record<string, unknown>, config.hostId, roots);
      if (item?.source_path === sourcePath) return { raw, item };
    }
    next = page.next;
  } while (next);
  return undefined;
}

const itemOfRow = (stores: Stores, row: IndexRow): Promise<ImageItem | null> =>
  stores.items.get({ partition_key: partitionKey(row.animal), sort_key: sortKey(row.uploaded_at, row.image_id) });

/**
 * Opens the upload of inbox file `sourcePath` (bytes `sha256`): either it is catalogued already
 * (by the running daemon, or an item of this host has it), or the caller sends it with this journal.
 */
export async function openInboxUpload(
  config: Config, stores: Stores, sourcePath: string, st: Pick<Stats, 'size' | 'mtimeMs'>, sha256: string,
): Promise<{ done: { item: ImageItem; note: string } } | { upload: InboxUpload }> {
  let lock;
  try {
    lock = acquireStateLock(config.stateDir);
  } catch (err) {
    if (!(err instanceof LockedError)) throw err;
    const item = await catalogueByDaemon(config, stores, sourcePath);
    if (!item) throw err;
    return { done: { item, note: `${sourcePath} is in the inbox of the running daemon: catalogued by it` } };
  }
  const index = SyncIndex.open(config.stateDir);
  const release = (): void => {
    index.close();
    lock.release();
  };
  try {
    const row = index.get(sourcePath);
    if (row) {
      const item = row.state === 'synced' && row.size === st.size && row.mtime_ms === st.mtimeMs ? await itemOfRow(stores, row) : null;
      if (!item) throw new InboxFileKnownError(`${sourcePath} is in the inbox and the index knows it as image ${row.image_id} (${row.state}); \`animal-sync sync --once\` syncs it (in place, same image_id)`);
      release();
      return { done: { item, note: `${sourcePath} is already catalogued as image ${item.image_id}; nothing uploaded` } };
    }
    const own = await ownItem(config, stores, sourcePath.split('/')[0]!, sourcePath);
    if (own) {
      // This file's own item (the index was lost, or an older upload wrote it): the index learns it.
      const same = own.item.sha256 === sha256 && own.item.size_bytes === st.size;
      index.put({ ...rowForItem(own.item, same), mtime_ms: same ? st.mtimeMs : null });
      if (!same) throw new InboxFileKnownError(`${sourcePath} is catalogued as image ${own.item.image_id} with other bytes; the index now knows it: \`animal-sync sync --once\` updates it in place`);
      release();
      return { done: { item: own.raw, note: `${sourcePath} is already catalogued as image ${own.item.image_id}; the index now knows it, nothing uploaded` } };
    }
  } catch (err) {
    release();
    throw err;
  }
  return {
    upload: {
      sourcePath,
      journal: (r) => void index.put(r),
      record: (item, s) => void index.put(rowOf(item, s.mtimeMs)),
      forget: () => index.remove(sourcePath),
      release,
    },
  };
}
