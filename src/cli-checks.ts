// Argument checks yargs makes in an unhelpful order or wording: an unknown flag is reported
// before "Missing required argument" (the missing one is usually the misspelt one), with the
// nearest known flag, and a number flag that got text quotes the text instead of "NaN".
import type { Argv } from 'yargs';
import { UsageError } from './errors.ts';

const kebab = (k: string): string => k.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();

/** Edit distance, for "did you mean" (flags are short: the quadratic table is fine). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

export function nearest(name: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const k of known) {
    const d = editDistance(name, k);
    if (d < bestScore) [best, bestScore] = [k, d];
  }
  return best !== undefined && bestScore <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** The text given for `--flag` on the command line (`--flag=x` or `--flag x`). */
function rawValue(args: readonly string[], flag: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === `--${flag}`) return args[i + 1];
    if (a.startsWith(`--${flag}=`)) return a.slice(flag.length + 3);
  }
  return undefined;
}

interface YargsOptions {
  key: Record<string, unknown>;
  alias: Record<string, string[]>;
  number: string[];
}

/** A yargs middleware (run before validation) that throws a UsageError for the cases above. */
export function checkArguments(args: readonly string[], parser: () => Argv) {
  return (argv: Record<string, unknown>): void => {
    // The parser's options are those of the command being run by now (yargs resets them per command).
    const o = (parser() as unknown as { getOptions(): YargsOptions }).getOptions();
    const known = new Set<string>(['_', '$0']);
    for (const k of [...Object.keys(o.key), ...Object.values(o.alias).flat()]) {
      known.add(k);
      known.add(kebab(k));
    }
    // yargs adds a camelCase twin of every kebab-case flag: one report per flag.
    const unknown = [...new Set(Object.keys(argv).filter((k) => !known.has(k) && !known.has(kebab(k))).map(kebab))];
    if (unknown.length > 0) {
      const flags = [...known].filter((k) => k.length > 1 && !/[A-Z_$]/.test(k));
      const parts = unknown.map((k) => {
        const hint = nearest(k, flags);
        return `--${k}${hint ? ` (did you mean --${hint}?)` : ''}`;
      });
      throw new UsageError(`unknown option${parts.length > 1 ? 's' : ''} ${parts.join(', ')}; see --help`);
    }
    for (const key of o.number) {
      if (typeof argv[key] === 'number' && Number.isNaN(argv[key])) {
        const raw = rawValue(args, kebab(key));
        throw new UsageError(`--${kebab(key)}: expected a number, got ${raw === undefined ? 'nothing' : JSON.stringify(raw)}`);
      }
    }
  };
}
