// Reads the catalogue back in bulk, per animal: one paginated Query of the partition and one
// ListObjectsV2 of its `animals/<animal>/` prefix. No Scan, no per-file GetItem, no HEAD.
import { errorMessage } from '../errors.ts';
import { isValidAnimal } from '../model.ts';
import type { ItemStore } from '../stores/dynamodb.ts';
import type { ListedObject, ObjectStore } from '../stores/s3.ts';
import { asHostItem, type HostItem } from './items.ts';
import { inboxRoots } from './source-path.ts';

export interface CatalogueView {
  animals: string[];
  /** This host's items, by source_path (more than one = a duplicate). */
  items: Map<string, HostItem[]>;
  /** Items of other hosts and tools, per animal: counted, not judged. */
  foreign: number;
  /** Every object under the listed prefixes, by key. */
  objects: Map<string, ListedObject>;
  /** Keys some item (of any host) points at. */
  referenced: Set<string>;
}

/** A part of the catalogue could not be read: nothing may be repaired on a partial picture. */
export class CatalogueUnreadableError extends Error {
  override name = 'CatalogueUnreadableError';
}

export const OBJECT_ROOT = 'animals/';

/**
 * s3rver escapes `& < > '` twice in listings: a key listed as `a&amp;b` is the object `a&b`.
 * animal-sync's own keys never hold these characters; other tools' keys may.
 */
function listedForms(key: string): string[] {
  const escaped = key.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;');
  return escaped === key ? [key] : [key, escaped, key.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&#39;')];
}

/**
 * The animals whose partitions may hold anything: the given ones plus the animal folders under
 * `animals/` in the bucket, from `listAnimals` (CatalogueReader.animalNames: a Delimiter listing
 * would find no folder on S3-compatible servers such as s3rver, and an animal with no local file
 * and no index row, a whole folder deleted after a lost index, would never be checked).
 */
export async function catalogueAnimals(listAnimals: () => Promise<string[]>, bucket: string, known: Iterable<string>): Promise<string[]> {
  let folders: string[];
  try {
    folders = await listAnimals();
  } catch (err) {
    throw new CatalogueUnreadableError(`cannot list the bucket ${bucket}: ${errorMessage(err)}`, { cause: err });
  }
  return [...new Set([...known, ...folders])].filter(isValidAnimal).sort();
}

/** `inbox`: items whose absolute source_path lies in it are read as that inbox file's (items.ts). */
export async function readCatalogue(stores: { items: ItemStore; objects: ObjectStore }, hostId: string, animals: Iterable<string>, inbox?: string): Promise<CatalogueView> {
  const roots = inbox === undefined ? [] : inboxRoots(inbox);
  const view: CatalogueView = { animals: [...new Set(animals)].sort(), items: new Map(), foreign: 0, objects: new Map(), referenced: new Set() };
  // A few animals at a time, each with its Query and its listing side by side.
  const queue = [...view.animals];
  const readAnimal = async (): Promise<void> => {
    for (let animal = queue.shift(); animal !== undefined; animal = queue.shift()) addAnimal(view, hostId, roots, ...(await readOne(stores, animal)));
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, queue.length) }, readAnimal));
  return view;
}

const READ_CONCURRENCY = 4;

async function readOne(stores: { items: ItemStore; objects: ObjectStore }, animal: string): Promise<[Record<string, unknown>[], ListedObject[]]> {
  try {
    return await Promise.all([stores.items.queryAll(animal), stores.objects.list(`${OBJECT_ROOT}${animal}/`)]);
  } catch (err) {
    throw new CatalogueUnreadableError(`cannot read the catalogue of ${animal} (table ${stores.items.table}, bucket ${stores.objects.bucket}): ${errorMessage(err)}`, { cause: err });
  }
}

function addAnimal(view: CatalogueView, hostId: string, roots: readonly string[], raw: Record<string, unknown>[], listed: ListedObject[]): void {
  for (const o of listed) view.objects.set(o.key, o);
  for (const r of raw) {
    if (typeof r.s3_key === 'string') for (const k of listedForms(r.s3_key)) view.referenced.add(k);
    const item = asHostItem(r, hostId, roots);
    if (!item) {
      view.foreign++;
      continue;
    }
    const list = view.items.get(item.source_path);
    if (list) list.push(item);
    else view.items.set(item.source_path, [item]);
  }
}
