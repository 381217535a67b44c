// One check: the inbox as it is now and the index against this host's items and the objects,
// for every animal (or one). Shared by `check`, `sync --once --check` and the daemon's audit.
// It goes animal by animal, like the pass: one folder's files, rows, items and listing are held
// at a time, and what is kept across animals is only the differences (a whole-catalogue read
// at 100,000 files took the watching daemon from ~150 MiB to ~390 MiB).
import type { Config } from '../config.ts';
import type { CatalogueReader } from '../stores/catalogue-reader.ts';
import type { ItemStore } from '../stores/dynamodb.ts';
import type { ListedObject, ObjectStore } from '../stores/s3.ts';
import type { IndexRow } from '../sync/index-db.ts';
import { listInbox, scanFolder, type ScanResult, type Skipped } from '../sync/scanner.ts';
import { findDifferences, type CheckReport, type Difference } from './differences.ts';
import { catalogueAnimals, OBJECT_ROOT, readCatalogue, type CatalogueView } from './read.ts';

/** The index rows, folder by folder (SyncIndex has these). */
export interface RowSource {
  /** The top-level folders the rows are under. */
  folders(): string[];
  /** The rows under one folder. */
  rowsUnder(folder: string): IndexRow[];
}

/** No index (yet): every file is "not catalogued" or adoptable. */
export const NO_ROWS: RowSource = { folders: () => [], rowsUnder: () => [] };

export interface CheckInput {
  config: Config;
  stores: { items: ItemStore; objects: ObjectStore };
  rows: RowSource;
  /** Only this animal (a Query and a listing of its own). */
  animal?: string;
  deep?: boolean;
  /** Awaited before each animal is read (the daemon lets its live work go first). */
  beforeAnimal?: () => Promise<void>;
}

export interface CheckResult {
  report: CheckReport;
  /** Not the whole catalogue: the objects the differences' items point at (what repair asks about). */
  view: CatalogueView;
  /** The index rows of the paths that differ. */
  rows: Map<string, IndexRow>;
}

/** The shared reader of the catalogue (the one `list` and the gallery use), for one call. */
async function withReader<T>(config: Config, fn: (reader: CatalogueReader) => Promise<T>): Promise<T> {
  const { CatalogueReader } = await import('../stores/catalogue-reader.ts');
  const reader = new CatalogueReader(config);
  try {
    return await fn(reader);
  } finally {
    reader.close();
  }
}

/** In the order one walk over the whole inbox gave: every path in path order, then the orphans by key. */
function inWalkOrder(a: Difference, b: Difference): number {
  const ao = a.kind === 'orphan-object' ? 1 : 0;
  const bo = b.kind === 'orphan-object' ? 1 : 0;
  if (ao !== bo) return ao - bo;
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

/**
 * A file that is there but cannot be synced now (bad content, unreadable) keeps its item: its
 * item is not "an item whose file is gone". Nor is an item of this animal's partition that names
 * a file of another folder judged here (it is counted with the other tools' items).
 */
function setAside(view: CatalogueView, animal: string, skipped: readonly Skipped[]): void {
  const unreadableFolders = skipped.filter((s) => s.path.endsWith('/')).map((s) => s.path);
  for (const s of skipped) view.items.delete(s.path);
  for (const [p, list] of [...view.items]) {
    if (unreadableFolders.some((f) => p.startsWith(f))) view.items.delete(p);
    else if (!p.startsWith(`${animal}/`)) {
      view.items.delete(p);
      view.foreign += list.length;
    }
  }
}

/** Throws CatalogueUnreadableError when any part of the catalogue cannot be read. */
export async function checkCatalogue(input: CheckInput): Promise<CheckResult> {
  const { config, stores, animal } = input;
  const top = await listInbox(config.inbox);
  const folders = new Set(top.folders);
  const animals = animal !== undefined
    ? [animal]
    : await withReader(config, (reader) => catalogueAnimals(() => reader.animalNames(), config.bucket, [...top.folders, ...input.rows.folders()]));

  const differences: Difference[] = [];
  const orphans: Difference[] = [];
  const counts: CheckReport['counts'] = { files: 0, items: 0, foreignItems: 0, objects: 0, animals: animals.length };
  // Keys an item points at from outside its own animal's prefix: rare (other tools), but such
  // an object is no orphan, whichever animal's listing it turns up in.
  const crossReferenced = new Set<string>();
  const needed = new Map<string, ListedObject>();
  const rows = new Map<string, IndexRow>();
  for (const a of animals) {
    await input.beforeAnimal?.();
    const scan: ScanResult = folders.has(a) ? await scanFolder(config.inbox, a) : { files: [], skipped: [] };
    const animalRows = new Map(input.rows.rowsUnder(a).map((r) => [r.source_path, r]));
    const view = await readCatalogue(stores, config.hostId, [a], config.inbox);
    setAside(view, a, [...top.skipped, ...scan.skipped]);
    const prefix = `${OBJECT_ROOT}${a}/`;
    for (const k of view.referenced) if (!k.startsWith(prefix)) crossReferenced.add(k);
    const report = await findDifferences(scan.files, animalRows, view, { objects: stores.objects, deep: input.deep });
    for (const d of report.differences) {
      (d.kind === 'orphan-object' ? orphans : differences).push(d);
      const row = animalRows.get(d.path);
      if (row) rows.set(d.path, row);
      for (const item of d.items ?? []) {
        const listed = view.objects.get(item.s3_key);
        if (listed) needed.set(item.s3_key, listed);
      }
    }
    counts.files += report.counts.files;
    counts.items += report.counts.items;
    counts.foreignItems += report.counts.foreignItems;
    counts.objects += report.counts.objects;
  }
  for (const o of orphans) if (!crossReferenced.has(o.path)) differences.push(o);
  differences.sort(inWalkOrder);
  const view: CatalogueView = { animals, items: new Map(), foreign: counts.foreignItems, objects: needed, referenced: crossReferenced };
  return { report: { differences, counts }, view, rows };
}
