// A lock file holding its owner's pid. A lock whose owner is no longer alive (a crash,
// kill -9) is taken over; a live owner is named in the LockedError.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { LockedError } from './errors.ts';

export interface PidLock {
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

/** Lock files this process holds: a file with our own pid that is not here is stale (pid reuse). */
const heldHere = new Set<string>();

/** `heldBy` words the error for a live owner with pid `pid`. */
export function acquirePidLock(file: string, heldBy: (pid: number) => string): PidLock {
  file = path.resolve(file);
  if (heldHere.has(file)) throw new LockedError(heldBy(process.pid));
  mkdirSync(path.dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        heldHere.delete(file);
        process.removeListener('exit', release);
        try {
          if (readFileSync(file, 'utf8').trim() === String(process.pid)) rmSync(file, { force: true });
        } catch {
          // already gone
        }
      };
      heldHere.add(file);
      process.once('exit', release);
      return { file, release };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let owner: number;
      try {
        owner = Number.parseInt(readFileSync(file, 'utf8'), 10);
      } catch {
        continue; // vanished meanwhile: try again
      }
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) throw new LockedError(heldBy(owner));
      rmSync(file, { force: true });
    }
  }
  throw new LockedError(`could not take the lock ${file}; remove it if no animal-sync runs`);
}
