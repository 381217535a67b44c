// One check: the inbox as it is now and the index against this host's items and the objects,
// for every animal (or one). Shared by `check`, `sync --once --check` and the daemon's audit.
import type { Config } from '../config.ts';
import type { CatalogueReader } from '../stores/catalogue-reader.ts';
import type { ItemStore } from '../stores/dynamodb.ts';
import type { ObjectStore } from '../stores/s3.ts';
import type { IndexRow } from '../sync/index-db.ts';
import { scanInbox } from '../sync/scanner.ts';
import { findDifferences, type CheckReport } from './differences.ts';
import { catalogueAnimals, readCatalogue, type CatalogueView } from './read.ts';

export interface CheckInput {
  config: Config;
  stores: { items: ItemStore; objects: ObjectStore };
  rows: readonly IndexRow[];
  /** Only this animal (a Query and a listing of its own). */
  animal?: string;
  deep?: boolean;
}

export interface CheckResult {
  report: CheckReport;
  view: CatalogueView;
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

/** Throws CatalogueUnreadableError when any part of the catalogue cannot be read. */
export async function checkCatalogue(input: CheckInput): Promise<CheckResult> {
  const { config, stores, animal } = input;
  const scan = await scanInbox(config.inbox);
  const inScope = (a: string): boolean => animal === undefined || a === animal;
  const files = scan.files.filter((f) => inScope(f.animal));
  const rows = new Map(input.rows.filter((r) => inScope(r.animal)).map((r) => [r.source_path, r]));
  const known = [...files.map((f) => f.animal), ...[...rows.values()].map((r) => r.animal)];
  const animals = animal !== undefined ? [animal] : await withReader(config, (reader) => catalogueAnimals(() => reader.animalNames(), config.bucket, known));
  const view = await readCatalogue(stores, config.hostId, animals, config.inbox);
  // A file that is there but cannot be synced now (bad content, unreadable) keeps its item:
  // its item is not "an item whose file is gone".
  const unreadableFolders = scan.skipped.filter((s) => s.path.endsWith('/')).map((s) => s.path);
  for (const s of scan.skipped) view.items.delete(s.path);
  for (const p of [...view.items.keys()]) if (unreadableFolders.some((f) => p.startsWith(f))) view.items.delete(p);
  const report = await findDifferences(files, rows, view, { objects: stores.objects, deep: input.deep });
  return { report, view, rows };
}
