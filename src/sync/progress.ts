// Progress of a one-off pass: a redrawn bar on a terminal, a plain line every few seconds
// otherwise (logs and CI keep readable output).
import { formatBytes } from '../output.ts';

export interface Progress {
  update(e: { done: number; total: number; bytes: number }): void;
  finish(): void;
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr, opts: { intervalMs?: number } = {}): Progress {
  const tty = Boolean(stream.isTTY);
  const interval = opts.intervalMs ?? (tty ? 100 : 5000);
  let last = 0;
  let shown = false;
  let latest = { done: 0, total: 0, bytes: 0 };
  const render = (): void => {
    const { done, total, bytes } = latest;
    if (tty) {
      const width = 30;
      const filled = total === 0 ? width : Math.round((done / total) * width);
      stream.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} files, ${formatBytes(bytes)} sent`);
    } else {
      stream.write(`progress: ${done}/${total} files, ${formatBytes(bytes)} sent\n`);
    }
    shown = true;
  };
  return {
    update(e) {
      latest = e;
      const now = Date.now();
      if (now - last >= interval) {
        last = now;
        render();
      }
    },
    finish() {
      if (tty && shown) {
        render();
        stream.write('\n');
      }
    },
  };
}
