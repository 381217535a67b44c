// Builds what a command needs from its parsed arguments: the frozen config, a logger and the
// two stores. Clients are created lazily so that `--help` and config errors touch no network.
import { resolveConfig, SETTINGS, type Config, type ConfigValues } from './config.ts';
import { createLogger, type Logger } from './log.ts';
import type { ItemStore } from './stores/dynamodb.ts';
import { PUT_MANY_LIMIT } from './stores/item-writes.ts';
import type { ObjectStore } from './stores/s3.ts';

export interface GlobalArgs {
  config?: string;
  json?: boolean;
  [key: string]: unknown;
}

export interface Stores {
  objects: ObjectStore;
  items: ItemStore;
  close(): void;
}

export interface CommandContext {
  config: Config;
  log: Logger;
  json: boolean;
  stores(): Stores;
}

export function configFromArgs(argv: GlobalArgs, env: NodeJS.ProcessEnv = process.env): Config {
  const flags: Partial<Record<keyof ConfigValues, unknown>> = {};
  for (const s of SETTINGS) if (argv[s.key] !== undefined) flags[s.key] = argv[s.key];
  return resolveConfig({ flags, configFile: argv.config, env });
}

type Loaded = { objects: ObjectStore; items: ItemStore; close(): void };

/**
 * The stores, with the AWS SDK loaded on first use: a pass with nothing to do (and `--help`)
 * never pays the SDK's start-up time and memory.
 */
export function makeStores(config: Config, env: NodeJS.ProcessEnv = process.env): Stores {
  let loading: Promise<Loaded> | undefined;
  let loaded: Loaded | undefined;
  let closed = false;
  const load = (): Promise<Loaded> =>
    (loading ??= (async () => {
      const [{ makeDocumentClient, makeDynamoClient, makeS3Client }, { DynamoItemStore }, { S3ObjectStore }] = await Promise.all([
        import('./stores/aws.ts'), import('./stores/dynamodb.ts'), import('./stores/s3.ts'),
      ]);
      const s3 = makeS3Client(config, env);
      const raw = makeDynamoClient(config, env);
      const result: Loaded = {
        objects: new S3ObjectStore(s3, config.bucket, { partSizeBytes: config.partSizeBytes }),
        items: new DynamoItemStore(raw, makeDocumentClient(raw), config.table, { itemWrites: config.itemWriteMode }),
        close() {
          s3.destroy();
          raw.destroy();
        },
      };
      loaded = result;
      if (closed) result.close();
      return result;
    })());
  const objects: ObjectStore = {
    bucket: config.bucket,
    put: async (i) => (await load()).objects.put(i),
    get: async (k) => (await load()).objects.get(k),
    head: async (k) => (await load()).objects.head(k),
    list: async (p) => (await load()).objects.list(p),
    listFolders: async (p) => (await load()).objects.listFolders(p),
    delete: async (k) => (await load()).objects.delete(k),
    ensureBucket: async () => (await load()).objects.ensureBucket(),
  };
  const items: ItemStore = {
    table: config.table,
    putNew: async (i) => (await load()).items.putNew(i),
    putReplace: async (i, v) => (await load()).items.putReplace(i, v),
    putMany: async (i) => (await load()).items.putMany(i),
    putManyLimit: PUT_MANY_LIMIT[config.itemWriteMode],
    get: async (k) => (await load()).items.get(k),
    query: async (a, o) => (await load()).items.query(a, o),
    findByImageId: async (a, id) => (await load()).items.findByImageId(a, id),
    queryAll: async (a) => (await load()).items.queryAll(a),
    delete: async (k, o) => (await load()).items.delete(k, o),
    ensureTable: async (o) => (await load()).items.ensureTable(o),
  };
  return {
    objects,
    items,
    close() {
      closed = true;
      loaded?.close();
    },
  };
}

export function makeContext(argv: GlobalArgs, opts: { logToStdout?: boolean } = {}): CommandContext {
  const config = configFromArgs(argv);
  const log = createLogger({ level: config.logLevel, ...(opts.logToStdout ? {} : {}) });
  let stores: Stores | undefined;
  return {
    config,
    log,
    json: Boolean(argv.json),
    stores: () => (stores ??= makeStores(config)),
  };
}
