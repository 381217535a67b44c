// Where the runner writes: the handler's log lines (stdout and an append-only log file, like
// CloudWatch Logs for the deployed Lambda) and the on-failure file (one JSON line per
// discarded batch, like an on-failure destination).
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';

export interface HandlerLog {
  /** Given to the handler: one JSON line per call, without its newline. */
  sink(line: string): void;
  close(): void;
}

/**
 * Lines are written synchronously: a line is in the file before the handler returns, so
 * before its batch is checkpointed. A failing write throws into the handler, which reports
 * the record as failed and so gets it retried.
 */
export function openHandlerLog(file: string, echo: ((line: string) => void) | null): HandlerLog {
  mkdirSync(path.dirname(file), { recursive: true });
  let fd: number | null = openSync(file, 'a');
  return {
    sink(line) {
      if (fd === null) throw new Error(`the handler log ${file} is closed`);
      writeSync(fd, line + '\n');
      echo?.(line);
    },
    close() {
      if (fd !== null) closeSync(fd);
      fd = null;
    },
  };
}

export async function appendJsonLine(file: string, value: unknown): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await appendFile(file, JSON.stringify(value) + '\n', 'utf8');
}
