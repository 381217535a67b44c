// `upload` of a file inside the inbox, and the items older versions of `upload` wrote for such
// files with an absolute source_path: one item per file, whatever the daemon, `sync --once`,
// `restore` or a lost state dir make of it afterwards (DESIGN.md invariant 7).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildItem, s3KeyFor, type ImageItem } from '../../src/model.ts';
import { sha256File } from '../../src/transfer.ts';
import { runCli, waitFor } from '../helpers/cli.ts';
import { countingProxies, removeAfter, runCheck, writesIn } from '../helpers/catalogue.ts';
import { makePng } from '../helpers/png.ts';
import { startTestStack, tempDir, type TestStack } from '../helpers/stack.ts';
import { assertConverged, setupSync, type SyncSetup } from '../helpers/sync.ts';

async function upload(s: SyncSetup, file: string, animal: string): Promise<{ code: number | null; item: ImageItem; stderr: string }> {
  const res = await runCli(['upload', '--file', file, '--animal', animal, '--json'], { env: s.env, timeoutMs: 60000 });
  assert.equal(res.code, 0, res.stderr);
  return { code: res.code, item: JSON.parse(res.stdout) as ImageItem, stderr: res.stderr };
}

/** `sync --once` through counting proxies: its JSON summary and the write requests it sent. */
async function onceCounted(stack: TestStack, s: SyncSetup, ...args: string[]): Promise<{ r: { uploaded: number; updated: number; unchanged: number }; writes: Record<string, number> }> {
  const proxies = await countingProxies(stack);
  try {
    const res = await runCli(['sync', '--once', '--json', ...args], { env: { ...s.env, ...proxies.env }, timeoutMs: 120000 });
    assert.equal(res.code, 0, res.stderr);
    return { r: JSON.parse(res.stdout) as { uploaded: number; updated: number; unchanged: number }, writes: writesIn(proxies.ops()) };
  } finally {
    await proxies.stop();
  }
}

/** An item as `upload` wrote it before this version: the file's absolute path as source_path. */
async function plantAbsoluteItem(s: SyncSetup, sourcePath: string): Promise<ImageItem> {
  const file = s.file(sourcePath);
  const [animal, filename] = sourcePath.split('/') as [string, string];
  const bytes = readFileSync(file);
  const imageId = randomUUID();
  const uploadedAt = new Date(Date.now() - 60_000).toISOString();
  const key = s3KeyFor(animal, uploadedAt, imageId, filename);
  const sha256 = await sha256File(file);
  await s.stores.objects.put({ key, body: bytes, sha256 });
  const item = buildItem({
    animal, imageId, uploadedAt, bucket: s.config.bucket, s3Key: key, filename, sizeBytes: bytes.length, sha256,
    width: 8, height: 8, sourceHost: s.config.hostId, sourcePath: file, version: 1, updatedAt: uploadedAt,
  });
  await s.stores.items.putNew(item);
  return item;
}

