// `animal-sync sync`: the watching daemon (here), or one pass with --once (sync-once.ts).
import type { CommandModule } from './types.ts';
import { configFromArgs, loggerFor, makeStores, type Stores } from '../context.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import type { SyncMetrics } from '../service/metrics.ts';
import { UsageError } from '../errors.ts';
import { createProgress } from '../progress.ts';
import type { SyncHooks } from '../sync/reconciler.ts';
import { runOnce, SyncFailedError } from './sync-once.ts';

export { SyncFailedError };

function metricHooks(m: SyncMetrics): SyncHooks {
  return {
    onUploaded(e) {
      (e.changed ? m.filesUpdated : m.filesUploaded).inc();
      m.bytesUploaded.inc(e.bytes);
      m.catalogueLatency.observe(Math.max(0, e.latencyMs) / 1000);
    },
    onDeleted: () => m.filesDeleted.inc(),
    onFailed: () => m.filesFailed.inc(),
    onQueue(e) {
      m.queueDepth.set(e.queued);
      m.inFlight.set(e.inFlight);
    },
  };
}

async function runDaemon(config: Config, log: Logger, stores: Stores, opts: { force: boolean }): Promise<void> {
  // Loaded here so that `sync --once` does not pay for chokidar and prom-client.
  const [{ startHealthServer }, { createMetrics }, { createNotifier }, { SyncDaemon }] = await Promise.all([
    import('../service/health.ts'), import('../service/metrics.ts'), import('../service/notify.ts'), import('../sync/daemon.ts'),
  ]);
  const metrics = createMetrics();
  const notifier = createNotifier(process.env, log);
  const daemon = await SyncDaemon.start({
    config, log, stores, force: opts.force, hooks: metricHooks(metrics),
    onPass(result, kind) {
      if (kind === 'full') metrics.reconcileDuration.observe(result.durationMs / 1000);
      if (result.failed === 0 && kind === 'full') metrics.lastGoodReconcile.set(Date.now() / 1000);
    },
    onAudit: (audit) => metrics.recordAudit(audit),
  });
  const health = config.healthAddress
    ? await startHealthServer({ address: config.healthAddress, metrics, health: () => daemon.health(), log })
    : undefined;
  if (health) log.info({ url: health.url }, `health and metrics on ${health.url}/healthz and ${health.url}/metrics`);
  // Ready = start-up reconcile queued and watcher ready (SyncDaemon.start resolved).
  await notifier.ready('watching ' + config.inbox);
  let healthy = true;
  const healthTimer = setInterval(() => void daemon.health().then((h) => (healthy = h.checks.watcher?.ok ?? false)), 5000);
  healthTimer.unref();
  const stopWatchdog = notifier.startWatchdog(() => healthy);
  await new Promise<void>((resolve) => {
    const onSignal = (signal: string): void => {
      log.info({ signal, graceMs: config.graceMs }, `${signal}: stopping (in-flight work gets ${config.graceMs} ms)`);
      void notifier.stopping();
      resolve();
    };
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
    process.on('SIGHUP', () => {
      log.info('SIGHUP: full rescan');
      void daemon.rescan();
    });
  });
  clearInterval(healthTimer);
  stopWatchdog();
  const { graceful } = await daemon.stop();
  await health?.stop();
  stores.close();
  log.info({ graceful }, 'stopped');
  // Requests given up at shutdown (a hung DynamoDB call or health probe, and the SDK's
  // retries of it) would keep the process alive for requestTimeoutMs x maxAttempts, long past
  // the grace time; their intents are journaled and redone on the next start. unref: a stop
  // with nothing left in flight exits on its own, at once.
  setTimeout(() => process.exit(), 200).unref();
}

export const syncCommand: CommandModule = {
  command: 'sync',
  describe: 'Mirror the inbox to S3 and DynamoDB: watch until stopped, or one pass with --once',
  builder: (y) =>
    y
      .option('once', { type: 'boolean', default: false, describe: 'one reconcile pass, a summary, then exit (0 only if nothing failed)' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'with --once: print the plan and change nothing' })
      .option('force', { type: 'boolean', default: false, describe: 'let a pass delete more than the delete caps allow' })
      .option('check', { type: 'boolean', default: false, describe: 'with --once: check the catalogue first and repair what this host owns (see `check`)' })
      .option('deep', { type: 'boolean', default: false, describe: 'with --check: also download and hash every object of this host' })
      .example('$0 sync', 'watch the inbox until Ctrl-C / SIGTERM')
      .example('$0 sync --once --dry-run', 'show what one pass would do')
      .example('$0 sync --once --check', 'repair objects or items changed behind this host\'s back'),
  async handler(argv) {
    const config = configFromArgs(argv);
    const once = Boolean(argv.once);
    const dryRun = Boolean(argv.dryRun);
    if (dryRun && !once) throw new UsageError('--dry-run only works with --once');
    if (argv.deep && !argv.check) throw new UsageError('--deep only works with --check');
    if (argv.check && !once) throw new UsageError('--check only works with --once (the daemon audits every checkIntervalSec by itself)');
    const json = Boolean(argv.json);
    // On a terminal, the log lines of a one-off pass are printed above its progress bar.
    const progress = once && !json && !dryRun ? createProgress() : undefined;
    // A daemon logs to stdout (journald); one-off commands keep stdout for their result.
    const log = loggerFor(config, { fd: once ? 2 : 1, out: progress?.logStream });
    const stores = makeStores(config, { log });
    try {
      // An explicit `transact` against a store without transactions stops here, not file by file.
      if (config.itemWrites === 'transact') await stores.items.checkItemWrites();
      if (once) await runOnce(config, log, stores, { dryRun, force: Boolean(argv.force), json, check: Boolean(argv.check), deep: Boolean(argv.deep), progress });
      else await runDaemon(config, log, stores, { force: Boolean(argv.force) });
    } finally {
      stores.close();
    }
  },
};
