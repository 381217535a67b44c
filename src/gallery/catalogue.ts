// What the gallery reads from the catalogue, read-only: the animal list from S3's key layout,
// pages of an animal's items (Query, newest first), one item by exact key, neighbours, counts,
// and the object bytes or a presigned URL for them. Never a Scan.
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { GetCommand, paginateQuery, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Readable } from 'node:stream';
import type { Config } from '../config.ts';
import { isValidAnimal, partitionKey, SORT_KEY_PREFIX, sortKey } from '../model.ts';
import { makeDocumentClient, makeDynamoClient, makeS3Client } from '../stores/aws.ts';
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

const ANIMALS_PREFIX = 'animals/';

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

function encodeCursor(key: Record<string, unknown> | undefined): string | undefined {
  return key ? Buffer.from(JSON.stringify([key.sort_key])).toString('base64url') : undefined;
}

/** A cursor is only ever a sort key of the same partition: nothing else reaches the Query. */
function decodeCursor(animal: string, cursor: string | undefined): Record<string, string> | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  try {
    const [sk] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof sk === 'string' && sk.startsWith(SORT_KEY_PREFIX) && sk.length <= 300) return { partition_key: partitionKey(animal), sort_key: sk };
  } catch {
    // falls through to the 400
  }
  throw new HttpError(400, 'bad cursor: use the one the previous page returned');
}

export class Catalogue {
  readonly bucket: string;
  readonly table: string;
  private readonly s3: S3Client;
  private readonly doc: DynamoDBDocumentClient;
  private readonly close_: () => void;

  constructor(config: Config) {
    this.bucket = config.bucket;
    this.table = config.table;
    this.s3 = makeS3Client(config);
    const raw = makeDynamoClient(config);
    this.doc = makeDocumentClient(raw);
    this.close_ = () => {
      this.s3.destroy();
      raw.destroy();
    };
  }

  /**
   * The animals, without touching the table: the S3 key layout is animals/<animal>/..., so a
   * ListObjectsV2 with Delimiter "/" returns one common prefix per animal (one request per
   * 1000 animals, however many pictures there are). s3rver's Delimiter listing misses prefixes
   * more than one folder deep, so when it finds none, a skip-scan tells an empty bucket from that.
   */
  async animals(): Promise<string[]> {
    const found = new Set<string>();
    for await (const page of paginateListObjectsV2({ client: this.s3 }, { Bucket: this.bucket, Prefix: ANIMALS_PREFIX, Delimiter: '/' })) {
      for (const p of page.CommonPrefixes ?? []) found.add(p.Prefix?.slice(ANIMALS_PREFIX.length, -1) ?? '');
    }
    if (found.size === 0) for (const name of await this.animalsBySkipScan()) found.add(name);
    return [...found].filter(isValidAnimal).sort();
  }

  /** Each request starts after the previous animal's keys; s3rver fails a truncated listing
   * (DES continuation tokens need --openssl-legacy-provider), so pages are 1000 keys. */
  private async animalsBySkipScan(): Promise<string[]> {
    const out: string[] = [];
    let after = ANIMALS_PREFIX;
    for (let i = 0; i < 10_000; i++) {
      const res = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: ANIMALS_PREFIX, StartAfter: after, MaxKeys: 1000 }));
      const keys = (res.Contents ?? []).map((o) => o.Key?.slice(ANIMALS_PREFIX.length) ?? '');
      if (keys.length === 0) break;
      for (const rest of keys) {
        const name = rest.slice(0, Math.max(0, rest.indexOf('/')));
        if (name && out.at(-1) !== name) out.push(name);
      }
      const last = keys.at(-1)!;
      const name = out.at(-1);
      // "~" sorts after the date folders under an animal: jump past the rest of its keys.
      after = ANIMALS_PREFIX + (name && last.startsWith(name + '/') ? `${name}/~` : last);
      if (!res.IsTruncated && keys.length < 1000) break;
    }
    return out;
  }

  async page(animal: string, limit: number, cursor?: string): Promise<ItemPage> {
    const res = await this.doc.send(new QueryCommand({
      TableName: this.table,
      KeyConditionExpression: 'partition_key = :pk AND begins_with(sort_key, :img)',
      ExpressionAttributeValues: { ':pk': partitionKey(animal), ':img': SORT_KEY_PREFIX },
      ScanIndexForward: false,
      Limit: limit,
      ExclusiveStartKey: decodeCursor(animal, cursor),
    }));
    return { items: (res.Items ?? []).filter(isItem), cursor: encodeCursor(res.LastEvaluatedKey) };
  }

  /** Select=COUNT pages through the partition's keys; the items themselves never travel. */
  async count(animal: string): Promise<number> {
    let n = 0;
    const pages = paginateQuery({ client: this.doc }, {
      TableName: this.table,
      KeyConditionExpression: 'partition_key = :pk AND begins_with(sort_key, :img)',
      ExpressionAttributeValues: { ':pk': partitionKey(animal), ':img': SORT_KEY_PREFIX },
      Select: 'COUNT',
    });
    for await (const page of pages) n += page.Count ?? 0;
    return n;
  }

  /** GetItem by exact key when the time is known (every link the gallery makes carries it). */
  async item(animal: string, imageId: string, uploadedAt: string): Promise<CatalogueItem | null> {
    const res = await this.doc.send(new GetCommand({ TableName: this.table, Key: { partition_key: partitionKey(animal), sort_key: sortKey(uploadedAt, imageId) } }));
    return isItem(res.Item) && res.Item.image_id === imageId ? res.Item : null;
  }

  /** The next newer (`newer`) or older picture of the same animal, by sort key. */
  async neighbour(item: CatalogueItem, direction: 'newer' | 'older'): Promise<CatalogueItem | null> {
    const res = await this.doc.send(new QueryCommand({
      TableName: this.table,
      KeyConditionExpression: 'partition_key = :pk AND begins_with(sort_key, :img)',
      ExpressionAttributeValues: { ':pk': item.partition_key, ':img': SORT_KEY_PREFIX },
      ScanIndexForward: direction === 'newer',
      ExclusiveStartKey: { partition_key: item.partition_key, sort_key: item.sort_key },
      Limit: 1,
    }));
    const found = res.Items?.[0];
    return isItem(found) ? found : null;
  }

  async object(key: string, signal?: AbortSignal): Promise<{ body: Readable; size: number | undefined; etag: string | undefined }> {
    const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal });
    return { body: res.Body as Readable, size: res.ContentLength, etag: res.ETag };
  }

  async objectEtag(key: string): Promise<string | undefined> {
    const res = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
    return res.ETag;
  }

  /** A GET URL the browser can use for an hour; `download` makes it save under the item's name. */
  presign(key: string, download?: string): Promise<string> {
    const disposition = download === undefined ? undefined : `attachment; filename*=UTF-8''${encodeURIComponent(download)}`;
    return getSignedUrl(this.s3, new GetObjectCommand({ Bucket: this.bucket, Key: key, ResponseContentDisposition: disposition }), { expiresIn: 3600 });
  }

  close(): void {
    this.close_();
  }
}

export function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}
