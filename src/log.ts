// JSON lines for machines (journald, files); a short readable form on a terminal.
import { pino, type Logger, type DestinationStream } from 'pino';
import { Writable } from 'node:stream';

export type { Logger };

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'msg']);

/** Renders one pino JSON line as `HH:MM:SS LEVEL message key=value ...`. */
export function prettyLine(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = typeof o.time === 'number' ? new Date(o.time).toISOString().slice(11, 19) : '';
  const level = LEVEL_NAMES[o.level as number] ?? String(o.level);
  const rest = Object.entries(o)
    .filter(([k]) => !HIDDEN.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? (/\s/.test(v) ? JSON.stringify(v) : v) : JSON.stringify(v)}`)
    .join(' ');
  return `${time} ${level.padEnd(5)} ${String(o.msg ?? '')}${rest ? ' ' + rest : ''}`;
}

function prettyStream(out: NodeJS.WritableStream): DestinationStream {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) out.write(prettyLine(line) + '\n');
      cb();
    },
  });
}

export const REDACT_PATHS = [
  'secretAccessKey', '*.secretAccessKey', 'sessionToken', '*.sessionToken', 'authorization', '*.authorization',
  'headers.authorization', '*.headers.authorization', 'AWS_SECRET_ACCESS_KEY', '*.AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', '*.AWS_SESSION_TOKEN',
];

export interface LoggerOptions {
  level?: string;
  /** Force JSON (true) or readable (false); default: readable only on a terminal. */
  json?: boolean;
  destination?: DestinationStream;
  /** 1 = stdout (daemons: journald keeps it), 2 = stderr (default: stdout stays for results). */
  fd?: 1 | 2;
  /** Where readable lines go instead of the fd's stream (a progress bar's log stream). */
  out?: NodeJS.WritableStream;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const fd = opts.fd ?? 2;
  const stream = fd === 1 ? process.stdout : process.stderr;
  const json = opts.json ?? (process.env.ANIMAL_SYNC_LOG_FORMAT === 'json' || !stream.isTTY);
  const dest = opts.destination ?? (json ? pino.destination({ fd, sync: true }) : prettyStream(opts.out ?? stream));
  return pino({ level: opts.level ?? 'info', base: { pid: process.pid }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, dest);
}
