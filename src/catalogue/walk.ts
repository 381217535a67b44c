// The one comparison (STYLE.md, after rclone's march): local files against this host's items,
// sorted by path, in one pass, with three outcomes. Adoption, `check` and repair are
// consumers of this walk; none of them compares anything itself.
import type { ListedObject } from '../stores/s3.ts';
import type { IndexRow } from '../sync/index-db.ts';
import type { LocalFile } from '../sync/scanner.ts';
import type { HostItem } from './items.ts';
import type { CatalogueView } from './read.ts';

export interface WalkEntry {
  path: string;
  /** What the index says of the path, if anything (an annotation, not a side). */
  row: IndexRow | undefined;
}

export interface CatalogueWalker {
  /** A local file with no item of this host. */
  localOnly(e: WalkEntry & { file: LocalFile }): void | Promise<void>;
  /** Items of this host whose file is not there. */
  catalogueOnly(e: WalkEntry & { items: HostItem[] }): void | Promise<void>;
  /** A local file and its item(s) (more than one = a duplicate). */
  match(e: WalkEntry & { file: LocalFile; items: HostItem[] }): void | Promise<void>;
  /** An object under a listed prefix that no item (of any host) points at. */
  orphan?(o: ListedObject): void | Promise<void>;
}

/** Walks `files` (any order) against the view; awaits each callback in path order. */
export async function walkCatalogue(files: readonly LocalFile[], rows: ReadonlyMap<string, IndexRow>, view: CatalogueView, walker: CatalogueWalker): Promise<void> {
  const local = [...files].sort((a, b) => (a.sourcePath < b.sourcePath ? -1 : a.sourcePath > b.sourcePath ? 1 : 0));
  const remote = [...view.items.keys()].sort();
  let i = 0;
  let j = 0;
  while (i < local.length || j < remote.length) {
    const l = local[i];
    const r = remote[j];
    if (l && (r === undefined || l.sourcePath < r)) {
      await walker.localOnly({ path: l.sourcePath, row: rows.get(l.sourcePath), file: l });
      i++;
    } else if (r !== undefined && (!l || r < l.sourcePath)) {
      await walker.catalogueOnly({ path: r, row: rows.get(r), items: view.items.get(r)! });
      j++;
    } else {
      await walker.match({ path: l!.sourcePath, row: rows.get(l!.sourcePath), file: l!, items: view.items.get(r!)! });
      i++;
      j++;
    }
  }
  if (!walker.orphan) return;
  for (const o of [...view.objects.values()].sort((a, b) => (a.key < b.key ? -1 : 1))) if (!view.referenced.has(o.key)) await walker.orphan(o);
}
