// One runner per checkpoint file: two would hand every record to the handler twice and
// overwrite each other's checkpoints.
import { acquirePidLock, type PidLock } from '../pid-lock.ts';

export function acquireRunnerLock(file: string): PidLock {
  return acquirePidLock(file, (pid) => `another stream runner (pid ${pid}) uses ${file}; stop it first, or give this one another --state-dir`);
}
