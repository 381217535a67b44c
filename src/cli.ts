#!/usr/bin/env node
// The command-line entry: parses arguments, runs one command, and is the only place where
// errors become exit codes (0 ok, 1 failed or not found, 2 bad usage or input, 3 locked).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { withSettings } from './command-settings.ts';
import { standardConfigFiles, SYSTEM_CONFIG_FILE, userConfigFile } from './config.ts';
import { explainAwsError } from './aws-errors.ts';
import { checkArguments } from './cli-checks.ts';
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
import { serveCommand } from './commands/serve.ts';
import { restoreCommand } from './commands/restore.ts';

export const COMMANDS: CommandModule[] = [localCommand, syncCommand, statusCommand, checkCommand, initCommand, uploadCommand, listCommand, getCommand, downloadCommand, deleteCommand, streamCommand, serveCommand, restoreCommand];

/** Where settings come from, and which config files this run would read. */
function settingsEpilog(args: readonly string[], env: NodeJS.ProcessEnv = process.env): string {
  const i = args.findIndex((a) => a === '--config' || a.startsWith('--config='));
  const explicit = i < 0 ? env.ANIMAL_SYNC_CONFIG : args[i]!.includes('=') ? args[i]!.slice(9) : args[i + 1];
  const files = [...standardConfigFiles(env), ...(explicit ? [path.resolve(explicit)] : [])];
  return `Settings, lowest first: defaults < ${SYSTEM_CONFIG_FILE} < ${userConfigFile(env) ?? '~/.config/animal-sync/config.json'} < --config FILE ` +
    `< ANIMAL_SYNC_<NAME> variables < flags (see the README). Config files read: ${files.length > 0 ? files.join(', ') : 'none'}.`;
}

/**
 * yargs renders the help of the command it runs right after starting its handler, in case the
 * handler shows help later (ours never do: failures throw, see .fail()). That rendering was
 * ~30 ms of CPU in every command (cpuprofile of a sync --once: usage.help, cliui, wrap-ansi).
 * `--help` and usage errors render help on their own, without this cache.
 */
function skipHelpCache(y: unknown): void {
  const usage = (y as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } }).getInternalMethods?.().getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => undefined;
}

/**
 * Our version, from the package.json beside src/ or dist/. yargs guesses it by looking for a
 * package.json above its own folder, and misses when the project's folder name has a dot in
 * it (a clone in /tmp/tmp.AbC123 answered `--version` with "unknown").
 */
function ownVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export async function main(args: string[]): Promise<number> {
  const root = yargs(args);
  let parser = root
    .scriptName('animal-sync')
    .usage('$0 <command> [options]\n\nKeeps inbox/<animal>/<name>.png in step with an S3 bucket and a DynamoDB table.')
    .option('config', { type: 'string', describe: 'JSON settings file (env ANIMAL_SYNC_CONFIG)', global: true })
    .option('json', { type: 'boolean', describe: 'machine-readable output', global: true })
    .group(['config', 'json', 'help', 'version'], 'Global options:')
    .strict()
    .middleware(checkArguments(args, () => root), true)
    .demandCommand(1, 'name a command; see --help')
    .recommendCommands()
    .completion('completion', 'print a shell completion script (zsh when $SHELL is zsh, else bash); e.g. animal-sync completion >> ~/.bashrc')
    .version(ownVersion())
    .help()
    .alias('h', 'help')
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => {
      if (err) throw err;
      throw new UsageError(msg ?? 'invalid arguments');
    })
    .epilog(settingsEpilog(args));
  for (const c of COMMANDS) {
    const name = c.command.split(' ')[0]!;
    parser = parser.command(c.command, c.describe, (y) => withSettings(c.builder(y), name), c.handler);
  }
  skipHelpCache(root);
  try {
    await parser.parseAsync();
    return 0;
  } catch (err) {
    process.stderr.write(`animal-sync: ${explainAwsError(err) ?? errorMessage(err)}\n`);
    if (process.env.ANIMAL_SYNC_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    return exitCodeFor(err);
  }
}

if (import.meta.main) {
  const code = await main(hideBin(process.argv));
  process.exitCode = code;
}
