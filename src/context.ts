// Builds what a command needs from its parsed arguments: the frozen config, a logger and the
// two stores. Clients are created lazily so that `--help` and config errors touch no network.
import { resolveConfig, SETTINGS, type Config, type ConfigValues } from './config.ts';
import { createLogger, type Logger } from './log.ts';
import { makeDocumentClient, makeDynamoClient, makeS3Client } from './stores/aws.ts';
import { DynamoItemStore, type ItemStore } from './stores/dynamodb.ts';
import { S3ObjectStore, type ObjectStore } from './stores/s3.ts';

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

export function makeStores(config: Config, env: NodeJS.ProcessEnv = process.env): Stores {
  const s3 = makeS3Client(config, env);
  const raw = makeDynamoClient(config, env);
  const doc = makeDocumentClient(raw);
  return {
    objects: new S3ObjectStore(s3, config.bucket, { partSizeBytes: config.partSizeBytes }),
    items: new DynamoItemStore(raw, doc, config.table),
    close() {
      s3.destroy();
      raw.destroy();
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
