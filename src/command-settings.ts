// Which settings each command reads, so that its --help lists those and no others, and a flag it
// would ignore is an unknown option (exit 2) instead of a silent no-op. A command missing from
// the table takes them all.
import type { Argv } from 'yargs';
import { flagName, SETTINGS, type ConfigValues } from './config.ts';

type Key = keyof ConfigValues;

/** Reaching the bucket and the table. */
const STORES: readonly Key[] = ['bucket', 'table', 's3PathStyle', 'checksumMode', 'requestTimeoutMs', 'connectTimeoutMs', 'maxAttempts', 'logLevel'];

const USED_BY: Readonly<Record<string, readonly Key[]>> = {
  status: ['inbox', 'bucket', 'table', 'stateDir', 'healthAddress', 'logLevel'],
  init: [...STORES, 'inbox'],
  upload: [...STORES, 'hostId', 'partSizeMib', 'signedPuts', 'inbox', 'stateDir'],
  list: STORES,
  get: STORES,
  download: STORES,
  delete: STORES,
  stream: [...STORES, 'stateDir'],
};

export function settingsFor(command: string): readonly (typeof SETTINGS)[number][] {
  const keys = USED_BY[command];
  return keys ? SETTINGS.filter((s) => keys.includes(s.key)) : SETTINGS;
}

/** Adds the settings `command` reads to its parser, as flags with their types and choices. */
export function withSettings(y: Argv, command: string): Argv {
  // The command's own options first in --help, its settings after them.
  const own = Object.keys((y as unknown as { getOptions(): { key: Record<string, unknown> } }).getOptions().key)
    .filter((k) => !['help', 'version', 'config', 'json'].includes(k));
  if (own.length > 0) y = y.group(own, 'Options:');
  for (const s of settingsFor(command)) {
    y = y.option(flagName(s.key), {
      type: s.type.kind === 'bool' ? 'boolean' : 'string',
      ...(s.type.kind === 'enum' ? { choices: [...s.type.values] } : {}),
      describe: s.description,
      group: 'Settings (flag > env > --config file > defaults):',
    });
  }
  return y;
}
