// Finding one item by the options get/download/delete share.
import type { Argv } from 'yargs';
import { NotFoundError } from '../errors.ts';
import { assertAnimal, assertImageId, assertTimestamp, parseCatalogueItem, partitionKey, sortKey, type CatalogueItem } from '../model.ts';
import type { Config } from '../config.ts';
import type { CatalogueReader } from '../stores/catalogue-reader.ts';
import type { ItemStore } from '../stores/dynamodb.ts';

export function imageOptions(y: Argv): Argv {
  return y
    .option('animal', { type: 'string', demandOption: true, describe: 'animal name' })
    .option('image-id', { type: 'string', demandOption: true, describe: 'image id (a UUID)' })
    .option('uploaded-at', { type: 'string', describe: 'exact uploaded_at; makes the lookup a GetItem by exact key' });
}

export interface ImageRef {
  animal: string;
  imageId: string;
  uploadedAt: string | undefined;
}

export function imageRefFromArgs(argv: Record<string, unknown>): ImageRef {
  return {
    animal: assertAnimal(argv.animal),
    imageId: assertImageId(argv.imageId),
    uploadedAt: argv.uploadedAt === undefined ? undefined : assertTimestamp(argv.uploadedAt),
  };
}

export interface FoundItem {
  /** The typed view (attributes other tools may leave out are optional). */
  item: CatalogueItem;
  /** The item exactly as DynamoDB returned it, for --json. */
  raw: unknown;
  via: 'GetItem' | 'Query';
}

/** With uploaded_at: GetItem by exact key. Without: a Query within the animal's partition. */
export async function findItem(items: ItemStore, ref: ImageRef): Promise<FoundItem> {
  // The store's types promise complete items; the table may hold anyone's, so parse here.
  const raw: unknown = ref.uploadedAt
    ? await items.get({ partition_key: partitionKey(ref.animal), sort_key: sortKey(ref.uploadedAt, ref.imageId) })
    : await items.findByImageId(ref.animal, ref.imageId);
  const item = parseCatalogueItem(raw);
  if (!item) {
    throw new NotFoundError(
      `no image ${ref.imageId} for animal ${ref.animal}${ref.uploadedAt ? ` uploaded at ${ref.uploadedAt}` : ''} in table ${items.table}; ` +
        `run \`animal-sync list --animal ${ref.animal}\` to see what there is`,
    );
  }
  return { item, raw, via: ref.uploadedAt ? 'GetItem' : 'Query' };
}

/** The reader, with the SDK loaded only by the commands that need it. */
export async function openReader(config: Config): Promise<CatalogueReader> {
  const { CatalogueReader } = await import('../stores/catalogue-reader.ts');
  return new CatalogueReader(config);
}
