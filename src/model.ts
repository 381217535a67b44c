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

// 3 to 6 fraction digits: ours carry milliseconds (toISOString), the original boto3 scripts
// microseconds (datetime.isoformat()), which leave the fraction out when it is zero.
const TIMESTAMP_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?Z$/;

export function isTimestamp(ts: unknown): ts is string {
  const m = typeof ts === 'string' ? TIMESTAMP_RE.exec(ts) : null;
  if (!m) return false;
  // Date.parse accepts 31 February; a round trip of the whole-second part does not.
  const secondPart = `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.000Z`;
  const t = Date.parse(secondPart);
  return !Number.isNaN(t) && new Date(t).toISOString() === secondPart;
}

export function assertTimestamp(ts: unknown): string {
  if (!isTimestamp(ts)) {
    throw new UsageError(`invalid uploaded-at ${JSON.stringify(ts)}: expected an ISO-8601 UTC instant such as 2026-02-19T16:31:30.970Z or 2026-02-19T16:31:30.970876Z`);
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

/**
 * What any item in the table may be. The table is shared: the original boto3 scripts write
 * only the keys, image_id, animal, s3_bucket, s3_key, filename, content_type and uploaded_at;
 * other tools may write less, or attributes of another type. Everything but the keys is
 * optional, and parseCatalogueItem keeps an attribute only when it has the expected type.
 */
export interface CatalogueItem extends ImageKey {
  image_id?: string;
  animal?: string;
  s3_bucket?: string;
  s3_key?: string;
  filename?: string;
  content_type?: string;
  uploaded_at?: string;
  size_bytes?: number;
  sha256?: string;
  width?: number;
  height?: number;
  source_host?: string;
  source_path?: string;
  version?: number;
  updated_at?: string;
}

/** An item as this project writes it: every attribute of the data model, with its type. */
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

const STRING_ATTRIBUTES = ['image_id', 'animal', 's3_bucket', 's3_key', 'filename', 'content_type', 'uploaded_at', 'sha256', 'source_host', 'source_path', 'updated_at'] as const;
const NUMBER_ATTRIBUTES = ['size_bytes', 'width', 'height', 'version'] as const;

/**
 * The typed view of whatever DynamoDB returned: null when it lacks the table's keys, else the
 * keys plus each known attribute that has its expected type (a non-empty string, a finite
 * number >= 0). Nothing here throws on odd input; `--json` prints the raw item instead.
 */
export function parseCatalogueItem(raw: unknown): CatalogueItem | null {
  if (raw === null || typeof raw !== 'object') return null;
  const r = raw as Record<string, unknown>;
  if (typeof r.partition_key !== 'string' || typeof r.sort_key !== 'string') return null;
  const item: CatalogueItem = { partition_key: r.partition_key, sort_key: r.sort_key };
  for (const k of STRING_ATTRIBUTES) {
    const v = r[k];
    if (typeof v === 'string' && v !== '') item[k] = v;
  }
  for (const k of NUMBER_ATTRIBUTES) {
    const v = r[k];
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) item[k] = v;
  }
  return item;
}

/** True when the item has every attribute this project writes (whoever wrote it). */
export function isImageItem(item: CatalogueItem): item is ImageItem {
  return STRING_ATTRIBUTES.every((k) => item[k] !== undefined) && NUMBER_ATTRIBUTES.every((k) => item[k] !== undefined);
}

/** An item this host's daemon owns: complete, and written with its source_host. */
export function isOwnItem(item: CatalogueItem, hostId: string): item is ImageItem {
  return item.source_host === hostId && isImageItem(item);
}

/** The animal an item belongs to: its attribute, else the one in its partition key. */
export function animalOf(item: CatalogueItem): string | undefined {
  const fromKey = item.partition_key.startsWith('ANIMAL#') ? item.partition_key.slice('ANIMAL#'.length) : undefined;
  const name = item.animal ?? fromKey;
  return name !== undefined && isValidAnimal(name) ? name : undefined;
}
