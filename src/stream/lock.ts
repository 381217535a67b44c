// One runner per checkpoint file: two would hand every record to the handler twice and
// overwrite each other's checkpoints. The lock is a file holding the owner's pid; a lock
// whose process is gone (a crash, kill -9) is taken over.
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { LockedError } from '../errors.ts';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function acquireRunnerLock(file: string): { release(): void } {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      let held = true;
      return {
        release() {
          if (held) rmSync(file, { force: true });
          held = false;
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let pid = Number.NaN;
      try {
        pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
      } catch {
        // vanished meanwhile: try again
      }
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
        throw new LockedError(`another stream runner (pid ${pid}) uses ${file}; stop it first, or give this one another --state-dir`);
      }
      rmSync(file, { force: true });
    }
  }
  throw new LockedError(`could not take the stream runner lock ${file}`);
}
