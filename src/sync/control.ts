// The daemon's control channel: a unix socket in the state dir (mode 0600), so that
// `sync --once` and `status` reach the daemon that holds the state dir's lock. A socket, not
// the health endpoint: it is found from the state dir alone (the health address is optional
// and off by default), only the state dir's owner can connect (file permissions; the health
// port is unauthenticated TCP, maybe on 0.0.0.0, and must not start passes for anyone who
// can reach it), and it needs no port. One JSON line in, one JSON line out.
import { rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';

export const CONTROL_SOCKET = 'control.sock';

export type ControlRequest = { op: 'pass'; check: boolean; force: boolean; dryRun: boolean; deep?: boolean } | { op: 'status' };

type Reply = { ok: true; value: unknown } | { ok: false; error: string };

export interface ControlServer {
  path: string;
  /** Stops taking requests at once; an answer still being prepared is sent when ready. */
  close(): void;
}

export function controlSocketPath(stateDir: string): string {
  return path.join(stateDir, CONTROL_SOCKET);
}

/** Listens on the state dir's socket; only the holder of the state dir lock calls this (a leftover socket is stale). */
export async function startControlServer(stateDir: string, handle: (req: ControlRequest) => Promise<unknown>, log: Logger): Promise<ControlServer> {
  const file = controlSocketPath(stateDir);
  rmSync(file, { force: true });
  const server = net.createServer((socket) => {
    let buf = '';
    socket.setEncoding('utf8');
    socket.on('error', () => undefined); // the client went away: nothing to tell it
    socket.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      socket.removeAllListeners('data');
      void (async () => {
        let reply: Reply;
        try {
          reply = { ok: true, value: await handle(JSON.parse(buf.slice(0, nl)) as ControlRequest) };
        } catch (err) {
          reply = { ok: false, error: errorMessage(err) };
        }
        socket.end(JSON.stringify(reply) + '\n');
      })();
    });
  });
  // Created 0600 from the start: no moment in which another user could connect.
  const umask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(file, () => resolve());
    });
  } finally {
    process.umask(umask);
  }
  log.debug({ socket: file }, 'control socket listening');
  return {
    path: file,
    close() {
      server.close();
      rmSync(file, { force: true });
    },
  };
}

/** The daemon's answer, or null when no daemon listens on this state dir. */
export function askDaemon(stateDir: string, req: ControlRequest, opts: { timeoutMs?: number } = {}): Promise<unknown> {
  const file = controlSocketPath(stateDir);
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(file);
    let buf = '';
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs) timer = setTimeout(() => socket.destroy(new Error(`the daemon did not answer on ${file} within ${opts.timeoutMs} ms`)), opts.timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(JSON.stringify(req) + '\n'));
    socket.on('data', (chunk: string) => (buf += chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') resolve(null);
      else reject(err);
    });
    socket.on('end', () => {
      clearTimeout(timer);
      let reply: Reply;
      try {
        reply = JSON.parse(buf) as Reply;
      } catch {
        reject(new Error(`the daemon closed ${file} without an answer (did it stop?)`));
        return;
      }
      if (reply.ok) resolve(reply.value);
      else reject(new Error(`the daemon refused: ${reply.error}`));
    });
  });
}
