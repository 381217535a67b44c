// One daemon per state dir. The lock file holds the owner's pid; a lock whose owner is no
// longer alive (crash, kill -9) is taken over.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { LockedError } from '../errors.ts';

export interface StateLock {
  file: string;
  release(): void;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function acquireStateLock(stateDir: string): StateLock {
  mkdirSync(stateDir, { recursive: true });
  const file = path.join(stateDir, 'lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        try {
          if (readFileSync(file, 'utf8').trim() === String(process.pid)) rmSync(file, { force: true });
        } catch {
          // already gone
        }
      };
      process.once('exit', release);
      return { file, release };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let owner: number;
      try {
        owner = Number.parseInt(readFileSync(file, 'utf8'), 10);
      } catch {
        continue;
      }
      if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) {
        throw new LockedError(`another animal-sync (pid ${owner}) is already running on state dir ${stateDir}; stop it first, or give this one its own --state-dir`);
      }
      // Stale: its owner died without releasing it.
      rmSync(file, { force: true });
    }
  }
  throw new LockedError(`could not take the lock ${file}; remove it if no animal-sync runs`);
}
