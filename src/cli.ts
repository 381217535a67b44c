#!/usr/bin/env node
// The command-line entry: parses arguments, runs one command, and is the only place where
// errors become exit codes (0 ok, 1 failed or not found, 2 bad usage or input, 3 locked).
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { flagName, SETTINGS } from './config.ts';
import { errorMessage, exitCodeFor, UsageError } from './errors.ts';
import type { CommandModule } from './commands/types.ts';
import { initCommand } from './commands/init.ts';
import { uploadCommand } from './commands/upload.ts';
import { listCommand } from './commands/list.ts';
import { getCommand } from './commands/get.ts';
import { downloadCommand } from './commands/download.ts';
import { deleteCommand } from './commands/delete.ts';
import { localCommand } from './commands/local.ts';
import { syncCommand } from './commands/sync.ts';
import { statusCommand } from './commands/status.ts';
import { checkCommand } from './commands/check.ts';
import { streamCommand } from './commands/stream.ts';

export const COMMANDS: CommandModule[] = [localCommand, syncCommand, statusCommand, checkCommand, initCommand, uploadCommand, listCommand, getCommand, downloadCommand, deleteCommand, streamCommand];

export async function main(args: string[]): Promise<number> {
  let parser = yargs(args)
    .scriptName('animal-sync')
    .usage('$0 <command> [options]\n\nKeeps inbox/<animal>/<name>.png in step with an S3 bucket and a DynamoDB table.')
    .option('config', { type: 'string', describe: 'JSON settings file (env ANIMAL_SYNC_CONFIG)', global: true })
    .option('json', { type: 'boolean', describe: 'machine-readable output', global: true })
    .group(['config', 'json', 'help', 'version'], 'Global options:')
    .strict()
    .demandCommand(1, 'name a command; see --help')
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => {
      if (err) throw err;
      throw new UsageError(msg ?? 'invalid arguments');
    })
    .epilog('Every setting can also be given as ANIMAL_SYNC_<NAME> in the environment or in a --config file; see the README.');
  for (const s of SETTINGS) {
    parser = parser.option(flagName(s.key), {
      type: s.type.kind === 'bool' ? 'boolean' : 'string',
      describe: s.description,
      global: true,
      group: 'Settings (flag > env > --config file > defaults):',
    });
  }
  for (const c of COMMANDS) {
    parser = parser.command(c.command, c.describe, c.builder, c.handler);
  }
  try {
    await parser.parseAsync();
    return 0;
  } catch (err) {
    process.stderr.write(`animal-sync: ${errorMessage(err)}\n`);
    if (process.env.ANIMAL_SYNC_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    return exitCodeFor(err);
  }
}

if (import.meta.main) {
  const code = await main(hideBin(process.argv));
  process.exitCode = code;
}
