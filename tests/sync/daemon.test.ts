// The watching daemon (`animal-sync sync`) as a real process on a real inbox with a real
// chokidar, against the real local stack.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../helpers/cli.ts';
import { makePng } from '../helpers/png.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';
import { assertConverged, setupSync, type SyncSetup } from '../helpers/sync.ts';

async function itemCount(s: SyncSetup, animal: string): Promise<number> {
  return (await s.items([animal])).length;
}

describe('sync daemon', () => {
  let stack: TestStack;
  before(async () => { stack = await startTestStack(); });
  after(async () => stack?.stop());

  it('mirrors adds, changes, renames and deletes while watching, then exits 0 on SIGTERM', async () => {
    const s = await setupSync(stack);
    const d = s.daemon();
    try {
      await d.waitForLog(/watching/);
      s.put('dog/rex.png');
      await waitFor('item for rex', async () => (await itemCount(s, 'dog')) === 1);
      const [v1] = await s.items(['dog']);
      s.put('dog/rex.png', { seed: 4242 });
      const v2 = await waitFor('version 2', async () => (await s.items(['dog'])).find((i) => i.version === 2));
      assert.equal(v2.image_id, v1!.image_id);
      assert.notEqual(v2.sha256, v1!.sha256);
      execFileSync('mv', [s.file('dog/rex.png'), s.file('dog/max.png')]);
      await waitFor('rename mirrored', async () => (await s.items(['dog'])).map((i) => i.source_path).join() === 'dog/max.png');
      rmSync(s.file('dog/max.png'));
      await waitFor('delete mirrored', async () => (await itemCount(s, 'dog')) === 0);
      await assertConverged(s);
    } finally {
      assert.equal(await d.stop('SIGTERM'), 0);
    }
  });

  it('a file written in three slow chunks is uploaded once, with its final bytes', async () => {
    const s = await setupSync(stack, { stabilityMs: '400' });
    const d = s.daemon();
    try {
      await d.waitForLog(/watching/);
      const bytes = makePng({ seed: 77, padTo: 300_000 });
      const file = s.file('slow/big.png');
      mkdirSync(s.file('slow'), { recursive: true });
      const third = Math.floor(bytes.length / 3);
      writeFileSync(file, bytes.subarray(0, third));
      await new Promise((r) => setTimeout(r, 250));
      appendFileSync(file, bytes.subarray(third, 2 * third));
      await new Promise((r) => setTimeout(r, 250));
      appendFileSync(file, bytes.subarray(2 * third));
      const item = await waitFor('item', async () => (await s.items(['slow']))[0]);
      await d.stop();
      assert.equal(item.version, 1, 'uploaded once: no MODIFY after a partial upload');
      assert.equal(item.size_bytes, bytes.length);
      await assertConverged(s);
    } finally {
      await d.stop();
    }
  });

  it('files added and deleted while the daemon was down are mirrored at start-up', async () => {
    const s = await setupSync(stack);
    s.put('cat/a.png');
    s.put('cat/b.png');
    assert.equal((await s.once()).code, 0);
    rmSync(s.file('cat/a.png'));
    s.put('cat/c.png');
    const d = s.daemon();
    try {
      await waitFor('start-up reconcile', async () => (await s.items(['cat'])).map((i) => i.source_path).sort().join() === 'cat/b.png,cat/c.png');
      await assertConverged(s);
    } finally {
      await d.stop();
    }
  });

  it('skips every kind of bad input with one log line each and carries on', async () => {
    const s = await setupSync(stack);
    const d = s.daemon();
    try {
      await d.waitForLog(/watching/);
      mkdirSync(s.file('bad/deeper'), { recursive: true });
      mkdirSync(s.file('Not_Valid'), { recursive: true });
      const good = makePng({ seed: 5 });
      const bad: Record<string, string | Buffer> = {
        'bad/.hidden.png': good,
        'bad/x.png.tmp': good,
        'bad/y.png.part': good,
        'bad/z.png.crdownload': good,
        'bad/w.png~': good,
        'bad/empty.png': '',
        'bad/text.png': 'hello',
        'bad/photo.png': Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 74, 70, 73, 70, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]),
        'bad/cut.png': good.subarray(0, good.length - 20),
        'bad/deeper/nested.png': good,
        'Not_Valid/a.png': good,
        'loose.png': good,
      };
      for (const [p, content] of Object.entries(bad)) writeFileSync(s.file(p), content);
      symlinkSync('/etc/hostname', s.file('bad/link.png'));
      execFileSync('mkfifo', [s.file('bad/pipe.png')]);
      writeFileSync(s.file('bad/locked.png'), good);
      chmodSync(s.file('bad/locked.png'), 0);
      s.put('bad/fine.png');
      // root reads a chmod 000 file, so there it is a good file too.
      const goodCount = process.getuid?.() === 0 ? 2 : 1;
      await waitFor('the good file', async () => (await itemCount(s, 'bad')) === goodCount, 20000);
      // A full pass also sees what the watcher ignores (deeper folders, bad folder names).
      d.child.kill('SIGHUP');
      const expected = ['bad/.hidden.png', 'bad/x.png.tmp', 'bad/y.png.part', 'bad/z.png.crdownload', 'bad/w.png~', 'bad/empty.png', 'bad/text.png', 'bad/photo.png', 'bad/cut.png', 'bad/deeper/', 'Not_Valid/', 'loose.png', 'bad/link.png', 'bad/pipe.png'];
      if (process.getuid?.() !== 0) expected.push('bad/locked.png');
      await waitFor('a skip line for each bad input', () => {
        const skipped = new Set(d.lines().filter((l) => String(l.msg).startsWith('skipped ')).map((l) => l.path));
        return expected.every((p) => skipped.has(p));
      }, 20000);
      const lines = d.lines().filter((l) => String(l.msg).startsWith('skipped '));
      for (const p of expected) {
        assert.equal(lines.filter((l) => l.path === p).length, 1, `exactly one line for ${p}: ${JSON.stringify(lines.filter((l) => l.path === p))}`);
      }
      // Still alive and still syncing.
      s.put('bad/after.png');
      await waitFor('a file after the bad ones', async () => (await itemCount(s, 'bad')) === goodCount + 1);
      assert.equal(d.child.exitCode, null);
    } finally {
      await d.stop();
    }
  });

  it('kill -9 during a burst of uploads, then a restart: everything exactly once, no orphans', async () => {
    const s = await setupSync(stack, { concurrency: '4' });
    const d = s.daemon();
    await d.waitForLog(/watching/);
    for (let i = 0; i < 60; i++) s.put(`burst/f${i}.png`, { padTo: 40_000 });
    await waitFor('some uploads', async () => (await itemCount(s, 'burst')) >= 5, 20000, 20);
    d.child.kill('SIGKILL');
    await d.exited;
    const d2 = s.daemon();
    try {
      await waitFor('all 60', async () => (await itemCount(s, 'burst')) === 60, 30000);
      await d2.stop();
      await assertConverged(s);
    } finally {
      await d2.stop();
    }
  });
});
