// Finding one item by the options get/download/delete share.
import type { Argv } from 'yargs';
import { NotFoundError } from '../errors.ts';
import { assertAnimal, assertImageId, assertTimestamp, partitionKey, sortKey, type ImageItem } from '../model.ts';
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

/** With uploaded_at: GetItem by exact key. Without: a Query within the animal's partition. */
export async function findItem(items: ItemStore, ref: ImageRef): Promise<{ item: ImageItem; via: 'GetItem' | 'Query' }> {
  const item = ref.uploadedAt
    ? await items.get({ partition_key: partitionKey(ref.animal), sort_key: sortKey(ref.uploadedAt, ref.imageId) })
    : await items.findByImageId(ref.animal, ref.imageId);
  if (!item) {
    throw new NotFoundError(
      `no image ${ref.imageId} for animal ${ref.animal}${ref.uploadedAt ? ` uploaded at ${ref.uploadedAt}` : ''} in table ${items.table}; ` +
        `run \`animal-sync list --animal ${ref.animal}\` to see what there is`,
    );
  }
  return { item, via: ref.uploadedAt ? 'GetItem' : 'Query' };
}
