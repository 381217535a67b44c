// `check`'s consumer of the walk: names every difference between the local files, the index,
// this host's items and the objects. Read-only; the only cost beyond the bulk reads is hashing
// local files whose row cannot vouch for their bytes, and with `deep` a GET per object.
import { createHash } from 'node:crypto';
import type { ObjectStore } from '../stores/s3.ts';
import type { IndexRow } from '../sync/index-db.ts';
import type { LocalFile } from '../sync/scanner.ts';
import { sha256File } from '../transfer.ts';
import { primaryItem, type HostItem } from './items.ts';
import type { CatalogueView } from './read.ts';
import { walkCatalogue } from './walk.ts';

export const DIFFERENCE_KINDS = [
  'not-catalogued', 'item-missing', 'object-missing', 'object-differs', 'item-differs', 'duplicate-items', 'orphan-object', 'file-gone',
] as const;

export type DifferenceKind = (typeof DIFFERENCE_KINDS)[number];

export interface Difference {
  kind: DifferenceKind;
  /** source_path, or the object key of an orphan. */
  path: string;
  detail: string;
  /** The items concerned (this host's), primary first. */
  items?: HostItem[];
  /** The orphan object. */
  object?: { key: string; size: number; lastModified: string | null };
}

export interface CheckReport {
  differences: Difference[];
  counts: { files: number; items: number; foreignItems: number; objects: number; animals: number };
}

async function objectSha256(objects: ObjectStore, key: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of await objects.get(key)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The file's sha256: the row's when it vouches for these bytes (same size and mtime), else read. */
async function fileSha256(file: LocalFile, row: IndexRow | undefined): Promise<string> {
  if (row?.state === 'synced' && row.sha256 && row.size === file.size && row.mtime_ms === file.mtimeMs) return row.sha256;
  return sha256File(file.absPath);
}

export async function findDifferences(files: readonly LocalFile[], rows: ReadonlyMap<string, IndexRow>, view: CatalogueView, opts: { objects: ObjectStore; deep?: boolean }): Promise<CheckReport> {
  const differences: Difference[] = [];
  const add = (kind: DifferenceKind, path: string, detail: string, extra: Partial<Difference> = {}): void => void differences.push({ kind, path, detail, ...extra });
  let items = 0;
  for (const list of view.items.values()) items += list.length;
  // An object the index holds the key of is accounted for: its item is missing (reported
  // above), or an upload or delete of this host is under way there.
  const journaled = new Set([...rows.values()].map((r) => r.s3_key));
  await walkCatalogue(files, rows, view, {
    localOnly({ path, row }) {
      if (row && row.version > 0 && row.state !== 'uploading') add('item-missing', path, `the index knows image ${row.image_id}, the table has no item for it`);
      else add('not-catalogued', path, 'no item of this host for this file');
    },
    catalogueOnly({ path, items: list }) {
      add('file-gone', path, `${list.length} item(s) of this host, no local file`, { items: list });
    },
    async match({ path, row, file, items: list }) {
      const item = primaryItem(list, row?.image_id);
      const ordered = [item, ...list.filter((i) => i !== item)];
      if (list.length > 1) add('duplicate-items', path, `${list.length} items for one file (keeping ${item.image_id})`, { items: ordered });
      const listed = view.objects.get(item.s3_key);
      if (!listed) add('object-missing', path, `item ${item.image_id} points at ${item.s3_key}, which is not in the bucket`, { items: ordered });
      else if (listed.size !== item.size_bytes) add('object-differs', path, `object ${item.s3_key} has ${listed.size} bytes, the item says ${item.size_bytes}`, { items: ordered });
      else if (opts.deep && (await objectSha256(opts.objects, item.s3_key)) !== item.sha256) add('object-differs', path, `object ${item.s3_key}: its bytes do not hash to the item's sha256`, { items: ordered });
      // A file that vanished or turned unreadable since the scan is not judged (a sync skips it too).
      const sha = item.size_bytes === file.size ? await fileSha256(file, row).catch(() => item.sha256) : undefined;
      if (sha !== item.sha256) {
        add('item-differs', path, `item ${item.image_id} (${item.size_bytes} bytes, v${item.version}) does not describe the file (${file.size} bytes)`, { items: ordered });
      }
    },
    orphan(o) {
      if (journaled.has(o.key)) return;
      add('orphan-object', o.key, `${o.size} bytes, no item points at it`, { object: { key: o.key, size: o.size, lastModified: o.lastModified?.toISOString() ?? null } });
    },
  });
  return { differences, counts: { files: files.length, items, foreignItems: view.foreign, objects: view.objects.size, animals: view.animals.length } };
}

/** `kind: n` for every kind that occurs, in the order of DIFFERENCE_KINDS. */
export function countByKind(differences: readonly Difference[]): Partial<Record<DifferenceKind, number>> {
  const out: Partial<Record<DifferenceKind, number>> = {};
  for (const k of DIFFERENCE_KINDS) {
    const n = differences.filter((d) => d.kind === k).length;
    if (n > 0) out[k] = n;
  }
  return out;
}
