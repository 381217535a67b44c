// The state dir (index, lock) on a tiny tmpfs that fills up while files keep arriving: the
// daemon says clearly what is wrong, keeps running, never corrupts its index (PRAGMA
// integrity_check), and catches up once there is space again.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import { INDEX_FILE } from '../../src/sync/index-db.ts';
import { waitFor } from '../helpers/cli.ts';
import { assertConvergedAfterFaults, fullReconcile, setupFaultSync, startLambdaLog, waitConverged } from '../helpers/faults.ts';
import { startTestStack, tempDir, type TestStack } from '../helpers/stack.ts';

/** Mounts a tmpfs of `size` at a new folder; returns it, or why that is not possible here. */
function mountTinyTmpfs(size: string): { dir: string } | { problem: string } {
  const dir = tempDir('animal-sync-tmpfs-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return { dir };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    return { problem: `cannot mount a ${size} tmpfs here (${stderr || (err as Error).message}); no way to produce a real ENOSPC for the state dir` };
  }
}

/** Writes a file until the file system is full; returns how many bytes went in. */
function fillUp(file: string): number {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  let written = 0;
  try {
    for (let size = chunk.length; size >= 512; ) {
      try {
        written += writeSync(fd, chunk, 0, size);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
        size = Math.floor(size / 2);
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

function integrityCheck(stateDir: string): string {
  const db = new DatabaseSync(path.join(stateDir, INDEX_FILE), { readOnly: true });
  try {
    return (db.prepare('PRAGMA integrity_check').all() as { integrity_check: string }[]).map((r) => r.integrity_check).join('; ');
  } finally {
    db.close();
  }
}

describe('state dir on a file system that fills up', () => {
  let stack: TestStack;
  let mounted: string | undefined;
  before(async () => { stack = await startTestStack(); });
  after(async () => {
    if (mounted) {
      execFileSync('umount', ['-l', mounted]);
      rmSync(mounted, { recursive: true, force: true });
    }
    await stack?.stop();
  });

  // Regression: a pass that failed as a whole (recording a file's failure hit ENOSPC too) was
  // never retried, and a later failed pass cancelled an earlier pass's retry: without the
  // periodic scan (600 s here) the files written while the disk was full never came across.
  it('ENOSPC on the index: a clear error, the daemon keeps running, the index stays intact, and it catches up once space is back', async (t) => {
    const mount = mountTinyTmpfs('2m');
    if ('problem' in mount) {
      t.skip(mount.problem);
      return;
    }
    mounted = mount.dir;
    const stateDir = path.join(mount.dir, 'state');
    mkdirSync(stateDir);
    // No periodic scan during the test: recovery must come from the daemon's own retries.
    const s = await setupFaultSync(stack, { stateDir, scanIntervalSec: '600', retryBaseMs: '200' });
    const lambda = await startLambdaLog(s);
    const d = s.daemon();
    const filler = path.join(mount.dir, 'filler');
    try {
      await d.waitForLog(/watching/);
      for (let i = 0; i < 8; i++) s.put(`cat/before-${i}.png`);
      await waitConverged(s, { animals: ['cat'] });

      const filled = fillUp(filler);
      const linesBefore = d.lines().length;
      for (let i = 0; i < 40; i++) s.put(`cat/during-${i}.png`);
      for (let i = 0; i < 3; i++) s.put(`cat/before-${i}.png`, { seed: 5000 + i });
      for (let i = 3; i < 5; i++) rmSync(s.file(`cat/before-${i}.png`));
      const errorsNow = (): Record<string, unknown>[] => d.lines().slice(linesBefore).filter((l) => l.level === 'error' || l.level === 'fatal');
      await waitFor('an error about the full disk', () => errorsNow().some((l) => /disk is full|ENOSPC|no space/i.test(String(l.msg))), 20000);
      t.diagnostic(`filled ${filled} bytes; first error: ${JSON.stringify(errorsNow()[0])}`);
      assert.equal(d.child.exitCode, null, 'the daemon keeps running');
      assert.equal(integrityCheck(stateDir), 'ok', 'the index is intact while the disk is full');

      rmSync(filler);
      await waitConverged(s, { animals: ['cat'], timeoutMs: 60000 });
      await fullReconcile(d);
      const report = await assertConvergedAfterFaults(s, lambda, { animals: ['cat'] });
      assert.equal(report.items, 46);
      const changed = (await s.items(['cat'])).filter((i) => /before-[012]\./.test(i.source_path));
      assert.deepEqual(changed.map((i) => i.version), [2, 2, 2]);
      assert.equal(await d.stop(), 0);
      assert.equal(integrityCheck(stateDir), 'ok', 'the index is intact after recovery');
      await assertConvergedAfterFaults(s, lambda, { animals: ['cat'], stateDir });
    } finally {
      await d.stop();
      await lambda.stop();
      rmSync(filler, { force: true });
    }
  });
});
