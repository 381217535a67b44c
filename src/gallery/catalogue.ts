// What the gallery reads from the catalogue, read-only: the animal list, pages of an animal's
// items (Query, newest first), one item by exact key, neighbours, counts, and the object bytes
// or a presigned URL for them. Never a Scan. The reading itself is the shared CatalogueReader's
// (the one also behind `list` and `restore`); this adds what a web page needs on top: items
// that are safe to link to, and opaque cursors.
import type { Readable } from 'node:stream';
import type { Config } from '../config.ts';
import { isValidAnimal, partitionKey, SORT_KEY_PREFIX, sortKey } from '../model.ts';
import { CatalogueReader } from '../stores/catalogue-reader.ts';
import { HttpError } from './http-error.ts';

/** An item as the table holds it: written by this daemon, another host or the original scripts. */
export type CatalogueItem = Record<string, unknown> & {
  partition_key: string;
  sort_key: string;
  image_id: string;
  animal: string;
  s3_key: string;
};

export interface ItemPage {
  items: CatalogueItem[];
  /** Opaque cursor for the next page; undefined at the end. */
  cursor: string | undefined;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * An item the gallery can show and link to: its animal and id go into URLs, so they must be
 * valid names (an odd item in a shared table is left out, never a broken link or an injection).
 */
export function isItem(v: unknown): v is CatalogueItem {
  const o = v as Record<string, unknown> | null;
  return typeof o === 'object' && o !== null && typeof o.image_id === 'string' && UUID_RE.test(o.image_id)
    && typeof o.animal === 'string' && isValidAnimal(o.animal) && o.partition_key === partitionKey(o.animal)
    && typeof o.s3_key === 'string' && typeof o.sort_key === 'string' && o.sort_key.startsWith(SORT_KEY_PREFIX);
}

function encodeCursor(sortKeyAfter: string | undefined): string | undefined {
  return sortKeyAfter ? Buffer.from(JSON.stringify([sortKeyAfter])).toString('base64url') : undefined;
}

/** A cursor is only ever a sort key of the same partition: nothing else reaches the Query. */
function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  try {
    const [sk] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof sk === 'string' && sk.startsWith(SORT_KEY_PREFIX) && sk.length <= 300) return sk;
  } catch {
    // falls through to the 400
  }
  throw new HttpError(400, 'bad cursor: use the one the previous page returned');
}

export class Catalogue {
  readonly bucket: string;
  readonly table: string;
  private readonly reader: CatalogueReader;

  constructor(config: Config) {
    this.reader = new CatalogueReader(config);
    this.bucket = this.reader.bucket;
    this.table = this.reader.table;
  }

  /** The animals, without touching the table (CatalogueReader.animalNames: one small listing per animal). */
  animals(): Promise<string[]> {
    return this.reader.animalNames();
  }

  /** One page of an animal's items, newest first. */
  async page(animal: string, limit: number, cursor?: string): Promise<ItemPage> {
    const after = decodeCursor(cursor);
    for await (const page of this.reader.itemPages(animal, { pageSize: limit, after })) {
      return { items: page.items.filter(isItem), cursor: encodeCursor(page.lastSortKey) };
    }
    return { items: [], cursor: undefined };
  }

  /** Select=COUNT: the items themselves never travel. */
  count(animal: string): Promise<number> {
    return this.reader.countItems(animal);
  }

  /** GetItem by exact key when the time is known (every link the gallery makes carries it). */
  async item(animal: string, imageId: string, uploadedAt: string): Promise<CatalogueItem | null> {
    const found = await this.reader.getItem(animal, sortKey(uploadedAt, imageId));
    return isItem(found) && found.image_id === imageId ? found : null;
  }

  /** The next newer (`newer`) or older picture of the same animal, by sort key. */
  async neighbour(item: CatalogueItem, direction: 'newer' | 'older'): Promise<CatalogueItem | null> {
    for await (const page of this.reader.itemPages(item.animal, { pageSize: 1, after: item.sort_key, oldestFirst: direction === 'newer' })) {
      const found = page.items[0];
      return isItem(found) ? found : null;
    }
    return null;
  }

  async object(key: string, signal?: AbortSignal): Promise<{ body: Readable; size: number | undefined; etag: string | undefined }> {
    const obj = await this.reader.getObject(this.bucket, key, signal);
    if (!obj) throw new HttpError(404, 'the picture\'s object is missing from the bucket');
    return obj;
  }

  async objectEtag(key: string): Promise<string | undefined> {
    return (await this.reader.headObject(this.bucket, key))?.etag;
  }

  /** A GET URL the browser can use for an hour; `download` makes it save under the item's name. */
  presign(key: string, download?: string): Promise<string> {
    const disposition = download === undefined ? undefined : `attachment; filename*=UTF-8''${encodeURIComponent(download)}`;
    return this.reader.presignGet(this.bucket, key, { expiresIn: 3600, disposition });
  }

  close(): void {
    this.reader.close();
  }
}
