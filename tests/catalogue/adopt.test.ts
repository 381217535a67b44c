// Adoption (DESIGN.md invariant 7): an index that was lost, moved or is simply another one
// never makes a second item for a file this host already catalogued.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.ts';
import { countingProxies, itemOf, removeAfter, writesIn } from '../helpers/catalogue.ts';
import { startTestStack, tempDir, type TestStack } from '../helpers/stack.ts';
import { assertConverged, setupSync, type SyncSetup } from '../helpers/sync.ts';

const FILES = ['dog/a.png', 'dog/b.png', 'dog/c.png', 'cat/a.png', 'cat/b.png', 'cat/c.png'];

async function snapshot(s: SyncSetup): Promise<Map<string, { image_id: string; version: number; updated_at: string; s3_key: string }>> {
  const out = new Map<string, { image_id: string; version: number; updated_at: string; s3_key: string }>();
  for (const i of await s.items(['dog', 'cat'])) out.set(i.source_path, { image_id: i.image_id, version: i.version, updated_at: i.updated_at, s3_key: i.s3_key });
  return out;
}

/** FILES synced once, and an empty state dir to lose the index into. */
async function syncedWithSpareStateDir(stack: TestStack, t: { after(fn: () => void): void }): Promise<{ s: SyncSetup; fresh: string; before: Awaited<ReturnType<typeof snapshot>> }> {
  const s = await setupSync(stack);
  const fresh = tempDir('animal-sync-lost-state-');
  removeAfter(t, s, fresh);
  for (const f of FILES) s.put(f);
  assert.equal((await s.once()).code, 0);
  return { s, fresh, before: await snapshot(s) };
}

