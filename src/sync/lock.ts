// One daemon (or one `sync --once`) per state dir.
import path from 'node:path';
import { acquirePidLock, type PidLock } from '../pid-lock.ts';

export type StateLock = PidLock;

export function acquireStateLock(stateDir: string): StateLock {
  return acquirePidLock(path.join(stateDir, 'lock'), (pid) =>
    `another animal-sync (pid ${pid}) is already running on state dir ${stateDir}; wait for it to finish (a daemon would have run this pass for you: is its control socket gone?)`);
}
