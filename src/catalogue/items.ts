// Which items of the shared table this host judges. An item is this host's when its
// source_host says so and it carries what animal-sync writes; anything else (the original
// boto3 scripts' items, other hosts' items, odd shapes) is counted, never judged or touched.
import { sortKey } from '../model.ts';
import { inboxSourcePath } from './source-path.ts';

/** An item of this host, with every attribute the comparison reads. */
export interface HostItem {
  partition_key: string;
  sort_key: string;
  image_id: string;
  animal: string;
  s3_key: string;
  filename: string;
  uploaded_at: string;
  size_bytes: number;
  sha256: string;
  width: number;
  height: number;
  source_path: string;
  version: number;
}

const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * The item as this host's, or null when it is another host's or not of animal-sync's shape. Never throws.
 * `inboxRoots`: an older `upload` wrote the absolute path of a file it was given; one inside the
 * inbox is that inbox file's item (adopted as it, never uploaded a second time).
 */
export function asHostItem(raw: Record<string, unknown>, hostId: string, inboxRoots: readonly string[] = []): HostItem | null {
  if (raw.source_host !== hostId) return null;
  const { partition_key, sort_key, image_id, animal, s3_key, filename, uploaded_at, size_bytes, sha256, width, height, version } = raw;
  const source_path = typeof raw.source_path === 'string' && raw.source_path.startsWith('/') ? inboxSourcePath(inboxRoots, raw.source_path) : raw.source_path;
  if (!isString(partition_key) || !isString(sort_key) || !isString(image_id) || !isString(animal) || !isString(s3_key) || !isString(filename)) return null;
  if (!isString(uploaded_at) || !isString(sha256) || !isString(source_path) || !isCount(size_bytes) || !isCount(version) || version < 1) return null;
  // Its delete is addressed by (uploaded_at, image_id): only an item whose sort key is made of them can be deleted by this host.
  if (sort_key !== sortKey(uploaded_at, image_id) || source_path !== `${animal}/${filename}`) return null;
  return {
    partition_key, sort_key, image_id, animal, s3_key, filename, uploaded_at, size_bytes, sha256,
    width: isCount(width) ? width : 0, height: isCount(height) ? height : 0, source_path, version,
  };
}

/** The one item of a path this host keeps: the one the index knows, else the oldest. */
export function primaryItem(items: readonly HostItem[], knownImageId: string | undefined): HostItem {
  const known = knownImageId === undefined ? undefined : items.find((i) => i.image_id === knownImageId);
  if (known) return known;
  return [...items].sort((a, b) => (a.uploaded_at < b.uploaded_at ? -1 : a.uploaded_at > b.uploaded_at ? 1 : a.image_id < b.image_id ? -1 : 1))[0]!;
}
