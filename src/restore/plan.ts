// Where each item goes when restored (pure: items in, relative paths out). The layout is an
// inbox: <animal>/<name>, the name being the basename of the item's source_path, else its
// filename. Two items wanting one name never overwrite each other: the one whose source_path
// is exactly that path keeps it (the daemon will then recognise it as its own), else the
// oldest; the others get "-<image_id>" before the extension.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { animalOf, safeKeyName, type CatalogueItem } from '../model.ts';

export interface RestoreEntry {
  item: CatalogueItem;
  /** `<animal>/<name>`, relative to the destination, with "/" separators. */
  relPath: string;
  /** True when the name got the image_id suffix because another item has the plain one. */
  renamed: boolean;
}

export interface Unplaceable {
  item: CatalogueItem;
  reason: string;
}

export interface RestorePlan {
  entries: RestoreEntry[];
  unplaceable: Unplaceable[];
}

/** A name that is one plain file name: no folder part, not hidden, not a temp name of ours. */
function isPlainName(name: string): boolean {
  return name !== '' && !name.startsWith('.') && !/[/\\\0]/.test(name) && Buffer.byteLength(name) <= 200;
}

export function fileNameOf(item: CatalogueItem): string | undefined {
  const candidates = [item.source_path?.split(/[/\\]/).pop(), item.filename, item.s3_key === undefined ? undefined : path.posix.basename(item.s3_key)];
  const name = candidates.find((c) => c !== undefined && c !== '');
  if (name === undefined) return undefined;
  return isPlainName(name) ? name : safeKeyName(name);
}

function suffixed(name: string, item: CatalogueItem): string {
  const id = item.image_id ?? createHash('sha256').update(item.sort_key).digest('hex').slice(0, 12);
  const ext = path.extname(name);
  return `${name.slice(0, name.length - ext.length)}-${id}${ext}`;
}

/** Deterministic order within one name: the exact source_path first, then oldest, then by key. */
function claimOrder(relPath: string) {
  return (a: CatalogueItem, b: CatalogueItem): number => {
    const exact = Number(b.source_path === relPath) - Number(a.source_path === relPath);
    if (exact !== 0) return exact;
    return (a.uploaded_at ?? '').localeCompare(b.uploaded_at ?? '') || a.sort_key.localeCompare(b.sort_key);
  };
}

/**
 * `claimed`: the paths earlier batches took (a restore plans one animal partition at a time).
 * An item whose animal attribute disagrees with its partition can want a path another
 * partition's batch already has: it gets the suffix, as a later claimant would. The paths of
 * this plan are added to it.
 */
export function planRestore(items: readonly CatalogueItem[], claimed: Set<string> = new Set()): RestorePlan {
  const byPath = new Map<string, CatalogueItem[]>();
  const unplaceable: Unplaceable[] = [];
  for (const item of items) {
    const animal = animalOf(item);
    const name = fileNameOf(item);
    if (animal === undefined) unplaceable.push({ item, reason: `no valid animal name (partition_key ${item.partition_key})` });
    else if (item.s3_key === undefined) unplaceable.push({ item, reason: 'the item names no object (no s3_key)' });
    else if (name === undefined) unplaceable.push({ item, reason: 'no file name (no source_path, filename or s3_key)' });
    else {
      const relPath = `${animal}/${name}`;
      byPath.set(relPath, [...(byPath.get(relPath) ?? []), item]);
    }
  }
  const entries: RestoreEntry[] = [];
  for (const [relPath, claimants] of byPath) {
    const sorted = claimants.sort(claimOrder(relPath));
    const dir = path.posix.dirname(relPath);
    sorted.forEach((item, i) => {
      const renamed = i > 0 || claimed.has(relPath);
      entries.push({ item, relPath: renamed ? `${dir}/${suffixed(path.posix.basename(relPath), item)}` : relPath, renamed });
    });
  }
  for (const e of entries) claimed.add(e.relPath);
  entries.sort((a, b) => a.relPath.localeCompare(b.relPath));
  return { entries, unplaceable };
}
