// One log style for every part: pino JSON lines with the level as a name (`"level":"info"`,
// as the stream Lambda's Powertools lines), written synchronously, so nothing is lost when
// the process exits right after a line.
// - Under systemd, when the stream is the journal's (JOURNAL_STREAM), each line starts with
//   its syslog priority (`<3>` for an error), which journald strips and files the line under:
//   `journalctl -u animal-sync -p err` finds the errors.
// - On a terminal, pino-pretty's readable lines in local time, formatted in this thread
//   (prettyFactory, not a worker-thread transport).
import { fstatSync } from 'node:fs';
import { pino, type DestinationStream, type Logger } from 'pino';
import { prettyFactory } from 'pino-pretty';

export type { Logger };

export const REDACT_PATHS = [
  'secretAccessKey', '*.secretAccessKey', 'sessionToken', '*.sessionToken', 'authorization', '*.authorization',
  'headers.authorization', '*.headers.authorization', 'AWS_SECRET_ACCESS_KEY', '*.AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', '*.AWS_SESSION_TOKEN',
];

/** pino's level numbers → syslog priorities (sd-daemon(3)): fatal crit, error err, warn warning, info, debug. */
export function syslogPriority(pinoLevel: number): number {
  if (pinoLevel >= 60) return 2;
  if (pinoLevel >= 50) return 3;
  if (pinoLevel >= 40) return 4;
  if (pinoLevel >= 30) return 6;
  return 7;
}

/**
 * True when `fd` is the stream systemd connected to the journal: JOURNAL_STREAM holds its
 * device and inode (systemd.exec(5)). Comparing them, rather than only testing that the
 * variable is set, keeps the prefixes out of a file or pipe a child of the service writes to.
 */
export function isJournalStream(fd: number, env: NodeJS.ProcessEnv = process.env): boolean {
  const m = /^(\d+):(\d+)$/.exec(env.JOURNAL_STREAM ?? '');
  if (!m) return false;
  try {
    const st = fstatSync(fd, { bigint: true });
    return st.dev === BigInt(m[1]!) && st.ino === BigInt(m[2]!);
  } catch {
    return false;
  }
}

type Format = 'json' | 'journal' | 'pretty';

/** pino sets lastLevel on a destination that asks for metadata, just before each write. */
interface LevelAwareDestination extends DestinationStream {
  [pino.symbols.needsMetadataGsym]: true;
  lastLevel: number;
}

function journalDestination(out: DestinationStream): LevelAwareDestination {
  return {
    [pino.symbols.needsMetadataGsym]: true,
    lastLevel: 30,
    write(line: string) {
      out.write(`<${syslogPriority(this.lastLevel)}>${line}`);
    },
  };
}

function prettyDestination(out: DestinationStream, env: NodeJS.ProcessEnv): DestinationStream {
  const pretty = prettyFactory({
    colorize: env.NO_COLOR === undefined,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname',
    singleLine: true,
  });
  return { write: (line: string) => out.write(pretty(withoutEchoes(line))) };
}

/**
 * A readable line need not repeat what its message already says: `skipped dog/a.png: not a PNG`
 * keeps `path` and `reason` for machines (JSON), but on a terminal they would say it twice.
 */
export function withoutEchoes(line: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const msg = typeof o.msg === 'string' ? o.msg : '';
  let dropped = false;
  for (const [k, v] of Object.entries(o)) {
    if (k !== 'msg' && typeof v === 'string' && v.length > 0 && msg.includes(v)) {
      delete o[k];
      dropped = true;
    }
  }
  return dropped ? JSON.stringify(o) + '\n' : line;
}

export interface LoggerOptions {
  level?: string;
  /** Force JSON (true) or readable (false); default: readable only on a terminal. */
  json?: boolean;
  destination?: DestinationStream;
  /** 1 = stdout (daemons: journald keeps it), 2 = stderr (default: stdout stays for results). */
  fd?: 1 | 2;
  /** Where readable lines go instead of the fd's stream (a progress bar's log stream). */
  out?: NodeJS.WritableStream;
  env?: NodeJS.ProcessEnv;
}

function formatFor(fd: 1 | 2, opts: LoggerOptions, env: NodeJS.ProcessEnv): Format {
  if (opts.json !== false && isJournalStream(fd, env)) return 'journal';
  if (opts.json !== undefined) return opts.json ? 'json' : 'pretty';
  if (env.ANIMAL_SYNC_LOG_FORMAT === 'json') return 'json';
  return (fd === 1 ? process.stdout : process.stderr).isTTY ? 'pretty' : 'json';
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const env = opts.env ?? process.env;
  const fd = opts.fd ?? 2;
  const format = opts.destination ? (opts.json === false ? 'pretty' : 'json') : formatFor(fd, opts, env);
  const out = opts.destination ?? (format === 'pretty' && opts.out ? { write: (line: string) => opts.out!.write(line) } : pino.destination({ fd, sync: true }));
  const dest = format === 'journal' ? journalDestination(out) : format === 'pretty' ? prettyDestination(out, env) : out;
  return pino({
    level: opts.level ?? 'info',
    base: { pid: process.pid },
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  }, dest);
}
