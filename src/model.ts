// The catalogue's data model (docs/architecture.md, "Data model"): keys, S3 key layout, item shape.
import { UsageError } from './errors.ts';

export const ANIMAL_RULE = 'an animal name is 1 to 64 characters of lowercase letters, digits, "-" and "_"';
const ANIMAL_RE = /^[a-z0-9_-]{1,64}$/;

export function isValidAnimal(name: string): boolean {
  return ANIMAL_RE.test(name);
}

export function assertAnimal(name: unknown): string {
  if (typeof name !== 'string' || !ANIMAL_RE.test(name)) {
    throw new UsageError(`invalid animal ${JSON.stringify(name)}: ${ANIMAL_RULE}`);
  }
  return name;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export function assertImageId(id: unknown): string {
  if (typeof id !== 'string' || !UUID_RE.test(id)) {
    throw new UsageError(`invalid image id ${JSON.stringify(id)}: expected a lowercase UUID such as 1b4e28ba-2fa1-11d2-883f-0016d3cca427`);
  }
  return id;
}

export function assertTimestamp(ts: unknown): string {
  if (typeof ts !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(ts) || Number.isNaN(Date.parse(ts))) {
    throw new UsageError(`invalid uploaded-at ${JSON.stringify(ts)}: expected an ISO-8601 UTC instant such as 2026-02-19T16:31:30.970Z`);
  }
  return ts;
}

export const partitionKey = (animal: string): string => `ANIMAL#${animal}`;
export const sortKey = (uploadedAt: string, imageId: string): string => `IMG#${uploadedAt}#${imageId}`;
export const SORT_KEY_PREFIX = 'IMG#';

/**
 * S3 keys never carry characters that need escaping in URLs or XML: the filename part is
 * reduced to a safe alphabet (the exact name stays in the item's `filename`).
 */
export function safeKeyName(filename: string): string {
  const cleaned = filename.normalize('NFC').replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_');
  return cleaned.slice(0, 160) || 'image.png';
}

export function s3KeyFor(animal: string, uploadedAt: string, imageId: string, filename: string): string {
  return `animals/${animal}/${uploadedAt.slice(0, 10)}/${imageId}-${safeKeyName(filename)}`;
}

export interface ImageKey {
  partition_key: string;
  sort_key: string;
}

export interface ImageItem extends ImageKey {
  image_id: string;
  animal: string;
  s3_bucket: string;
  s3_key: string;
  filename: string;
  content_type: string;
  uploaded_at: string;
  size_bytes: number;
  sha256: string;
  width: number;
  height: number;
  source_host: string;
  source_path: string;
  version: number;
  updated_at: string;
}

export interface NewItemInput {
  animal: string;
  imageId: string;
  uploadedAt: string;
  bucket: string;
  s3Key: string;
  filename: string;
  sizeBytes: number;
  sha256: string;
  width: number;
  height: number;
  sourceHost: string;
  sourcePath: string;
  version: number;
  updatedAt: string;
}

export function buildItem(i: NewItemInput): ImageItem {
  return {
    partition_key: partitionKey(i.animal),
    sort_key: sortKey(i.uploadedAt, i.imageId),
    image_id: i.imageId,
    animal: i.animal,
    s3_bucket: i.bucket,
    s3_key: i.s3Key,
    filename: i.filename,
    content_type: 'image/png',
    uploaded_at: i.uploadedAt,
    size_bytes: i.sizeBytes,
    sha256: i.sha256,
    width: i.width,
    height: i.height,
    source_host: i.sourceHost,
    source_path: i.sourcePath,
    version: i.version,
    updated_at: i.updatedAt,
  };
}

export function keyOf(item: Pick<ImageItem, 'partition_key' | 'sort_key'>): ImageKey {
  return { partition_key: item.partition_key, sort_key: item.sort_key };
}
