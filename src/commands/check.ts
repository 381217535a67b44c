// `animal-sync check [--animal A] [--deep] [--json]`: read-only, like `rclone check`. It takes
// no lock (works beside a running daemon) and writes nothing, anywhere.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { CommandModule } from './types.ts';
import { checkCatalogue, NO_ROWS } from '../catalogue/check.ts';
import { countByKind, type CheckReport, type Difference } from '../catalogue/differences.ts';
import { configFromArgs, makeStores } from '../context.ts';
import { assertAnimal } from '../model.ts';
import { printJson } from '../output.ts';
import { INDEX_FILE, SyncIndex } from '../sync/index-db.ts';

export class DifferencesFoundError extends Error {
  override name = 'DifferencesFoundError';
}

export function formatDifferences(differences: readonly Difference[]): string[] {
  const width = Math.max(0, ...differences.map((d) => d.kind.length));
  return differences.map((d) => `${d.kind.padEnd(width)}  ${d.path}  (${d.detail})`);
}

export function checkSummaryLine(report: CheckReport): string {
  const c = report.counts;
  const kinds = Object.entries(countByKind(report.differences)).map(([k, n]) => `${k} ${n}`).join(', ');
  return `checked ${c.files} file(s), ${c.items} item(s) of this host and ${c.objects} object(s) in ${c.animals} animal(s); ` +
    `${c.foreignItems} item(s) of other hosts or tools counted, not judged: ` +
    (report.differences.length === 0 ? 'everything matches' : `${report.differences.length} difference(s) (${kinds})`);
}

/** The index, read-only; null when this state dir has no index yet (everything is then "not catalogued" or adoptable). */
function openIndex(stateDir: string): SyncIndex | null {
  return existsSync(path.join(stateDir, INDEX_FILE)) ? SyncIndex.open(stateDir, { readOnly: true }) : null;
}

export const checkCommand: CommandModule = {
  command: 'check',
  describe: 'Compare the inbox, the index, this host\'s items and the objects; change nothing (exit 1 when something differs)',
  builder: (y) =>
    y
      .option('animal', { type: 'string', describe: 'only this animal\'s folder, partition and prefix' })
      .option('deep', { type: 'boolean', default: false, describe: 'also download every object of this host and compare its sha256' })
      .example('$0 check', 'one line per difference, then a summary')
      .example('$0 check --animal dog --deep --json', 'byte-for-byte, for scripts'),
  async handler(argv) {
    const config = configFromArgs(argv);
    const animal = argv.animal === undefined ? undefined : assertAnimal(argv.animal);
    const stores = makeStores(config);
    const index = openIndex(config.stateDir);
    try {
      const { report } = await checkCatalogue({ config, stores, rows: index ?? NO_ROWS, animal, deep: Boolean(argv.deep) });
      if (argv.json) {
        printJson({ ok: report.differences.length === 0, counts: report.counts, byKind: countByKind(report.differences), differences: report.differences.map(({ kind, path: p, detail }) => ({ kind, path: p, detail })) });
      } else {
        const lines = [...formatDifferences(report.differences), checkSummaryLine(report)];
        process.stdout.write(lines.join('\n') + '\n');
      }
      if (report.differences.length > 0) throw new DifferencesFoundError(`${report.differences.length} difference(s); \`animal-sync sync --once --check\` repairs what this host owns`);
    } finally {
      index?.close();
      stores.close();
    }
  },
};
