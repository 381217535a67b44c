// Pure: a catalogue item → what a page shows of it. Items written by other tools lack most
// attributes (no size, dimensions, sha256 or version; uploaded_at with microseconds), so every
// field is read defensively and a missing one becomes '' (shown as "–"), never NaN or undefined.
import { formatBytes } from '../output.ts';
import type { CatalogueItem } from './catalogue.ts';

export interface PictureView {
  id: string;
  animal: string;
  /** The sort key: the order of the grid (newest first). */
  sort: string;
  /** uploaded_at as stored; with the animal and id it is the item's exact key. */
  at: string;
  name: string;
  size: string;
  dims: string;
  time: string;
  href: string;
  thumb: string;
}

export const MISSING = '–';

export function str(item: Record<string, unknown>, name: string): string | undefined {
  const v = item[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function num(item: Record<string, unknown>, name: string): number | undefined {
  const v = item[name];
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** "2026-02-19 16:31:30 UTC" from any ISO-8601 UTC instant, whatever its fraction digits. */
export function formatInstant(iso: string | undefined): string {
  const m = iso === undefined ? null : /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?Z$/.exec(iso);
  return m ? `${m[1]} ${m[2]} UTC` : (iso ?? '');
}

/** The item's uploaded_at, or the instant inside its sort key (IMG#<instant>#<id>). */
export function uploadedAtOf(item: CatalogueItem): string {
  return str(item, 'uploaded_at') ?? item.sort_key.split('#')[1] ?? '';
}

export function displayName(item: CatalogueItem): string {
  return str(item, 'filename') ?? item.s3_key.split('/').pop() ?? item.image_id;
}

/**
 * What a thumbnail's bytes depend on: the sha256 when the item has one, else its version,
 * else nothing (items of the original scripts never change in place). It goes into the
 * thumbnail URL so that a changed picture gets a new URL and the browser's copy is not reused.
 */
export function contentTag(item: CatalogueItem): string {
  const sha = str(item, 'sha256');
  if (sha && /^[0-9a-f]{64}$/.test(sha)) return sha.slice(0, 16);
  const version = num(item, 'version');
  return version === undefined ? '' : `v${version}`;
}

export function pictureHref(animal: string, id: string, at: string): string {
  return `/a/${animal}/${id}?at=${encodeURIComponent(at)}`;
}

export function pictureView(item: CatalogueItem): PictureView {
  const at = uploadedAtOf(item);
  const size = num(item, 'size_bytes');
  const width = num(item, 'width');
  const height = num(item, 'height');
  const tag = contentTag(item);
  return {
    id: item.image_id,
    animal: item.animal,
    sort: item.sort_key,
    at,
    name: displayName(item),
    size: size === undefined ? '' : formatBytes(size),
    dims: width !== undefined && height !== undefined ? `${width} × ${height}` : '',
    time: formatInstant(at),
    href: pictureHref(item.animal, item.image_id, at),
    thumb: `/thumb/${item.animal}/${item.image_id}?at=${encodeURIComponent(at)}${tag ? `&v=${tag}` : ''}`,
  };
}
