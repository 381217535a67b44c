// The DynamoDB side of the catalogue, through the DocumentClient: conditional puts, GetItem by
// exact key, Query by partition (newest first), delete returning the old item.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
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
import { ConfigError, errorMessage, isTransient, TransientError } from '../errors.ts';
import { PUT_MANY_LIMIT, type ItemWriteMode } from './item-writes.ts';
import { isRefusedOperation, OperationRefusedError, translateRefusal } from './refused.ts';
import { ensureTable, type TableReport } from './table.ts';
import { type ImageItem, type ImageKey, keyOf, partitionKey, SORT_KEY_PREFIX } from '../model.ts';

export type { TableReport } from './table.ts';

export interface QueryPage {
  items: ImageItem[];
  /** Opaque cursor for the next page; undefined at the end. */
  next: Record<string, unknown> | undefined;
}

/** Where the store's one-off notices go (the fallback of itemWrites auto). */
export interface StoreLog {
  warn(obj: object, msg: string): void;
}

export interface ItemStoreOptions {
  itemWrites?: ItemWriteMode;
  /** itemWrites auto on a custom endpoint: transact, and batch from the first refusal on. */
  fallBackToBatch?: boolean;
  /** The endpoint named in messages (AWS_ENDPOINT_URL_DYNAMODB); undefined = AWS. */
  endpoint?: string;
  log?: StoreLog;
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
  ensureTable(opts?: { timeoutMs?: number }): Promise<TableReport>;
  /**
   * With an explicit itemWrites transact, asks the endpoint once whether it has transactions and
   * throws a ConfigError naming the setting if not; any other mode asks nothing.
   */
  checkItemWrites(): Promise<void>;
}

const PROBE_KEY = { partition_key: 'PROBE#animal-sync', sort_key: 'PROBE' };

export class DynamoItemStore implements ItemStore {
  readonly table: string;
  readonly putManyLimit: number;
  private readonly doc: DynamoDBDocumentClient;
  private readonly raw: DynamoDBClient;
  private writeMode: ItemWriteMode;
  private readonly opts: ItemStoreOptions;

  constructor(raw: DynamoDBClient, doc: DynamoDBDocumentClient, table: string, opts: ItemStoreOptions = {}) {
    this.raw = raw;
    this.doc = doc;
    this.table = table;
    this.opts = opts;
    this.writeMode = opts.itemWrites ?? 'batch';
    // Kept after a fallback: batchPut splits a request of 100 into four of 25.
    this.putManyLimit = PUT_MANY_LIMIT[this.writeMode];
  }

  /** Every request goes through here, so that an operation the endpoint lacks is said plainly. */
  private async call<T>(operation: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (err) {
      throw translateRefusal(err, operation, this.opts.endpoint);
    }
  }

  async putNew(item: ImageItem): Promise<void> {
    await this.call('PutItem', () => this.doc.send(new PutCommand({
      TableName: this.table,
      Item: item,
      ConditionExpression: 'attribute_not_exists(partition_key)',
    })));
  }

  async putReplace(item: ImageItem, expectedVersion: number): Promise<void> {
    await this.call('PutItem', () => this.doc.send(new PutCommand({
      TableName: this.table,
      Item: item,
      ConditionExpression: '#v = :expected',
      ExpressionAttributeNames: { '#v': 'version' },
      ExpressionAttributeValues: { ':expected': expectedVersion },
    })));
  }

  async putMany(items: ImageItem[]): Promise<void> {
    if (this.writeMode === 'batch') return this.batchPut(items);
    try {
      await this.transactPut(items);
    } catch (err) {
      // The first write's answer is the probe of itemWrites auto: nothing was written, and the
      // same items go out again as a batch (unconditional puts of the same items: harmless).
      if (!(err instanceof OperationRefusedError) || !this.opts.fallBackToBatch) throw err;
      this.fallBackToBatch();
      await this.batchPut(items);
    }
  }

  /** Once per store, however many requests were in flight when the refusal came. */
  private fallBackToBatch(): void {
    if (this.writeMode === 'batch') return;
    this.writeMode = 'batch';
    const where = this.opts.endpoint ?? 'the DynamoDB endpoint';
    this.opts.log?.warn({ endpoint: this.opts.endpoint, itemWrites: 'auto', using: 'batch' },
      `${where} has no transactions (TransactWriteItems: UnknownOperationException); itemWrites auto writes new items with BatchWriteItem from now on`);
  }

