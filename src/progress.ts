// Progress of a one-off job (`sync --once`, `restore`): on a terminal, a bar (cli-progress) with
// files, MiB, rate and ETA, fitted to the terminal's width, and the log lines printed above it
// through `logStream`, never into it; elsewhere, a plain line every few seconds.
import { Writable } from 'node:stream';
import cliProgress from 'cli-progress';
import { formatBytes } from './output.ts';

export interface ProgressState {
  done: number;
  total: number;
  bytes: number;
}

export interface Progress {
  update(e: ProgressState): void;
  finish(): void;
  /** Where log lines go while the bar is up (it redraws below them); plain stderr otherwise. */
  readonly logStream: NodeJS.WritableStream;
}

export interface ProgressOptions {
  stream?: NodeJS.WriteStream;
  /** What is counted, for the plain lines ("files sent", "files restored"). */
  verb?: string;
  intervalMs?: number;
  now?: () => number;
}

const MIB = 1024 * 1024;

function rates(e: ProgressState, elapsedMs: number): { filesPerSec: number; mibPerSec: number; etaSec: number | null } {
  const s = Math.max(elapsedMs, 1) / 1000;
  const filesPerSec = e.done / s;
  return { filesPerSec, mibPerSec: e.bytes / MIB / s, etaSec: filesPerSec > 0 ? (e.total - e.done) / filesPerSec : null };
}

function formatEta(sec: number | null): string {
  if (sec === null || !Number.isFinite(sec)) return '–';
  if (sec < 90) return `${Math.ceil(sec)} s`;
  if (sec < 5400) return `${Math.round(sec / 60)} min`;
  return `${(sec / 3600).toFixed(1)} h`;
}

/** The text of the plain (non-terminal) line. Pure. */
export function plainLine(e: ProgressState, elapsedMs: number, verb = 'files'): string {
  const r = rates(e, elapsedMs);
  return `progress: ${e.done}/${e.total} ${verb}, ${formatBytes(e.bytes)}, ${r.filesPerSec.toFixed(0)} files/s, ${r.mibPerSec.toFixed(1)} MiB/s, ETA ${formatEta(r.etaSec)}`;
}

export function createProgress(opts: ProgressOptions = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  const now = opts.now ?? Date.now;
  const started = now();
  return stream.isTTY ? terminalProgress(stream, now, started) : plainProgress(stream, opts, now, started);
}

function plainProgress(stream: NodeJS.WriteStream, opts: ProgressOptions, now: () => number, started: number): Progress {
  const interval = opts.intervalMs ?? 5000;
  let last = started;
  return {
    logStream: stream,
    update(e) {
      if (now() - last < interval) return;
      last = now();
      stream.write(plainLine(e, last - started, opts.verb) + '\n');
    },
    finish() {},
  };
}

function terminalProgress(stream: NodeJS.WriteStream, now: () => number, started: number): Progress {
  const suffix = ' {percentage}% | {value}/{total} files | {mib} | {rate} | ETA {etaText}';
  // The bar takes what the text leaves of the terminal's width (the text is at most ~70 columns).
  const barsize = Math.max(10, Math.min(40, (stream.columns || 80) - 72));
  const multi = new cliProgress.MultiBar({
    stream, format: `{bar}${suffix}`, barsize, hideCursor: true, clearOnComplete: false, stopOnComplete: false,
    // linewrap: the terminal wraps long log lines (false would switch its wrapping off); the bar itself is cut to the width.
    gracefulExit: false, linewrap: true, fps: 10, barCompleteChar: '█', barIncompleteChar: '░',
  }, cliProgress.Presets.shades_classic);
  let bar: cliProgress.SingleBar | undefined;
  let partial = '';
  const logStream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      const text = partial + chunk.toString('utf8');
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (bar) multi.log(line + '\n');
        else stream.write(line + '\n');
      }
      cb();
    },
  });
  const payload = (e: ProgressState) => {
    const r = rates(e, now() - started);
    return { mib: formatBytes(e.bytes), rate: `${r.filesPerSec.toFixed(0)} files/s, ${r.mibPerSec.toFixed(1)} MiB/s`, etaText: formatEta(r.etaSec) };
  };
  return {
    logStream,
    update(e) {
      if (!bar) bar = multi.create(e.total, e.done, payload(e));
      bar.setTotal(e.total);
      bar.update(e.done, payload(e));
    },
    finish() {
      if (!bar) return;
      multi.update();
      multi.stop();
      bar = undefined;
    },
  };
}
