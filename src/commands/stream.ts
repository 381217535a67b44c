import type { CommandModule } from './types.ts';
import { makeContext } from '../context.ts';
import { UsageError } from '../errors.ts';
import { STARTING_POSITIONS, type StartingPosition } from '../stream/positions.ts';

function intFlag(argv: Record<string, unknown>, key: string, flag: string, min: number, max: number): number | undefined {
  const v = argv[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new UsageError(`--${flag}: expected an integer between ${min} and ${max}, got ${typeof v === 'number' ? String(v) : JSON.stringify(v)}`);
  }
  return v;
}

export const streamCommand: CommandModule = {
  command: 'stream',
  describe: 'Read the table\'s DynamoDB stream and invoke lambda/\'s handler the way Lambda does (batches, checkpoints, retries); its log lines go to stdout and a log file',
  builder: (y) =>
    y
      .option('batch-size', { type: 'number', describe: 'most records per invocation (1-10000) [default: 100]' })
      .option('batch-window-ms', { type: 'number', describe: 'longest wait for a batch to fill, from its first record [default: 500]' })
      .option('starting-position', { type: 'string', choices: STARTING_POSITIONS as string[], describe: 'where a stream never read before starts [default: TRIM_HORIZON]' })
      .option('max-retries', { type: 'number', describe: 'retries of a failed batch before it goes to the on-failure file [default: 3]' })
      .option('log-file', { type: 'string', describe: 'handler log lines are appended here [default: <state-dir>/lambda.log]' })
      .option('on-failure-file', { type: 'string', describe: 'batches that exhausted their retries are appended here, one JSON line each [default: <state-dir>/stream-failures.jsonl]' })
      .option('poll-interval-ms', { type: 'number', describe: 'wait between polls of an idle shard [default: 250]' })
      .example('$0 stream', 'log every change of the table, resuming from the last checkpoint')
      .example('$0 stream --starting-position LATEST --batch-size 10', 'only changes from now on, ten at a time'),
  async handler(argv) {
    const { startStreamRunner } = await import('../stream/runner.ts');
    const batchSize = intFlag(argv, 'batchSize', 'batch-size', 1, 10_000);
    const batchWindowMs = intFlag(argv, 'batchWindowMs', 'batch-window-ms', 0, 300_000);
    const maxRetries = intFlag(argv, 'maxRetries', 'max-retries', 0, 10_000);
    const pollIntervalMs = intFlag(argv, 'pollIntervalMs', 'poll-interval-ms', 1, 60_000);
    const ctx = makeContext(argv);
    const runner = await startStreamRunner({
      aws: ctx.config,
      table: ctx.config.table,
      stateDir: ctx.config.stateDir,
      logFile: argv.logFile as string | undefined,
      failureFile: argv.onFailureFile as string | undefined,
      batchSize,
      batchWindowMs,
      maxRetries,
      pollIntervalMs,
      startingPosition: argv.startingPosition as StartingPosition | undefined,
      log: ctx.log,
    });
    // SIGINT/SIGTERM: stop polling, let the in-flight batch finish, save checkpoints, exit 0.
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGINT', () => resolve('SIGINT'));
      process.once('SIGTERM', () => resolve('SIGTERM'));
    });
    ctx.log.info({ signal }, 'stopping the stream runner');
    await runner.stop();
  },
};
