// Temp folders that remove themselves: every folder made here is deleted when the test
// process exits, also after a failed assertion or an uncaught error. A process killed with
// SIGKILL cannot clean up; the global teardown (tests/helpers/global-setup.ts) catches those.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const made = new Set<string>();

function removeAll(): void {
  for (const p of made) {
    try {
      rmSync(p, { recursive: true, force: true });
    } catch {
      // A folder still mounted (tmpfs) or held: the global teardown reports it.
    }
  }
  made.clear();
}

/** Registers a path (folder or file) to be removed when this process exits. */
export function removeOnExit(p: string): string {
  if (made.size === 0) process.once('exit', removeAll);
  made.add(p);
  return p;
}

export function tempDir(prefix = 'animal-sync-test-'): string {
  return removeOnExit(mkdtempSync(path.join(os.tmpdir(), prefix)));
}
