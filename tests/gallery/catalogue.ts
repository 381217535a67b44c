// An existing catalogue for `serve` to show, written straight to the real local stack: items as
// the daemon writes them, and items as the original boto3 scripts wrote them (no size, sha256,
// dimensions or version; uploaded_at with microseconds; objects without sha256 metadata).
import { createHash, randomUUID } from 'node:crypto';
import type { Stores } from '../../src/context.ts';
import { buildItem, partitionKey, s3KeyFor, sortKey, type ImageItem } from '../../src/model.ts';
import { picturePng } from './pictures.ts';

let clock = Date.parse('2026-03-01T10:00:00.000Z');
let seed = 100;

export async function putPicture(stores: Stores, animal: string, filename: string): Promise<ImageItem> {
  const body = await picturePng(seed++, 320, 240);
  const imageId = randomUUID();
  const uploadedAt = new Date((clock += 60_000)).toISOString();
  const key = s3KeyFor(animal, uploadedAt, imageId, filename);
  const sha256 = createHash('sha256').update(body).digest('hex');
  await stores.objects.put({ key, body, contentLength: body.length, sha256 });
  const item = buildItem({
    animal, imageId, uploadedAt, bucket: stores.objects.bucket, s3Key: key, filename, sizeBytes: body.length, sha256,
    width: 320, height: 240, sourceHost: 'other-host', sourcePath: `${animal}/${filename}`, version: 1, updatedAt: uploadedAt,
  });
  await stores.items.putNew(item);
  return item;
}

/** The nine attributes the original scripts write, nothing more. */
export async function putLegacyPicture(stores: Stores, animal: string, filename: string): Promise<Record<string, string>> {
  const body = await picturePng(seed++, 300, 200);
  const imageId = randomUUID();
  clock += 60_000;
  const uploadedAt = new Date(clock).toISOString().replace('Z', '123Z');
  const key = `animals/${animal}/${uploadedAt.slice(0, 10)}/${imageId}-${filename}`;
  await stores.objects.put({ key, body, contentLength: body.length });
  const item = {
    partition_key: partitionKey(animal), sort_key: sortKey(uploadedAt, imageId), image_id: imageId, animal,
    s3_bucket: stores.objects.bucket, s3_key: key, filename, content_type: 'image/png', uploaded_at: uploadedAt,
  };
  await stores.items.putNew(item as unknown as ImageItem);
  return item;
}
