// sd_notify for the daemon: READY=1, STATUS=, STOPPING=1 and WATCHDOG=1 pings.
// Node cannot open a unix datagram socket, so each message goes through the `systemd-notify`
// binary. It runs as a child process, which is why the unit needs NotifyAccess=all; without
// --no-block it waits (sd_notify_barrier) until the manager has read the message, so the
// message is still attributed to the unit after the short-lived child has exited.
import { execFile } from 'node:child_process';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';

export interface Notifier {
  /** False when NOTIFY_SOCKET is unset (not started by systemd with Type=notify): every call is a no-op. */
  readonly enabled: boolean;
  /** Sends READY=1 (with MAINPID=this process) at most once per process. */
  ready(status?: string): Promise<void>;
  status(text: string): Promise<void>;
  stopping(): Promise<void>;
  /** Half of WATCHDOG_USEC in ms, null when systemd set no watchdog for this process. */
  watchdogIntervalMs: number | null;
  /** Pings WATCHDOG=1 every watchdogIntervalMs while isHealthy(); returns the stop function. */
  startWatchdog(isHealthy: () => boolean): () => void;
}

export const NOTIFY_BINARY = 'systemd-notify';
const SEND_TIMEOUT_MS = 10_000;

/** READY=1 is per process, not per Notifier: a second notifier must not repeat it. */
let readySent = false;

/** Half of WATCHDOG_USEC, if the watchdog is meant for this process (WATCHDOG_PID unset or ours). */
export function watchdogIntervalFromEnv(env: NodeJS.ProcessEnv, pid = process.pid): number | null {
  const usec = Number(env.WATCHDOG_USEC);
  if (!env.WATCHDOG_USEC || !Number.isFinite(usec) || usec <= 0) return null;
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return null;
  return Math.max(1, Math.floor(usec / 1000 / 2));
}

/** STATUS= is one line of the datagram: no newlines in it. */
function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').slice(0, 1000);
}

export function createNotifier(env: NodeJS.ProcessEnv = process.env, log?: Logger): Notifier {
  const socket = env.NOTIFY_SOCKET;
  const enabled = Boolean(socket);
  const childEnv: NodeJS.ProcessEnv = { ...env, PATH: env.PATH ?? process.env.PATH };
  let missingBinaryReported = false;

  /** Never throws: a lost notification is logged, it must not take the daemon down. */
  function send(args: string[]): Promise<boolean> {
    if (!enabled) return Promise.resolve(false);
    return new Promise((resolve) => {
      execFile(NOTIFY_BINARY, args, { env: childEnv, timeout: SEND_TIMEOUT_MS }, (err, _stdout, stderr) => {
        if (!err) return resolve(true);
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') {
          if (!missingBinaryReported) log?.error({ socket }, `${NOTIFY_BINARY} not found on PATH: cannot notify systemd (install systemd, or use Type=simple)`);
          missingBinaryReported = true;
        } else {
          log?.warn({ args, err: errorMessage(err), stderr: stderr.trim() }, 'systemd notification failed');
        }
        resolve(false);
      });
    });
  }

  const watchdogIntervalMs = watchdogIntervalFromEnv(env);

  return {
    enabled,
    watchdogIntervalMs,
    async ready(status) {
      if (!enabled || readySent) return;
      readySent = true;
      // MAINPID= names this process even when a wrapper started it.
      await send([`--pid=${process.pid}`, 'READY=1', ...(status ? [`STATUS=${oneLine(status)}`] : [])]);
    },
    async status(text) {
      await send([`STATUS=${oneLine(text)}`]);
    },
    async stopping() {
      await send(['STOPPING=1']);
    },
    startWatchdog(isHealthy) {
      if (!enabled || watchdogIntervalMs === null) return () => {};
      let pinging = false;
      let withheld = false;
      const tick = (): void => {
        let healthy: boolean;
        try {
          healthy = isHealthy();
        } catch {
          healthy = false;
        }
        if (!healthy) {
          // No ping: if this lasts WatchdogSec, systemd restarts the daemon.
          if (!withheld) log?.warn({ watchdogIntervalMs }, 'daemon unhealthy: withholding systemd watchdog pings');
          withheld = true;
          return;
        }
        if (withheld) log?.info('daemon healthy again: resuming systemd watchdog pings');
        withheld = false;
        if (pinging) return;
        pinging = true;
        void send(['WATCHDOG=1']).finally(() => (pinging = false));
      };
      const timer = setInterval(tick, watchdogIntervalMs);
      timer.unref();
      tick();
      return () => clearInterval(timer);
    },
  };
}
