// Which items a restore brings back, planned one animal partition at a time: the partitions are
// read side by side (one Query chain each, never a Scan), and each is planned and handed on as
// soon as it is complete, so downloads start while the others are still being read. A
// partition is the unit because a name clash needs all the claimants of one path, and a path
// is `<animal>/<name>`: clashes stay within one animal (plan.ts handles the odd item whose
// animal attribute disagrees with its partition).
import { NotFoundError } from '../errors.ts';
import { parseCatalogueItem, type CatalogueItem } from '../model.ts';
import type { CatalogueReader } from '../stores/catalogue-reader.ts';
import { planRestore, type RestoreEntry, type Unplaceable } from './plan.ts';

export interface Selection {
  animal: string | undefined;
  /** null = every host's items (and items without source_host). */
  hostId: string | null;
}

async function readPartition(reader: CatalogueReader, animal: string): Promise<CatalogueItem[]> {
  const found: CatalogueItem[] = [];
  for await (const page of reader.itemPages(animal)) {
    for (const raw of page.items) {
      const item = parseCatalogueItem(raw);
      if (item) found.push(item);
    }
  }
  return found;
}

/** The partitions in the order their reads complete. */
async function* partitionsAsRead(reader: CatalogueReader, animals: readonly string[]): AsyncGenerator<CatalogueItem[]> {
  const reads = new Map(animals.map((animal) => [animal, readPartition(reader, animal).then((items) => ({ animal, items }))]));
  while (reads.size > 0) {
    const { animal, items } = await Promise.race(reads.values());
    reads.delete(animal);
    yield items;
  }
}

/**
 * The selection's entries, one batch per partition with anything to restore; items that cannot
 * be placed are pushed onto `unplaceable`. Throws NotFoundError, before yielding anything, when
 * the catalogue, the animal or this host's share of it is empty: nothing has been written then.
 */
export async function* plannedBatches(reader: CatalogueReader, sel: Selection, unplaceable: Unplaceable[]): AsyncGenerator<RestoreEntry[]> {
  const animals = sel.animal !== undefined ? [sel.animal] : await reader.animalNames();
  if (animals.length === 0) throw new NotFoundError(`the catalogue is empty: no objects under s3://${reader.bucket}/animals/; nothing to restore, nothing was written`);
  const claimed = new Set<string>();
  let seen = 0;
  let chosen = 0;
  for await (const items of partitionsAsRead(reader, animals)) {
    seen += items.length;
    const mine = sel.hostId === null ? items : items.filter((i) => i.source_host === sel.hostId);
    chosen += mine.length;
    const plan = planRestore(mine, claimed);
    unplaceable.push(...plan.unplaceable);
    if (plan.entries.length > 0) yield plan.entries;
  }
  if (seen === 0 && sel.animal !== undefined) {
    const known = await reader.animalNames();
    throw new NotFoundError(`no images for animal ${sel.animal} in table ${reader.table}${known.length ? ` (animals with images: ${known.join(', ')})` : ''}; nothing was written`);
  }
  if (chosen === 0) {
    throw new NotFoundError(`none of the ${seen} image(s)${sel.animal ? ` of ${sel.animal}` : ''} in table ${reader.table} was synced from this host (${sel.hostId}); add --all-hosts to restore every host's images; nothing was written`);
  }
}
