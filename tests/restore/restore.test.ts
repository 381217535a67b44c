// `animal-sync restore` end to end: the real CLI, the real local stack, real folders.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.ts';
import { putLegacyItem } from '../helpers/legacy-items.ts';
import { makePng } from '../helpers/png.ts';
import { startTestStack, tempDir, type TestStack } from '../helpers/stack.ts';
import { setupSync, type SyncSetup } from '../helpers/sync.ts';
import { treeOf } from './tree.ts';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('restore', () => {
  let stack: TestStack;
  let s: SyncSetup;
  const work = tempDir('animal-sync-restore-');
  const originals: Record<string, string> = {};
  before(async () => {
    stack = await startTestStack();
    s = await setupSync(stack);
    for (const p of ['dog/rex.png', 'dog/fido.png', 'cat/tom.png', 'bird/tweety.png']) originals[p] = sha(s.put(p, { padTo: 5000 }));
    originals['owl/big.png'] = sha(s.put('owl/big.png', { padTo: 3 * 1024 * 1024 }));
    const first = await s.once();
    assert.equal(first.code, 0, first.stderr);
    // Another host with a file of the same path, and an item of the original scripts.
    const otherInbox = path.join(work, 'other-inbox');
    mkdirSync(path.join(otherInbox, 'dog'), { recursive: true });
    writeFileSync(path.join(otherInbox, '.animal-sync-inbox'), '');
    writeFileSync(path.join(otherInbox, 'dog', 'rex.png'), makePng({ seed: 777 }));
    const other = await runCli(['sync', '--once'], { env: { ...s.env, ANIMAL_SYNC_HOST_ID: 'other-host', ANIMAL_SYNC_INBOX: otherInbox, ANIMAL_SYNC_STATE_DIR: path.join(work, 'other-state') } });
    assert.equal(other.code, 0, other.stderr);
    await putLegacyItem({ ...stack, bucket: s.config.bucket, table: s.config.table }, { animal: 'cat', filename: 'legacy.png', body: makePng({ seed: 888 }) });
  });
  after(async () => {
    await stack?.stop();
    rmSync(work, { recursive: true, force: true });
  });
  const restore = (...args: string[]) => runCli(['restore', ...args], { env: s.env, timeoutMs: 120000 });

  it('a round trip, byte for byte: this host\'s images only, laid out as the inbox was', async () => {
    const dir = path.join(work, 'round-trip');
    const res = await restore('--to', dir);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^restored 5, already there 0, conflicts 0, failed 0 /);
    assert.deepEqual(treeOf(dir), originals, 'same paths, same bytes, no temp or lock file left');
  });

  it('a rerun skips what is already there and writes nothing', async () => {
    const dir = path.join(work, 'round-trip');
    const mtime = statSync(path.join(dir, 'dog/rex.png')).mtimeMs;
    const res = await restore('--to', dir);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^restored 0, already there 5, conflicts 0, failed 0 /);
    assert.equal(statSync(path.join(dir, 'dog/rex.png')).mtimeMs, mtime);
  });

  it('a different local file is reported (exit 1) and kept; --overwrite replaces it', async () => {
    const dir = path.join(work, 'round-trip');
    const mine = makePng({ seed: 4242 });
    writeFileSync(path.join(dir, 'cat/tom.png'), mine);
    const res = await restore('--to', dir);
    assert.equal(res.code, 1);
    assert.match(res.stdout, /conflict cat\/tom\.png: a different file is there \(sha256 differs\); left as it is \(--overwrite replaces it\)/);
    assert.equal(sha(readFileSync(path.join(dir, 'cat/tom.png'))), sha(mine));
    const forced = await restore('--to', dir, '--overwrite');
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /replaced 1/);
    assert.deepEqual(treeOf(dir), originals);
  });

  it('--all-hosts adds the other host\'s and the legacy images; a name clash gets the image_id', async () => {
    const dir = path.join(work, 'all-hosts');
    const dry = await restore('--to', dir, '--all-hosts', '--dry-run');
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /dry run: 7 of 7 file\(s\) to restore/);
    assert.ok(!existsSync(dir), 'a dry run writes nothing');
    const res = await restore('--to', dir, '--all-hosts', '--json');
    assert.equal(res.code, 0, res.stderr);
    const summary = JSON.parse(res.stdout) as { restored: number; renamed: number; unverified: number };
    assert.deepEqual([summary.restored, summary.renamed, summary.unverified], [7, 1, 1]);
    const tree = treeOf(dir);
    assert.equal(tree['dog/rex.png'], originals['dog/rex.png'], 'this host\'s file keeps the plain name (its source_path)');
    const clash = Object.keys(tree).filter((p) => /^dog\/rex-[0-9a-f-]{36}\.png$/.test(p));
    assert.equal(clash.length, 1, `the other host's dog/rex.png is beside it: ${Object.keys(tree).join(', ')}`);
    assert.equal(tree[clash[0]!], sha(makePng({ seed: 777 })));
    assert.equal(tree['cat/legacy.png'], sha(makePng({ seed: 888 })));
  });

  it('init --inbox on a restored folder makes it an inbox', async () => {
    const dir = path.join(work, 'round-trip');
    const res = await runCli(['init', '--inbox', dir], { env: s.env });
    assert.equal(res.code, 0, res.stderr);
    assert.ok(existsSync(path.join(dir, '.animal-sync-inbox')));
  });

  it('sync --once on the restored folder with a fresh state dir changes nothing in the catalogue', async () => {
    const dir = path.join(work, 'round-trip');
    const items = await s.items();
    const keys = await s.objectKeys();
    const res = await runCli(['sync', '--once', '--json'], { env: { ...s.env, ANIMAL_SYNC_INBOX: dir, ANIMAL_SYNC_STATE_DIR: path.join(work, 'fresh-state') }, timeoutMs: 120000 });
    assert.equal(res.code, 0, res.stderr);
    const after = await s.items();
    assert.equal(after.length, items.length, 'same item count');
    assert.equal((await s.objectKeys()).length, keys.length, 'same object count');
    const versions = (list: typeof items) => Object.fromEntries(list.map((i) => [i.image_id, i.version]));
    assert.deepEqual(versions(after), versions(items), 'no version bump');
  });
});
