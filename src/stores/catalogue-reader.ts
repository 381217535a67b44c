// Reading the catalogue as it is, whoever wrote it: animal names from the bucket's folders,
// item counts and pages of an animal's partition (always a Query, never a Scan), an object's
// bytes with the size and ETag S3 gives for them. Items come back raw (`unknown`): callers
// parse them (model.ts parseCatalogueItem), since the table is shared with other tools.
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsCommand, type S3Client } from '@aws-sdk/client-s3';
import { GetCommand, paginateQuery, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Readable } from 'node:stream';
import type { Config } from '../config.ts';
import { isValidAnimal, partitionKey, SORT_KEY_PREFIX } from '../model.ts';
import { makeDocumentClient, makeDynamoClient, makeS3Client } from './aws.ts';

export const ANIMALS_PREFIX = 'animals/';

export interface ObjectBody {
  body: Readable;
  /** Content-Length of the response. */
  size: number | undefined;
  etag: string | undefined;
}

export interface ItemPage {
  items: unknown[];
  /** sort_key to start after for the next page; undefined at the end of the partition. */
  lastSortKey: string | undefined;
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NoSuchBucket' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}

export class CatalogueReader {
  readonly bucket: string;
  readonly table: string;
  private readonly s3: S3Client;
  private readonly raw: DynamoDBClient;
  private readonly doc: DynamoDBDocumentClient;

  constructor(config: Config) {
    this.bucket = config.bucket;
    this.table = config.table;
    this.s3 = makeS3Client(config);
    this.raw = makeDynamoClient(config);
    this.doc = makeDocumentClient(this.raw);
  }

  /**
   * The animal folders under animals/, one ListObjects of one key per animal: each request
   * starts after the folder just found (Marker "animals/<name>0" sorts after every
   * "animals/<name>/…" key and before the next animal), so the cost is the number of animals,
   * not of objects. A Delimiter listing would be one request per 1,000 animals on S3, but
   * S3-compatible servers such as s3rver report no common prefix for keys nested deeper than
   * one level (ours are animals/<animal>/<date>/<key>), and would show no animals at all.
   * ListObjects (v1) rather than v2: a truncated v2 listing makes s3rver build a continuation
   * token with DES, which Node refuses without --openssl-legacy-provider (a 500); v1 with a
   * Marker needs no token, and S3 answers both alike.
   */
  async animalNames(): Promise<string[]> {
    const names: string[] = [];
    let startAfter = ANIMALS_PREFIX;
    for (;;) {
      const res = await this.s3.send(new ListObjectsCommand({ Bucket: this.bucket, Prefix: ANIMALS_PREFIX, Marker: startAfter, MaxKeys: 1 }));
      const key = res.Contents?.[0]?.Key;
      if (key === undefined) return names;
      const slash = key.indexOf('/', ANIMALS_PREFIX.length);
      const name = key.slice(ANIMALS_PREFIX.length, slash === -1 ? undefined : slash);
      // s3rver escapes & < > ' twice in listings: such a key does not sort where its name
      // says, and would come back forever. Not an animal name anyway: stop there.
      if (key <= startAfter) return names;
      if (isValidAnimal(name) && slash !== -1) names.push(name);
      // A key with no folder (animals/x.png) is skipped by starting right after it.
      startAfter = slash === -1 ? key : `${ANIMALS_PREFIX}${name}0`;
    }
  }

  /** Select=COUNT: DynamoDB returns the number only; pages of 1 MB read are summed. */
  async countItems(animal: string): Promise<number> {
    let count = 0;
    for await (const page of paginateQuery({ client: this.doc }, { ...this.partitionQuery(animal), Select: 'COUNT' })) count += page.Count ?? 0;
    return count;
  }

  /** An animal's items, newest first (or `oldestFirst`), page by page; `after` = a sort_key to start after. */
  async *itemPages(animal: string, opts: { pageSize?: number; after?: string; oldestFirst?: boolean } = {}): AsyncGenerator<ItemPage> {
    const startingToken = opts.after === undefined ? undefined : { partition_key: partitionKey(animal), sort_key: opts.after };
    for await (const page of paginateQuery({ client: this.doc, pageSize: opts.pageSize, startingToken }, { ...this.partitionQuery(animal), ScanIndexForward: opts.oldestFirst ?? false })) {
      yield { items: page.Items ?? [], lastSortKey: page.LastEvaluatedKey?.sort_key as string | undefined };
    }
  }

  /** GetItem by exact key: the raw item, or null. */
  async getItem(animal: string, sortKey: string): Promise<unknown> {
    const res = await this.doc.send(new GetCommand({ TableName: this.table, Key: { partition_key: partitionKey(animal), sort_key: sortKey } }));
    return res.Item ?? null;
  }

  /** GetObject; null when the object (or its bucket) does not exist. */
  async getObject(bucket: string, key: string, signal?: AbortSignal): Promise<ObjectBody | null> {
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
      return { body: res.Body as Readable, size: res.ContentLength, etag: res.ETag };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  /** HeadObject; null when the object (or its bucket) does not exist. */
  async headObject(bucket: string, key: string): Promise<{ size: number | undefined; etag: string | undefined } | null> {
    try {
      const res = await this.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return { size: res.ContentLength, etag: res.ETag };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  /** A GET URL valid for `expiresIn` seconds; `disposition` sets the name a browser saves it under. */
  async presignGet(bucket: string, key: string, opts: { expiresIn: number; disposition?: string }): Promise<string> {
    // Loaded here only: the commands that never presign do not pay for it.
    const { getSignedUrl } = await import('@aws-sdk/s3-request-presigner');
    return getSignedUrl(this.s3, new GetObjectCommand({ Bucket: bucket, Key: key, ResponseContentDisposition: opts.disposition }), { expiresIn: opts.expiresIn });
  }

  /** Deleting a missing key succeeds (S3's own rule). */
  async deleteObject(bucket: string, key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  }

  close(): void {
    this.s3.destroy();
    this.raw.destroy();
  }

  private partitionQuery(animal: string) {
    return {
      TableName: this.table,
      KeyConditionExpression: 'partition_key = :pk AND begins_with(sort_key, :img)',
      ExpressionAttributeValues: { ':pk': partitionKey(animal), ':img': SORT_KEY_PREFIX },
    };
  }
}
