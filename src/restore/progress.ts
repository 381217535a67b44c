// How far a restore is, on stderr: one line redrawn in place on a terminal, a plain line
// every few seconds otherwise (a log or CI keeps every line readable).
import { formatBytes } from '../output.ts';

export interface RestoreProgress {
  done(count: number, bytes: number): void;
  end(): void;
}

export function restoreProgress(total: number, out: NodeJS.WriteStream = process.stderr): RestoreProgress {
  const redraw = Boolean(out.isTTY);
  const everyMs = redraw ? 100 : 5000;
  const startedAt = Date.now();
  let shownAt = startedAt;
  let state = { count: 0, bytes: 0 };
  const line = (): string => {
    const secs = Math.max(0.001, (Date.now() - startedAt) / 1000);
    return `restore: ${state.count}/${total} files, ${formatBytes(state.bytes)} written, ${(state.count / secs).toFixed(0)} files/s`;
  };
  return {
    done(count, bytes) {
      state = { count, bytes };
      if (Date.now() - shownAt < everyMs) return;
      shownAt = Date.now();
      out.write(redraw ? `\r${line()}\x1b[K` : `${line()}\n`);
    },
    end() {
      if (redraw && state.count > 0) out.write(`\r${line()}\x1b[K\n`);
    },
  };
}