  /** One transaction whose only Put has a condition that can never hold: nothing is ever written. */
  private async hasTransactions(): Promise<boolean> {
    try {
      await this.doc.send(new TransactWriteCommand({
        TransactItems: [{
          Put: {
            TableName: this.table,
            Item: PROBE_KEY,
            ConditionExpression: 'attribute_exists(#pk) AND attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': 'partition_key' },
          },
        }],
      }));
      return true;
    } catch (err) {
      if (isRefusedOperation(err)) return false;
      if ((err as Error).name === 'TransactionCanceledException') return true;
      throw err;
    }
  }

  async checkItemWrites(): Promise<void> {
    if (this.writeMode !== 'transact' || this.opts.fallBackToBatch) return;
    let supported: boolean;
    try {
      supported = await this.hasTransactions();
    } catch (err) {
      // A store that is down at start is the daemon's to wait for; its writes will tell.
      if (isTransient(err)) {
        this.opts.log?.warn({ err: errorMessage(err) }, `could not ask the DynamoDB endpoint whether it has transactions: ${errorMessage(err)}`);
        return;
      }
      throw err;
    }
    if (!supported) {
      throw new ConfigError(`itemWrites: transact, but ${this.opts.endpoint ?? 'the DynamoDB endpoint'} has no transactions (TransactWriteItems answered UnknownOperationException); ` +
        'set itemWrites to batch (--item-writes batch, ANIMAL_SYNC_ITEM_WRITES=batch) or auto');
    }
  }

  private async batchPut(items: ImageItem[]): Promise<void> {
    for (let i = 0; i < items.length; i += 25) {
      let requests: Record<string, unknown>[] = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; requests.length > 0; attempt++) {
        const res = await this.call('BatchWriteItem', () => this.doc.send(new BatchWriteCommand({ RequestItems: { [this.table]: requests as never } })));
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
      await this.call('TransactWriteItems', () => this.doc.send(new TransactWriteCommand({
        TransactItems: items.slice(i, i + 100).map((Item) => ({ Put: { TableName: this.table, Item } })),
      })));
    }
  }

  async get(key: ImageKey): Promise<ImageItem | null> {
    const res = await this.call('GetItem', () => this.doc.send(new GetCommand({ TableName: this.table, Key: keyOf(key), ConsistentRead: true })));
    return (res.Item as ImageItem | undefined) ?? null;
  }

  async query(animal: string, opts: { limit?: number; next?: Record<string, unknown> } = {}): Promise<QueryPage> {
    const res = await this.call('Query', () => this.doc.send(new QueryCommand({
      TableName: this.table,
      KeyConditionExpression: 'partition_key = :pk AND begins_with(sort_key, :img)',
      ExpressionAttributeValues: { ':pk': partitionKey(animal), ':img': SORT_KEY_PREFIX },
      ScanIndexForward: false,
      Limit: opts.limit,
      ExclusiveStartKey: opts.next,
    })));
    return { items: (res.Items ?? []) as ImageItem[], next: res.LastEvaluatedKey };
  }

  /** Pages through the animal's partition (a Query, never a Scan) until the id is found. */
  async findByImageId(animal: string, imageId: string): Promise<ImageItem | null> {
    return this.call('Query', async () => {
      const pages = paginateQuery({ client: this.doc }, {
        TableName: this.table,
        KeyConditionExpression: 'partition_key = :pk AND begins_with(sort_key, :img)',
        FilterExpression: 'image_id = :id',
        ExpressionAttributeValues: { ':pk': partitionKey(animal), ':img': SORT_KEY_PREFIX, ':id': imageId },
      });
      for await (const page of pages) {
        const found = page.Items?.[0];
        if (found) return found as ImageItem;
      }
      return null;
    });
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
    const res = await this.call('DeleteItem', () => this.doc.send(new DeleteCommand({
      TableName: this.table,
      Key: keyOf(key),
      ReturnValues: 'ALL_OLD',
      ...(opts.onlyIfSourceHost
        ? {
            ConditionExpression: 'attribute_not_exists(partition_key) OR source_host = :host',
            ExpressionAttributeValues: { ':host': opts.onlyIfSourceHost },
          }
        : {}),
    })));
    return (res.Attributes as ImageItem | undefined) ?? null;
  }

  ensureTable(opts: { timeoutMs?: number } = {}): Promise<TableReport> {
    return ensureTable(this.raw, this.table, opts);
  }
}
