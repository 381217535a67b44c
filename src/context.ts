// Builds what a command needs from its parsed arguments: the frozen config, a logger and the
// two stores. Clients are created lazily so that `--help` and config errors touch no network.
import { resolveConfig, SETTINGS, type Config, type ConfigValues } from './config.ts';
import { createLogger, type Logger, type LoggerOptions } from './log.ts';
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

type AsyncMethods<T> = { [K in keyof T]: T[K] extends (...args: never[]) => Promise<unknown> ? K : never }[keyof T];

/**
 * `fields` as they are, and every other property a method that waits for `load()` (called
 * once, on the first method call) and calls the loaded object's method of that name. Types
 * keep callers to T's real methods.
 */
export function lazily<T extends object>(load: () => Promise<T>, fields: Omit<T, AsyncMethods<T>>): T {
  let loading: Promise<T> | undefined;
  return new Proxy(fields as T, {
    get(target, prop, receiver) {
      if (prop in target) return Reflect.get(target, prop, receiver) as unknown;
      // Not a thenable: `await store` or returning it from an async function must not call load().
      if (typeof prop === 'symbol' || prop === 'then') return undefined;
      return async (...args: unknown[]) => {
        const loaded = (await (loading ??= load())) as Record<string, (...a: unknown[]) => Promise<unknown>>;
        return loaded[prop]!(...args);
      };
    },
  });
}

/**
 * The stores, with the AWS SDK loaded on first use: a pass with nothing to do (and `--help`)
 * never pays the SDK's start-up time and memory.
 */
export function makeStores(config: Config, opts: { log?: Logger } = {}): Stores {
  let loading: Promise<Stores> | undefined;
  let loaded: Stores | undefined;
  let closed = false;
  const load = (): Promise<Stores> =>
    (loading ??= (async () => {
      const [{ makeDocumentClient, makeDynamoClient, makeS3Client }, { DynamoItemStore }, { S3ObjectStore }] = await Promise.all([
        import('./stores/aws.ts'), import('./stores/dynamodb.ts'), import('./stores/s3.ts'),
      ]);
      const s3 = makeS3Client(config);
      const raw = makeDynamoClient(config);
      const objects = new S3ObjectStore(s3, config.bucket, {
        partSizeBytes: config.partSizeBytes,
        signedPut: config.signedPuts ? { requestTimeoutMs: config.requestTimeoutMs, maxAttempts: config.maxAttempts, maxSockets: Math.max(50, config.concurrency * 4) } : undefined,
      });
      const result: Stores = {
        objects,
        items: new DynamoItemStore(raw, makeDocumentClient(raw), config.table, {
          itemWrites: config.itemWriteMode, fallBackToBatch: config.itemWritesFallback, endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB || process.env.AWS_ENDPOINT_URL, log: opts.log,
        }),
        close() {
          objects.close();
          s3.destroy();
          raw.destroy();
        },
      };
      loaded = result;
      if (closed) result.close();
      return result;
    })());
  return {
    objects: lazily<ObjectStore>(async () => (await load()).objects, { bucket: config.bucket }),
    items: lazily<ItemStore>(async () => (await load()).items, { table: config.table, putManyLimit: PUT_MANY_LIMIT[config.itemWriteMode] }),
    close() {
      closed = true;
      loaded?.close();
    },
  };
}

/** The logger the settings ask for; `fd` 1 for daemons (journald keeps stdout), else stderr. */
export function loggerFor(config: Pick<Config, 'logLevel' | 'logFormat'>, opts: Pick<LoggerOptions, 'fd' | 'out'> = {}): Logger {
  return createLogger({ level: config.logLevel, json: config.logFormat === 'auto' ? undefined : config.logFormat === 'json', ...opts });
}

export function makeContext(argv: GlobalArgs): CommandContext {
  const config = configFromArgs(argv);
  const log = loggerFor(config);
  let stores: Stores | undefined;
  return {
    config,
    log,
    json: Boolean(argv.json),
    stores: () => (stores ??= makeStores(config, { log })),
  };
}
