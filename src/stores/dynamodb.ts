// The DynamoDB side of the catalogue, through the DocumentClient: conditional puts, GetItem by
// exact key, Query by partition (newest first), delete returning the old item.
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceNotFoundException,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  paginateQuery,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import { TransientError } from '../errors.ts';
import { PUT_MANY_LIMIT, type ItemWriteMode } from './item-writes.ts';
import { type ImageItem, type ImageKey, keyOf, partitionKey, SORT_KEY_PREFIX } from '../model.ts';

export interface QueryPage {
  items: ImageItem[];
  /** Opaque cursor for the next page; undefined at the end. */
  next: Record<string, unknown> | undefined;
}

export interface ItemStore {
  readonly table: string;
  /** INSERT: fails with ConditionalCheckFailed if an item with this key exists. */
  putNew(item: ImageItem): Promise<void>;
  /** MODIFY: replaces the item only if its stored version is `expectedVersion`. */
  putReplace(item: ImageItem, expectedVersion: number): Promise<void>;
  /**
   * Unconditional writes of new items, `putManyLimit` per request: BatchWriteItem of 25
   * (cheapest on AWS) or TransactWriteItems of 100 (one commit; DynamoDB Local otherwise
   * commits item by item). Resolves only when every item is written.
   */
  putMany(items: ImageItem[]): Promise<void>;
  /** Items one putMany request takes; a caller gathers this many for a full request. */
  readonly putManyLimit: number;
  get(key: ImageKey): Promise<ImageItem | null>;
  query(animal: string, opts?: { limit?: number; next?: Record<string, unknown> }): Promise<QueryPage>;
  findByImageId(animal: string, imageId: string): Promise<ImageItem | null>;
  /**
   * Every item of the animal's partition, all pages (a paginated Query, never a Scan), read
   * consistently. Items written by other tools may lack attributes: callers check each one.
   */
  queryAll(animal: string): Promise<Record<string, unknown>[]>;
  /** Deletes and returns the old item (null when there was none). */
  delete(key: ImageKey, opts?: { onlyIfSourceHost?: string }): Promise<ImageItem | null>;
  ensureTable(opts?: { timeoutMs?: number }): Promise<'created' | 'exists'>;
}

export class DynamoItemStore implements ItemStore {
  readonly table: string;
  readonly putManyLimit: number;
  private readonly doc: DynamoDBDocumentClient;
  private readonly raw: DynamoDBClient;
  private readonly writeMode: ItemWriteMode;

  constructor(raw: DynamoDBClient, doc: DynamoDBDocumentClient, table: string, opts: { itemWrites?: ItemWriteMode } = {}) {
    this.raw = raw;
    this.doc = doc;
    this.table = table;
    this.writeMode = opts.itemWrites ?? 'batch';
    this.putManyLimit = PUT_MANY_LIMIT[this.writeMode];
  }

  async putNew(item: ImageItem): Promise<void> {
    await this.doc.send(new PutCommand({
      TableName: this.table,
      Item: item,
      ConditionExpression: 'attribute_not_exists(partition_key)',
    }));
  }

  async putReplace(item: ImageItem, expectedVersion: number): Promise<void> {
    await this.doc.send(new PutCommand({
      TableName: this.table,
      Item: item,
      ConditionExpression: '#v = :expected',
      ExpressionAttributeNames: { '#v': 'version' },
      ExpressionAttributeValues: { ':expected': expectedVersion },
    }));
  }

  putMany(items: ImageItem[]): Promise<void> {
    return this.writeMode === 'transact' ? this.transactPut(items) : this.batchPut(items);
  }