describe('upload from inside the inbox', () => {
  let stack: TestStack;
  before(async () => { stack = await startTestStack(); });
  after(async () => stack?.stop());

  it('records the daemon\'s source_path and a synced row: sync --once then sends nothing (existing and fresh state dir)', async (t) => {
    const s = await setupSync(stack);
    const fresh = tempDir('animal-sync-fresh-state-');
    removeAfter(t, s, fresh);
    s.put('dog/rex.png');
    const { item } = await upload(s, s.file('dog/rex.png'), 'dog');
    assert.equal(item.source_path, 'dog/rex.png');
    assert.equal(item.source_host, s.config.hostId);
    const existing = await onceCounted(stack, s);
    assert.equal(existing.r.uploaded + existing.r.updated, 0, JSON.stringify(existing.r));
    assert.equal(existing.r.unchanged, 1);
    assert.deepEqual(existing.writes, {}, 'no PutObject, no item write');
    const lost = await onceCounted(stack, s, '--state-dir', fresh);
    assert.equal(lost.r.uploaded + lost.r.updated, 0, JSON.stringify(lost.r));
    assert.deepEqual(lost.writes, {}, 'no PutObject, no item write');
    assert.equal((await s.items(['dog'])).length, 1);
    await assertConverged(s, { animals: ['dog'] });
    // A second upload of the same file writes nothing either.
    const again = await upload(s, s.file('dog/rex.png'), 'dog');
    assert.equal(again.item.image_id, item.image_id);
    assert.match(again.stderr, /already catalogued/);
    assert.equal((await s.items(['dog'])).length, 1);
  });

  it('beside a running daemon the daemon catalogues it: one item', async (t) => {
    const s = await setupSync(stack);
    removeAfter(t, s);
    const d = s.daemon();
    t.after(() => d.stop());
    await d.waitForLog(/watching/);
    s.put('dog/rex.png');
    const { item, stderr } = await upload(s, s.file('dog/rex.png'), 'dog');
    assert.equal(item.source_path, 'dog/rex.png');
    assert.match(stderr, /in the inbox of the running daemon: catalogued by it/);
    await waitFor('the daemon idle', async () => JSON.parse((await runCli(['status', '--json'], { env: s.env })).stdout).counts.synced === 1);
    assert.equal((await s.items(['dog'])).length, 1);
    assert.equal(await d.stop(), 0);
    await assertConverged(s, { animals: ['dog'] });
  });

  it('refuses an --animal other than the inbox folder (exit 2, nothing written); a file outside the inbox keeps its absolute path', async (t) => {
    const s = await setupSync(stack);
    const outside = tempDir('animal-sync-outside-');
    removeAfter(t, s, outside);
    s.put('dog/rex.png');
    const wrong = await runCli(['upload', '--file', s.file('dog/rex.png'), '--animal', 'cat'], { env: s.env });
    assert.equal(wrong.code, 2, wrong.stderr);
    assert.match(wrong.stderr, /inbox's dog\/ folder.*--animal dog/);
    assert.equal((await s.items(['dog', 'cat'])).length, 0);
    const file = path.join(outside, 'tom.png');
    writeFileSync(file, makePng({ seed: 991 }));
    const { item } = await upload(s, file, 'cat');
    assert.equal(item.source_path, file);
    const check = await runCheck(s, '--animal', 'cat');
    assert.equal(check.code, 0, check.stdout);
    assert.equal(check.json.counts.foreignItems, 1, 'an upload from outside is counted, not judged');
    assert.equal(check.json.counts.items, 0);
  });

  it('an older upload\'s item with an absolute source_path inside the inbox is adopted as that file, never a second item', async (t) => {
    const s = await setupSync(stack);
    const fresh = tempDir('animal-sync-fresh-state-');
    removeAfter(t, s, fresh);
    s.put('dog/rex.png');
    const old = await plantAbsoluteItem(s, 'dog/rex.png');
    const check = await runCheck(s);
    assert.equal(check.code, 0, check.stdout);
    assert.equal(check.json.counts.items, 1);
    const first = await onceCounted(stack, s);
    assert.deepEqual(first.writes, {}, 'adopted: no PutObject, no item write');
    assert.equal(first.r.unchanged, 1);
    const items = await s.items(['dog']);
    assert.deepEqual(items.map((i) => i.image_id), [old.image_id]);
    // A change in place is a MODIFY of that item, which now carries the daemon's source_path.
    s.put('dog/rex.png', { seed: 5150 });
    const changed = await onceCounted(stack, s);
    assert.equal(changed.r.updated, 1, JSON.stringify(changed.r));
    const [updated] = await s.items(['dog']);
    assert.equal(updated!.image_id, old.image_id);
    assert.equal(updated!.version, 2);
    assert.equal(updated!.source_path, 'dog/rex.png');
    await assertConverged(s, { animals: ['dog'] });
  });

  it('the duplicate an older upload made (absolute + daemon item) is named by check and repaired to one item', async (t) => {
    const s = await setupSync(stack);
    removeAfter(t, s);
    s.put('dog/rex.png');
    const old = await plantAbsoluteItem(s, 'dog/rex.png');
    // What the daemon did before: it did not see the upload's item as the file's, and uploaded again.
    const dupId = randomUUID();
    const uploadedAt = new Date().toISOString();
    const key = s3KeyFor('dog', uploadedAt, dupId, 'rex.png');
    await s.stores.objects.put({ key, body: readFileSync(s.file('dog/rex.png')), sha256: old.sha256 });
    await s.stores.items.putNew(buildItem({
      animal: 'dog', imageId: dupId, uploadedAt, bucket: s.config.bucket, s3Key: key, filename: 'rex.png', sizeBytes: old.size_bytes,
      sha256: old.sha256, width: 8, height: 8, sourceHost: s.config.hostId, sourcePath: 'dog/rex.png', version: 1, updatedAt: uploadedAt,
    }));
    const check = await runCheck(s);
    assert.equal(check.code, 1);
    assert.deepEqual(check.json.byKind, { 'duplicate-items': 1 }, check.stdout);
    const repair = await s.once('--check');
    assert.equal(repair.code, 0, repair.stderr);
    const left = await s.items(['dog']);
    assert.deepEqual(left.map((i) => i.image_id), [old.image_id], 'the oldest stays');
    assert.equal((await runCheck(s)).code, 0, 'the kept item stands for the file');
    assert.deepEqual(await s.objectKeys(), [old.s3_key], 'the extra item\'s object went with it');
  });

  it('restore of such items, then sync with a fresh state dir: nothing duplicated, nothing written', async (t) => {
    const s = await setupSync(stack);
    const fresh = tempDir('animal-sync-fresh-state-');
    removeAfter(t, s, fresh);
    s.put('dog/rex.png');
    s.put('cat/tom.png');
    await upload(s, s.file('dog/rex.png'), 'dog');
    const old = await plantAbsoluteItem(s, 'cat/tom.png');
    const before = (await s.items(['dog', 'cat'])).map((i) => i.image_id).sort();
    assert.equal(before.length, 2);
    // A disk loss: the inbox's pictures and the state dir are gone.
    rmSync(s.file('dog'), { recursive: true });
    rmSync(s.file('cat'), { recursive: true });
    const restored = await runCli(['restore', '--json'], { env: s.env, timeoutMs: 60000 });
    assert.equal(restored.code, 0, restored.stderr);
    assert.equal(await sha256File(s.file('cat/tom.png')), old.sha256);
    const synced = await onceCounted(stack, s, '--state-dir', fresh);
    assert.equal(synced.r.uploaded + synced.r.updated, 0, JSON.stringify(synced.r));
    assert.deepEqual(synced.writes, {});
    assert.deepEqual((await s.items(['dog', 'cat'])).map((i) => i.image_id).sort(), before);
  });
});
