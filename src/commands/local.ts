import path from 'node:path';
import type { CommandModule } from './types.ts';
import { configFromArgs, loggerFor, makeStores } from '../context.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { ensureInbox } from '../inbox.ts';
import { holdOutput } from '../local/held-output.ts';
import { stopWhenParentExits } from '../local/parent-watch.ts';
import type { StreamRunner } from '../stream/runner.ts';
import type { SyncDaemon } from '../sync/daemon.ts';
import type { OpenGallery } from '../gallery/open.ts';

function shellQuote(v: string): string {
  return /^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`;
}

/** The gallery, fed by the in-process stream runner and the daemon's own index when they run. */
async function startLocalGallery(config: Config, log: Logger, port: number, daemon: SyncDaemon | undefined): Promise<OpenGallery> {
  const [{ openGallery }, { inProcessStatus, sharedStatus }, { META_LAST_RECONCILE }] = await Promise.all([
    import('../gallery/open.ts'), import('../gallery/status.ts'), import('../sync/index-db.ts'),
  ]);
  const status = daemon ? inProcessStatus(daemon, META_LAST_RECONCILE) : sharedStatus(config);
  return openGallery({ config, address: `127.0.0.1:${port}`, log, status, fedByStream: daemon !== undefined });
}

export const localCommand: CommandModule = {
  command: 'local',
  describe: 'Run everything on this machine with no AWS account: S3-compatible server, DynamoDB Local (with streams) and the sync daemon',
  builder: (y) =>
    y
      .option('data-dir', { type: 'string', default: '.animal-sync/local', describe: 'where the local servers keep their data' })
      .option('s3-port', { type: 'number', default: 4569, describe: 'port of the S3-compatible server' })
      .option('dynamodb-port', { type: 'number', default: 8000, describe: 'port of DynamoDB Local' })
      .option('sync', { type: 'boolean', default: true, describe: 'also run the sync daemon on the inbox (--no-sync: servers only)' })
      .option('gallery', { type: 'boolean', default: true, describe: 'also serve the web gallery on 127.0.0.1 (--no-gallery: none)' })
      .option('gallery-port', { type: 'number', default: 8080, describe: 'port of the gallery' })
      .example('$0 local', 'start the local stack and the daemon on ./inbox')
      .example('$0 local --no-sync', 'servers only'),
  async handler(argv) {
    const dataDir = path.resolve(String(argv.dataDir));
    const [{ startLocalStack }, { startStreamRunner }, { SyncDaemon }] = await Promise.all([
      import('../local/stack.ts'), import('../stream/runner.ts'), import('../sync/daemon.ts'),
    ]);
    // Resolved again below, once the stack's endpoints are in the environment.
    const settings = configFromArgs(argv);
    // On a terminal the banner comes first; the start-up lines follow it.
    const held = holdOutput();
    const log = loggerFor(settings, { fd: 1, out: held.stream });
    const stack = await startLocalStack({
      dataDir,
      s3Port: Number(argv.s3Port),
      dynamodbPort: Number(argv.dynamodbPort),
      bucket: settings.bucket,
      log: (line) => log.debug({ component: 'dynamodb-local' }, line),
    });
    // Every other command and the daemon reach the servers through these variables.
    Object.assign(process.env, stack.env);
    const config = configFromArgs(argv);
    const stores = makeStores(config);
    const withSync = argv.sync !== false;
    let runner: StreamRunner | undefined;
    let daemon: SyncDaemon | undefined;
    let gallery: OpenGallery | undefined;
    let stopping = false;
    const stop = async (signal: string): Promise<void> => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'stopping the local stack');
      await gallery?.stop();
      await daemon?.stop().catch((err: unknown) => log.error({ err: String(err) }, 'daemon stop failed'));
      await runner?.stop().catch((err: unknown) => log.error({ err: String(err) }, 'stream runner stop failed'));
      stores.close();
      await stack.stop();
      log.info('local stack stopped');
      process.exit(0);
    };
    // SIGHUP too: closing the terminal must not leave a stale lock and a running JVM behind
    // (the daemon alone, `sync`, keeps SIGHUP for a rescan).
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => void stop(signal));
    stopWhenParentExits(() => void stop('parent exited'));
    try {
      await stores.objects.ensureBucket();
      await stores.items.ensureTable();
      ensureInbox(config.inbox);
      if (withSync) {
        // The local stand-in for Lambda + CloudWatch Logs: handler lines go to stdout and lambda.log.
        runner = await startStreamRunner({
          aws: config, table: config.table, stateDir: config.stateDir, log,
          logFile: path.join(dataDir, 'lambda.log'), failureFile: path.join(dataDir, 'stream-failures.jsonl'),
          onRecords: (records) => gallery?.onStreamRecords(records),
        });
        daemon = await SyncDaemon.start({ config, log, stores });
      }
      // A busy port costs the gallery, not the whole stack.
      if (argv.gallery !== false) gallery = await startLocalGallery(config, log, Number(argv.galleryPort), daemon).catch((err: unknown) => void log.warn({ err: String(err) }, 'gallery not started'));
    } catch (err) {
      await gallery?.stop().catch(() => undefined);
      await daemon?.stop().catch(() => undefined);
      await runner?.stop().catch(() => undefined);
      await stack.stop();
      held.release();
      throw err;
    }
    const lines = Object.entries(stack.env).map(([k, v]) => `export ${k}=${shellQuote(v)}`);
    process.stdout.write(
      [
        `animal-sync local is up (data in ${dataDir})`,
        `  S3 (s3rver)      ${stack.s3Endpoint}  bucket ${config.bucket}`,
        `  DynamoDB Local   ${stack.dynamodbEndpoint}  table ${config.table} (stream NEW_AND_OLD_IMAGES)`,
        `  inbox            ${config.inbox}${withSync ? ' (watched)' : ' (not watched: --no-sync)'}`,
        ...(withSync ? [`  Lambda log       ${path.join(dataDir, 'lambda.log')} (stream runner; lines also appear below)`] : []),
        ...(gallery ? [`  gallery          ${gallery.url}  (open it in a browser)`] : []),
        '',
        'In another shell, point animal-sync (or the AWS CLI) at it with:',
        ...lines,
        '',
        ...(withSync ? [`Drop a PNG into ${path.relative(process.cwd(), config.inbox) || '.'}/<animal>/ (e.g. inbox/dog/rex.png) and watch it arrive. Press Ctrl-C to stop.`] : ['Press Ctrl-C to stop.']),
        '',
      ].join('\n'),
    );
    held.release();
    await new Promise<never>(() => undefined);
  },
};
