// `animal-sync sync --once`: the reconcile pass, its safety guards and exit codes, against
// the real local stack and real temp folders.
import assert from 'node:assert/strict';
import { rmSync, renameSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { ensureInbox, markerPath } from '../../src/inbox.ts';
import { runCli } from '../helpers/cli.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';
import { assertConverged, setupSync } from '../helpers/sync.ts';

describe('sync --once', () => {
  let stack: TestStack;
  before(async () => { stack = await startTestStack(); });
  after(async () => stack?.stop());

  it('mirrors a new file, a change in place, a rename and a delete', async () => {
    const s = await setupSync(stack);
    const first = s.put('dog/rex.png');
    s.put('cat/tom.png');
    let res = await s.once('--json');
    assert.equal(res.code, 0, res.stderr);
    assert.equal(JSON.parse(res.stdout).uploaded, 2);
    await assertConverged(s);
    const [rex] = (await s.items(['dog']));
    assert.equal(rex!.source_path, 'dog/rex.png');
    assert.equal(rex!.source_host, 'test-host');
    assert.equal(rex!.version, 1);
    assert.equal(rex!.size_bytes, first.length);

    s.put('dog/rex.png', { seed: 999 });
    res = await s.once('--json');
    assert.equal(JSON.parse(res.stdout).updated, 1, res.stdout);
    const [rex2] = await s.items(['dog']);
    assert.equal(rex2!.image_id, rex!.image_id);
    assert.equal(rex2!.s3_key, rex!.s3_key);
    assert.notEqual(rex2!.sha256, rex!.sha256);
    assert.equal(rex2!.version, 2);
    await assertConverged(s);

    renameSync(s.file('cat/tom.png'), s.file('cat/thomas.png'));
    res = await s.once('--json');
    const summary = JSON.parse(res.stdout);
    assert.equal(summary.uploaded, 1);
    assert.equal(summary.deleted, 1);
    assert.deepEqual((await s.items(['cat'])).map((i) => i.source_path), ['cat/thomas.png']);
    await assertConverged(s);

    rmSync(s.file('dog/rex.png'));
    res = await s.once('--json');
    assert.equal(JSON.parse(res.stdout).deleted, 1);
    assert.deepEqual(await s.items(['dog']), []);
    await assertConverged(s);
  });

  it('same bytes with a new mtime is not uploaded again', async () => {
    const s = await setupSync(stack);
    const bytes = s.put('dog/a.png');
    await s.once();
    writeFileSync(s.file('dog/a.png'), bytes);
    const res = await s.once('--json');
    const r = JSON.parse(res.stdout);
    assert.equal(r.uploaded + r.updated, 0);
    assert.equal((await s.items(['dog']))[0]!.version, 1);
  });

  for (const itemWrites of ['transact', 'batch']) {
    it(`a folder of 200 files becomes 200 items (itemWrites ${itemWrites}); a no-change rerun touches nothing`, async () => {
      const s = await setupSync(stack, { itemWrites });
      for (let i = 0; i < 200; i++) s.put(`bird/b${i}.png`);
      const res = await s.once('--json', '--item-writes', itemWrites);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(JSON.parse(res.stdout).uploaded, 200);
      assert.equal((await s.items(['bird'])).length, 200);
      await assertConverged(s);
      const again = JSON.parse((await s.once('--json')).stdout);
      assert.equal(again.unchanged, 200);
      assert.equal(again.uploaded + again.updated + again.deleted, 0);
    });
  }

  it('--dry-run prints the plan and changes nothing', async () => {
    const s = await setupSync(stack);
    s.put('fox/a.png');
    s.put('fox/b.png');
    const res = await s.once('--dry-run');
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /upload\s+fox\/a\.png \(new\)/);
    assert.match(res.stdout, /nothing was changed/);
    assert.deepEqual(await s.objectKeys(), []);
    assert.deepEqual(await s.items(['fox']), []);
  });

  it('a missing marker means zero deletes and a clear error', async () => {
    const s = await setupSync(stack);
    s.put('owl/a.png');
    s.put('owl/b.png');
    await s.once();
    rmSync(s.file('owl/a.png'));
    rmSync(markerPath(s.config.inbox));
    const res = await s.once();
    assert.equal(res.code, 1);
    assert.match(res.stderr, /marker .* missing/);
    assert.match(res.stdout, /1 delete\(s\) not made: the inbox marker is missing/);
    assert.equal((await s.items(['owl'])).length, 2);
    ensureInbox(s.config.inbox);
    const ok = await s.once('--json');
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).deleted, 1);
    await assertConverged(s);
  });

  it('an emptied inbox is not mirrored as a mass delete; --force lets it through', async () => {
    const s = await setupSync(stack);
    for (let i = 0; i < 10; i++) s.put(`mass/m${i}.png`);
    await s.once();
    rmSync(s.file('mass'), { recursive: true });
    const res = await s.once('--json');
    assert.equal(res.code, 1);
    const r = JSON.parse(res.stdout);
    assert.equal(r.deleted, 0);
    assert.equal(r.deletesBlocked, 10);
    assert.match(r.deleteBlockReason, /more than 50% of this host's 10 items/);
    assert.equal((await s.items(['mass'])).length, 10);
    const forced = await s.once('--force', '--json');
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(JSON.parse(forced.stdout).deleted, 10);
    await assertConverged(s, { animals: ['mass'] });
  });

  it('--max-delete caps a pass', async () => {
    const s = await setupSync(stack, { maxDelete: '2' });
    for (let i = 0; i < 4; i++) s.put(`cat/c${i}.png`);
    for (let i = 0; i < 20; i++) s.put(`dog/d${i}.png`);
    await s.once();
    for (let i = 0; i < 3; i++) rmSync(s.file(`cat/c${i}.png`));
    const res = await s.once('--json');
    assert.equal(res.code, 1);
    assert.match(JSON.parse(res.stdout).deleteBlockReason, /3 deletes exceed maxDelete 2/);
    assert.equal((await s.items(['cat'])).length, 4);
  });

  // The pass goes folder by folder (src/sync/folder-pass.ts): the delete found in the first
  // folder still waits for the upload that fails in a later one.
  it('exits 1 when a file failed, and a pass with a failed upload deletes nothing', async () => {
    const s = await setupSync(stack);
    s.put('dog/keep.png');
    s.put('ant/gone.png');
    assert.equal((await s.once()).code, 0);
    rmSync(s.file('ant/gone.png'));
    s.put('dog/new.png');
    // S3 unreachable for this run only (nothing listens on port 9): the upload fails.
    const broken = await runCli(['sync', '--once', '--json', '--max-attempts', '1', '--retry-base-ms', '10'], { env: { ...s.env, AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9' }, timeoutMs: 60000 });
    assert.equal(broken.code, 1, broken.stderr);
    const r = JSON.parse(broken.stdout);
    assert.equal(r.failed, 1);
    assert.equal(r.deleted, 0);
    assert.deepEqual(r.heldDeletes, ['ant/gone.png']);
    assert.match(r.deleteBlockReason, /1 upload\(s\) failed in this pass/);
    assert.deepEqual((await s.items(['ant', 'dog'])).map((i) => i.source_path).sort(), ['ant/gone.png', 'dog/keep.png']);
    const ok = await s.once('--json');
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual([JSON.parse(ok.stdout).uploaded, JSON.parse(ok.stdout).deleted], [1, 1]);
    await assertConverged(s);
  });

  // Issue 9: beside a running daemon, sync --once no longer exits 3; the daemon runs the pass
  // (a non-daemon lock holder still means exit 3: tests/catalogue/daemon.test.ts).
  it('a second instance on the same state dir does not run: the daemon runs its pass', async () => {
    const s = await setupSync(stack);
    const d = s.daemon();
    await d.waitForLog(/watching/);
    const res = await s.once();
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^\(pass run by the running daemon\)$/m);
    assert.equal(await d.stop(), 0);
  });
});
