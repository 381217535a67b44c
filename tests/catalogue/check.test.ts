// `check` and `sync --once --check` (DESIGN.md invariant 8): every kind of drift planted
// directly with the SDK is named by check (exit 1), repaired by sync --once --check, and
// check then exits 0. Items of other hosts and tools are counted and never touched.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { checkCatalogue, NO_ROWS } from '../../src/catalogue/check.ts';
import { DIFFERENCE_KINDS } from '../../src/catalogue/differences.ts';
import type { ImageItem } from '../../src/model.ts';
import { runCli } from '../helpers/cli.ts';
import { ageObject, deleteItem, itemOf, plantBoto3Item, plantDuplicate, removeAfter, runCheck } from '../helpers/catalogue.ts';
import { startTestStack, tempDir, type TestStack } from '../helpers/stack.ts';
import { assertConverged, setupSync } from '../helpers/sync.ts';

const HOUR = 60 * 60 * 1000;

describe('check and repair', () => {
  let stack: TestStack;
  before(async () => { stack = await startTestStack(); });
  after(async () => stack?.stop());

  it('names every kind of drift (exit 1), sync --once --check repairs it, then check exits 0', async (t) => {
    const s = await setupSync(stack);
    removeAfter(t, s);
    for (const f of ['dog/item-missing.png', 'dog/object-missing.png', 'dog/object-differs.png', 'dog/item-differs.png', 'cat/dup.png', 'cat/gone.png', 'cat/fine.png']) s.put(f);
    assert.equal((await s.once()).code, 0);
    const clean = await runCheck(s);
    assert.equal(clean.code, 0, clean.stdout);

    s.put('dog/not-catalogued.png');
    await deleteItem(s, await itemOf(s, 'dog/item-missing.png'));
    await s.stores.objects.delete((await itemOf(s, 'dog/object-missing.png')).s3_key);
    await s.stores.objects.put({ key: (await itemOf(s, 'dog/object-differs.png')).s3_key, body: Buffer.from('overwritten in the console') });
    const wrong = await itemOf(s, 'dog/item-differs.png');
    await s.stores.items.putReplace({ ...wrong, sha256: '0'.repeat(64), version: wrong.version + 1 }, wrong.version);
    const dup = await plantDuplicate(s, 'cat/dup.png');
    const orphanKey = 'animals/cat/2026-01-01/00000000-0000-4000-8000-000000000000-orphan.png';
    await s.stores.objects.put({ key: orphanKey, body: Buffer.from('left by a crash long ago'), metadata: { 'source-host': s.config.hostId } });
    ageObject(stack, s.config.bucket, orphanKey, 2 * HOUR);
    const gone = await itemOf(s, 'cat/gone.png');
    // The file vanished while no sync ran, and so did the index (its row would make it a plain delete).
    rmSync(s.file('cat/gone.png'));
    const boto3 = await plantBoto3Item(s, 'cat');
    const other = { ...(await itemOf(s, 'cat/fine.png')), source_host: 'other-host', image_id: 'b2b2b2b2-0000-4000-8000-000000000000' };
    await s.stores.items.putNew({ ...other, sort_key: `IMG#${other.uploaded_at}#${other.image_id}` });

    const found = await runCheck(s);
    assert.equal(found.code, 1, found.stdout);
    const kinds = new Set(found.json.differences.map((d) => d.kind));
    assert.deepEqual([...kinds].sort(), [...DIFFERENCE_KINDS].sort(), JSON.stringify(found.json.differences, null, 1));
    const at = (kind: string): string[] => found.json.differences.filter((d) => d.kind === kind).map((d) => d.path);
    assert.deepEqual(at('not-catalogued'), ['dog/not-catalogued.png']);
    assert.deepEqual(at('item-missing'), ['dog/item-missing.png']);
    assert.deepEqual(at('object-missing'), ['dog/object-missing.png']);
    assert.deepEqual(at('object-differs'), ['dog/object-differs.png']);
    assert.deepEqual(at('item-differs'), ['dog/item-differs.png']);
    assert.deepEqual(at('duplicate-items'), ['cat/dup.png']);
    assert.deepEqual(at('file-gone'), ['cat/gone.png']);
    assert.ok(at('orphan-object').includes(orphanKey));
    assert.equal(found.json.counts.foreignItems, 2, 'the boto3 item and the other host\'s: counted, not judged');
    const text = await runCli(['check'], { env: s.env });
    assert.equal(text.code, 1);
    assert.match(text.stdout, /^object-missing\s+dog\/object-missing\.png/m);
    assert.match(text.stdout, /2 item\(s\) of other hosts or tools counted, not judged: 8 difference\(s\)/);
    assert.match(text.stderr, /sync --once --check/);

    const repair = await s.once('--check', '--json');
    assert.equal(repair.code, 0, repair.stdout + repair.stderr);
    const after = await runCheck(s);
    assert.equal(after.code, 0, after.stdout);
    assert.deepEqual(after.json.differences, []);
    // The repairs kept identities: the same image_id and key for a re-sent object, the older duplicate.
    const kept = await itemOf(s, 'cat/dup.png');
    assert.notEqual(kept.image_id, dup.image_id, 'the index knew the first item: it stays, the planted one goes');
    assert.equal((await s.stores.objects.head(dup.s3_key)), null);
    assert.equal((await s.stores.objects.head(gone.s3_key)), null);
    assert.equal((await itemOf(s, 'dog/item-missing.png')).version, 2);
    const items = await s.items(['cat']);
    assert.ok(items.some((i) => i.image_id === boto3.image_id), 'the boto3 item is untouched');
    assert.ok(items.some((i) => i.image_id === other.image_id && i.source_host === 'other-host'), 'the other host\'s item is untouched');
    assert.ok(await s.stores.objects.head(String(boto3.s3_key)), 'its object too');
    // Without the planted foreign items, inbox == this host's items == objects, byte for byte.
    await s.stores.objects.delete(String(boto3.s3_key));
    await s.stores.items.delete({ partition_key: String(boto3.partition_key), sort_key: String(boto3.sort_key) });
    await assertConverged(s, { animals: ['dog', 'cat'] });
  });

  it('a young orphan and one without this host\'s name are reported, never removed', async (t) => {
    const s = await setupSync(stack);
    removeAfter(t, s);
    s.put('owl/a.png');
    await s.once();
    const young = 'animals/owl/2026-01-01/11111111-0000-4000-8000-000000000000-young.png';
    const foreign = 'animals/owl/2026-01-01/22222222-0000-4000-8000-000000000000-foreign.png';
    await s.stores.objects.put({ key: young, body: Buffer.from('an upload between its S3 and DynamoDB step'), metadata: { 'source-host': s.config.hostId } });
    await s.stores.objects.put({ key: foreign, body: Buffer.from('another host'), metadata: { 'source-host': 'other-host' } });
    ageObject(stack, s.config.bucket, foreign, 2 * HOUR);
    const res = await s.once('--check', '--json');
    assert.equal(res.code, 0, res.stderr);
    assert.equal(JSON.parse(res.stdout).check.left, 2);
    assert.match(res.stderr, /not repaired: orphan-object .*young.png: younger than an hour/);
    assert.match(res.stderr, /not repaired: orphan-object .*foreign.png: not this host's \(uploaded by other-host\)/);
    assert.ok(await s.stores.objects.head(young));
    assert.ok(await s.stores.objects.head(foreign));
    assert.equal((await runCheck(s)).json.differences.length, 2);
  });

  it('--animal limits the check to one animal; a bad one is a usage error (exit 2)', async (t) => {
    const s = await setupSync(stack);
    removeAfter(t, s);
    s.put('fox/a.png');
    s.put('bird/a.png');
    await s.once();
    await s.stores.objects.delete((await itemOf(s, 'fox/a.png')).s3_key);
    assert.equal((await runCheck(s, '--animal', 'bird')).code, 0);
    const fox = await runCheck(s, '--animal', 'fox');
    assert.equal(fox.code, 1);
    assert.equal(fox.json.counts.animals, 1);
    const bad = await runCli(['check', '--animal', 'Not An Animal'], { env: s.env });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /invalid animal/);
  });

  it('--deep finds an object overwritten with bytes of the same size', async (t) => {
    const s = await setupSync(stack);
    removeAfter(t, s);
    const bytes = s.put('bird/same-size.png');
    await s.once();
    const item = await itemOf(s, 'bird/same-size.png');
    await s.stores.objects.put({ key: item.s3_key, body: Buffer.alloc(bytes.length, 7) });
    assert.equal((await runCheck(s)).code, 0, 'a listing sees only the size');
    const deep = await runCheck(s, '--deep');
    assert.equal(deep.code, 1);
    assert.deepEqual(deep.json.differences.map((d) => d.kind), ['object-differs']);
    assert.equal((await s.once('--check', '--deep')).code, 0);
  });

  it('goes animal by animal: each folder is scanned when its turn comes, not all up front', async (t) => {
    const s = await setupSync(stack);
    removeAfter(t, s);
    s.put('cat/a.png');
    s.put('dog/a.png');
    assert.equal((await s.once()).code, 0);
    const turns: number[] = [];
    const { report } = await checkCatalogue({
      config: s.config, stores: s.stores, rows: NO_ROWS,
      // Dropped after cat's turn began: a whole-inbox scan made before the first read would miss it.
      beforeAnimal: async () => void (turns.push(turns.length) === 1 && s.put('dog/late.png')),
    });
    assert.equal(turns.length, 2, 'once before each animal');
    assert.deepEqual(report.differences.map((d) => `${d.kind} ${d.path}`), ['not-catalogued dog/late.png']);
    assert.deepEqual(report.counts, { files: 3, items: 2, foreignItems: 0, objects: 2, animals: 2 });
  });

  it('an object under one animal\'s prefix that an item of another partition points at is no orphan, and is kept', async (t) => {
    const s = await setupSync(stack);
    removeAfter(t, s);
    s.put('cat/a.png');
    s.put('dog/a.png');
    assert.equal((await s.once()).code, 0);
    // Another tool filed a picture under dog that lives under cat's prefix, tagged and old
    // enough that, taken for an orphan, a repair would delete it.
    const key = 'animals/cat/2026-01-01/33333333-0000-4000-8000-000000000000-shared.png';
    await s.stores.objects.put({ key, body: Buffer.from('filed under dog by another tool'), metadata: { 'source-host': s.config.hostId } });
    ageObject(stack, s.config.bucket, key, 2 * HOUR);
    const imageId = '33333333-0000-4000-8000-000000000000';
    const uploadedAt = '2026-01-01T00:00:00.000Z';
    await s.stores.items.putNew({ partition_key: 'ANIMAL#dog', sort_key: `IMG#${uploadedAt}#${imageId}`, image_id: imageId, animal: 'dog', s3_key: key, filename: 'shared.png', uploaded_at: uploadedAt } as unknown as ImageItem);
    const res = await runCheck(s);
    assert.equal(res.code, 0, res.stdout);
    assert.equal(res.json.counts.foreignItems, 1);
    assert.equal((await s.once('--check')).code, 0);
    assert.ok(await s.stores.objects.head(key), 'the object stays');
  });

  it('an animal folder deleted while the index was lost: check still reads that partition and names its items file-gone', async (t) => {
    const s = await setupSync(stack);
    const fresh = tempDir('animal-sync-lost-state-');
    removeAfter(t, s, fresh);
    for (const f of ['dog/a.png', 'owl/a.png', 'owl/b.png']) s.put(f);
    assert.equal((await s.once()).code, 0);
    rmSync(s.file('owl'), { recursive: true });
    // No local file and no index row names "owl": only the bucket's folders do.
    const res = await runCli(['check', '--json', '--state-dir', fresh], { env: s.env, timeoutMs: 120000 });
    assert.equal(res.code, 1, res.stdout);
    const json = JSON.parse(res.stdout) as { counts: { animals: number }; differences: { kind: string; path: string }[] };
    assert.deepEqual(json.differences.map((d) => `${d.kind} ${d.path}`).sort(), ['file-gone owl/a.png', 'file-gone owl/b.png']);
    assert.equal(json.counts.animals, 2);
  });
});