  private async batchPut(items: ImageItem[]): Promise<void> {
    for (let i = 0; i < items.length; i += 25) {
      let requests: Record<string, unknown>[] = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; requests.length > 0; attempt++) {
        const res = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.table]: requests as never } }));
        requests = (res.UnprocessedItems?.[this.table] ?? []) as Record<string, unknown>[];
        if (requests.length > 0) {
          // Unprocessed items are DynamoDB shedding load: worth another try later.
          if (attempt >= 8) throw new TransientError(`BatchWriteItem left ${requests.length} items unprocessed after ${attempt + 1} attempts`);
          await sleep(Math.min(50 * 2 ** attempt, 2000));
        }
      }
    }
  }

  private async transactPut(items: ImageItem[]): Promise<void> {
    for (let i = 0; i < items.length; i += 100) {
      await this.doc.send(new TransactWriteCommand({
        TransactItems: items.slice(i, i + 100).map((Item) => ({ Put: { TableName: this.table, Item } })),
      }));
    }
  }

  async get(key: ImageKey): Promise<ImageItem | null> {
    const res = await this.doc.send(new GetCommand({ TableName: this.table, Key: keyOf(key), ConsistentRead: true }));
    return (res.Item as ImageItem | undefined) ?? null;
  }

  async query(animal: string, opts: { limit?: number; next?: Record<string, unknown> } = {}): Promise<QueryPage> {
    const res = await this.doc.send(new QueryCommand({
      TableName: this.table,
      KeyConditionExpression: 'partition_key = :pk AND begins_with(sort_key, :img)',
      ExpressionAttributeValues: { ':pk': partitionKey(animal), ':img': SORT_KEY_PREFIX },
      ScanIndexForward: false,
      Limit: opts.limit,
      ExclusiveStartKey: opts.next,
    }));
    return { items: (res.Items ?? []) as ImageItem[], next: res.LastEvaluatedKey };
  }

  /** Pages through the animal's partition (a Query, never a Scan) until the id is found. */
  async findByImageId(animal: string, imageId: string): Promise<ImageItem | null> {
    let next: Record<string, unknown> | undefined;
    do {
      const res = await this.doc.send(new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'partition_key = :pk AND begins_with(sort_key, :img)',
        FilterExpression: 'image_id = :id',
        ExpressionAttributeValues: { ':pk': partitionKey(animal), ':img': SORT_KEY_PREFIX, ':id': imageId },
        ExclusiveStartKey: next,
      }));
      const found = res.Items?.[0];
      if (found) return found as ImageItem;
      next = res.LastEvaluatedKey;
    } while (next);
    return null;
  }

  async queryAll(animal: string): Promise<Record<string, unknown>[]> {
    const all: Record<string, unknown>[] = [];
    const pages = paginateQuery({ client: this.doc, pageSize: 1000 }, {
      TableName: this.table,
      KeyConditionExpression: 'partition_key = :pk AND begins_with(sort_key, :img)',
      ExpressionAttributeValues: { ':pk': partitionKey(animal), ':img': SORT_KEY_PREFIX },
      ConsistentRead: true,
    });
    for await (const page of pages) all.push(...((page.Items ?? []) as Record<string, unknown>[]));
    return all;
  }

  async delete(key: ImageKey, opts: { onlyIfSourceHost?: string } = {}): Promise<ImageItem | null> {
    const res = await this.doc.send(new DeleteCommand({
      TableName: this.table,
      Key: keyOf(key),
      ReturnValues: 'ALL_OLD',
      ...(opts.onlyIfSourceHost
        ? {
            ConditionExpression: 'attribute_not_exists(partition_key) OR source_host = :host',
            ExpressionAttributeValues: { ':host': opts.onlyIfSourceHost },
          }
        : {}),
    }));
    return (res.Attributes as ImageItem | undefined) ?? null;
  }

  async ensureTable(opts: { timeoutMs?: number } = {}): Promise<'created' | 'exists'> {
    let result: 'created' | 'exists' = 'exists';
    try {
      await this.raw.send(new DescribeTableCommand({ TableName: this.table }));
    } catch (err) {
      if (!(err instanceof ResourceNotFoundException) && (err as Error).name !== 'ResourceNotFoundException') throw err;
      try {
        await this.raw.send(new CreateTableCommand({
          TableName: this.table,
          AttributeDefinitions: [
            { AttributeName: 'partition_key', AttributeType: 'S' },
            { AttributeName: 'sort_key', AttributeType: 'S' },
          ],
          KeySchema: [
            { AttributeName: 'partition_key', KeyType: 'HASH' },
            { AttributeName: 'sort_key', KeyType: 'RANGE' },
          ],
          BillingMode: 'PAY_PER_REQUEST',
          StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
        }));
        result = 'created';
      } catch (createErr) {
        if ((createErr as Error).name !== 'ResourceInUseException') throw createErr;
      }
    }
    const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
    for (;;) {
      const d = await this.raw.send(new DescribeTableCommand({ TableName: this.table }));
      if (d.Table?.TableStatus === 'ACTIVE') return result;
      if (Date.now() > deadline) throw new Error(`table ${this.table} did not become ACTIVE within ${opts.timeoutMs ?? 120_000} ms (status ${d.Table?.TableStatus})`);
      await sleep(500);
    }
  }
}