describe('adoption after a lost or different state dir', () => {
  let stack: TestStack;
  before(async () => { stack = await startTestStack(); });
  after(async () => stack?.stop());

  it('a lost state dir: 0 new items and objects, the same image_ids; a change is a MODIFY (version + 1)', async (t) => {
    const s = await setupSync(stack);
    const fresh = tempDir('animal-sync-lost-state-');
    removeAfter(t, s, fresh);
    for (const f of FILES) s.put(f);
    assert.equal(JSON.parse((await s.once('--json')).stdout).uploaded, FILES.length);
    const before = await snapshot(s);
    const keys = (await s.objectKeys()).sort();
    const proxies = await countingProxies(stack);
    t.after(() => proxies.stop());
    // An empty state dir, as after `rm -rf`, a new machine or a reinstall.
    const res = await runCli(['sync', '--once', '--json', '--state-dir', fresh], { env: { ...s.env, ...proxies.env }, timeoutMs: 120000 });
    assert.equal(res.code, 0, res.stderr);
    const r = JSON.parse(res.stdout);
    assert.equal(r.uploaded + r.updated, 0, res.stdout);
    assert.equal(r.unchanged, FILES.length);
    assert.deepEqual(writesIn(proxies.ops()), {}, 'no PutObject, no item write');
    assert.ok((proxies.ops().Query ?? 0) >= 2, 'one Query per animal at least');
    assert.equal(proxies.ops().Scan, undefined, 'never a Scan');
    assert.equal(proxies.ops().GetItem, undefined, 'no per-file GetItem');
    assert.deepEqual(await snapshot(s), before);
    assert.deepEqual((await s.objectKeys()).sort(), keys);

    s.put('dog/a.png', { seed: 4242 });
    const changed = await runCli(['sync', '--once', '--json', '--state-dir', fresh], { env: s.env, timeoutMs: 120000 });
    assert.equal(JSON.parse(changed.stdout).updated, 1, changed.stdout);
    const a = await itemOf(s, 'dog/a.png');
    assert.equal(a.image_id, before.get('dog/a.png')!.image_id);
    assert.equal(a.s3_key, before.get('dog/a.png')!.s3_key);
    assert.equal(a.version, 2);
    await assertConverged(s, { animals: ['dog', 'cat'] });
  });

  it('a file changed while the index was lost updates its item in place; a missing object is sent again under its key', async (t) => {
    const { s, fresh, before } = await syncedWithSpareStateDir(stack, t);
    s.put('cat/a.png', { seed: 777 });
    await s.stores.objects.delete(before.get('cat/b.png')!.s3_key);
    const res = await runCli(['sync', '--once', '--json', '--state-dir', fresh], { env: s.env, timeoutMs: 120000 });
    assert.equal(res.code, 0, res.stderr);
    const r = JSON.parse(res.stdout);
    assert.equal(r.uploaded, 0);
    assert.equal(r.updated, 2, res.stdout);
    const after = await snapshot(s);
    assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort(), 'still one item per file');
    for (const p of ['cat/a.png', 'cat/b.png']) {
      assert.equal(after.get(p)!.image_id, before.get(p)!.image_id);
      assert.equal(after.get(p)!.version, before.get(p)!.version + 1);
    }
    await assertConverged(s, { animals: ['dog', 'cat'] });
  });

  it('sync --once from two different directories uses one index (the default state dir)', async (t) => {
    const s = await setupSync(stack);
    const home = tempDir('animal-sync-xdg-');
    const cwdA = tempDir('animal-sync-cwd-');
    const cwdB = tempDir('animal-sync-cwd-');
    removeAfter(t, s, home, cwdA, cwdB);
    // The same settings without a stateDir: the default applies.
    const values = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
    delete values.stateDir;
    const configFile = path.join(home, 'config.json');
    writeFileSync(configFile, JSON.stringify(values));
    const env = { ...s.env, ANIMAL_SYNC_CONFIG: configFile, XDG_STATE_HOME: path.join(home, 'state') };
    for (const f of FILES) s.put(f);
    const first = await runCli(['sync', '--once', '--json'], { env, cwd: cwdA, timeoutMs: 120000 });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(JSON.parse(first.stdout).uploaded, FILES.length);
    mkdirSync(path.join(cwdB, 'inbox')); // a ./inbox here must not matter either
    const second = await runCli(['sync', '--once', '--json'], { env, cwd: cwdB, timeoutMs: 120000 });
    const r = JSON.parse(second.stdout);
    assert.equal(r.unchanged, FILES.length, second.stdout);
    assert.equal(r.uploaded + r.updated, 0);
    const status = JSON.parse((await runCli(['status', '--json'], { env, cwd: cwdB })).stdout);
    assert.ok(String(status.index).startsWith(path.join(home, 'state', 'animal-sync') + path.sep), status.index);
    assert.equal(status.counts.synced, FILES.length);
    assert.equal((await s.items(['dog', 'cat'])).length, FILES.length);
  });

  it('sync --once --dry-run with an empty index plans the adoption: adopt, update in place, upload only what is new; writes nothing', async (t) => {
    const { s, fresh, before } = await syncedWithSpareStateDir(stack, t);
    s.put('dog/a.png', { seed: 9090 });
    s.put('dog/new.png');
    const proxies = await countingProxies(stack);
    t.after(() => proxies.stop());
    const res = await runCli(['sync', '--once', '--dry-run', '--json', '--state-dir', fresh], { env: { ...s.env, ...proxies.env }, timeoutMs: 120000 });
    assert.equal(res.code, 0, res.stderr);
    const r = JSON.parse(res.stdout) as { plan: { path: string; action: { kind: string; reason?: string } }[]; adoption: Record<string, unknown> };
    const kinds = Object.fromEntries(r.plan.map((p) => [p.path, p.action.kind]));
    assert.deepEqual(kinds, { 'cat/a.png': 'adopt', 'cat/b.png': 'adopt', 'cat/c.png': 'adopt', 'dog/a.png': 'update', 'dog/b.png': 'adopt', 'dog/c.png': 'adopt', 'dog/new.png': 'upload' });
    assert.match(r.plan.find((p) => p.path === 'dog/a.png')!.action.reason!, new RegExp(before.get('dog/a.png')!.image_id));
    assert.deepEqual(r.adoption, { adopt: 5, update: 1, resend: 0, error: null });
    assert.deepEqual(writesIn(proxies.ops()), {}, 'a dry run writes nothing');
    const status = JSON.parse((await runCli(['status', '--json', '--state-dir', fresh], { env: s.env })).stdout);
    assert.equal(status.counts.synced + status.counts.pending, 0, 'no index row either');
    const text = await runCli(['sync', '--once', '--dry-run', '--state-dir', fresh], { env: s.env, timeoutMs: 120000 });
    assert.match(text.stdout, /^dry run: 2 change\(s\) planned, 5 file\(s\) would be adopted from the catalogue \(nothing sent\), nothing was changed$/m);
    assert.match(text.stdout, /^ {2}adopt {3}dog\/b\.png \(image [0-9a-f-]+, same bytes: nothing is sent\)$/m);
    // The real pass does what the dry run said.
    const real = JSON.parse((await runCli(['sync', '--once', '--json', '--state-dir', fresh], { env: s.env, timeoutMs: 120000 })).stdout);
    assert.deepEqual([real.uploaded, real.updated, real.unchanged], [1, 1, 5]);
    await assertConverged(s, { animals: ['dog', 'cat'] });
  });
});
