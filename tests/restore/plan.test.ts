// The pure parts of restore and of foreign items: where each item goes, and how whatever
// DynamoDB returns is read.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isImageItem, isOwnItem, isTimestamp, parseCatalogueItem, type CatalogueItem } from '../../src/model.ts';
import { planRestore } from '../../src/restore/plan.ts';

const item = (over: Partial<CatalogueItem> & { image_id: string }): CatalogueItem => ({
  partition_key: 'ANIMAL#dog', sort_key: `IMG#${over.uploaded_at ?? '2026-01-01T00:00:00.000Z'}#${over.image_id}`,
  animal: 'dog', s3_key: `animals/dog/2026-01-01/${over.image_id}-x.png`, uploaded_at: '2026-01-01T00:00:00.000Z', ...over,
});

describe('planRestore', () => {
  it('uses source_path\'s basename, else filename; the exact source_path keeps a clashing name, the rest get the image_id', () => {
    const older = item({ image_id: 'a1', filename: 'rex.png', uploaded_at: '2025-01-01T00:00:00.000000Z' });
    const mine = item({ image_id: 'b2', source_path: 'dog/rex.png', filename: 'rex.png', uploaded_at: '2026-05-01T00:00:00.000Z' });
    const uploaded = item({ image_id: 'c3', source_path: '/home/me/Pictures/rex.png' });
    const plan = planRestore([older, uploaded, mine]);
    assert.deepEqual(plan.entries.map((e) => [e.item.image_id, e.relPath, e.renamed]), [
      ['b2', 'dog/rex.png', false],
      ['a1', 'dog/rex-a1.png', true],
      ['c3', 'dog/rex-c3.png', true],
    ].sort((x, y) => String(x[1]).localeCompare(String(y[1]))));
  });

  it('without an exact source_path the oldest keeps the name; unsafe names are made safe; unplaceable items are said why', () => {
    const plan = planRestore([
      item({ image_id: 'n2', filename: 'tom.png', uploaded_at: '2026-02-01T00:00:00.000Z' }),
      item({ image_id: 'n1', filename: 'tom.png', uploaded_at: '2026-01-01T00:00:00.000Z' }),
      item({ image_id: 'h1', filename: '.hidden.png' }),
      item({ image_id: 'k1', partition_key: 'ANIMAL#Bad Name', animal: undefined }),
      { partition_key: 'ANIMAL#dog', sort_key: 'IMG#x#nokey', animal: 'dog' },
    ]);
    const paths = Object.fromEntries(plan.entries.map((e) => [e.item.image_id, e.relPath]));
    assert.equal(paths.n1, 'dog/tom.png');
    assert.equal(paths.n2, 'dog/tom-n2.png');
    assert.equal(paths.h1, 'dog/_hidden.png');
    assert.deepEqual(plan.unplaceable.map((u) => u.reason), ['no valid animal name (partition_key ANIMAL#Bad Name)', 'the item names no object (no s3_key)']);
  });

  it('planned one partition at a time: a path an earlier batch took gets the image_id, never a second claim', () => {
    const claimed = new Set<string>();
    const cats = planRestore([item({ image_id: 'c1', partition_key: 'ANIMAL#cat', animal: 'cat', filename: 'tom.png' })], claimed);
    // An item of another tool in the dog partition whose animal attribute says cat.
    const dogs = planRestore([item({ image_id: 'd1', filename: 'tom.png', animal: 'cat' }), item({ image_id: 'd2', filename: 'rex.png' })], claimed);
    assert.deepEqual(cats.entries.map((e) => [e.relPath, e.renamed]), [['cat/tom.png', false]]);
    assert.deepEqual(dogs.entries.map((e) => [e.item.image_id, e.relPath, e.renamed]), [['d1', 'cat/tom-d1.png', true], ['d2', 'dog/rex.png', false]]);
    assert.deepEqual([...claimed].sort(), ['cat/tom-d1.png', 'cat/tom.png', 'dog/rex.png']);
  });
});

describe('parseCatalogueItem', () => {
  it('keeps the keys and each attribute of the expected type, drops the rest, rejects an item without keys', () => {
    const parsed = parseCatalogueItem({ partition_key: 'ANIMAL#dog', sort_key: 'IMG#t#i', size_bytes: 'big', width: Number.NaN, height: 3, sha256: { S: 'x' }, filename: 'a.png', extra: 1 });
    assert.deepEqual(parsed, { partition_key: 'ANIMAL#dog', sort_key: 'IMG#t#i', height: 3, filename: 'a.png' });
    assert.equal(parseCatalogueItem({ sort_key: 'x' }), null);
    assert.equal(parseCatalogueItem('nonsense'), null);
    assert.equal(isImageItem(parsed!), false);
    assert.equal(isOwnItem({ ...parsed!, source_host: 'h' }, 'h'), false, 'an incomplete item is never the daemon\'s own');
  });

  it('timestamps: milliseconds, microseconds, none; not 31 February', () => {
    for (const ok of ['2026-02-19T16:31:30.970Z', '2026-02-19T16:31:30.970876Z', '2026-02-19T16:31:30Z']) assert.ok(isTimestamp(ok), ok);
    for (const bad of ['2026-02-31T16:31:30.970876Z', '2026-02-19 16:31:30Z', '2026-02-19T16:31:30.970876', 'yesterday']) assert.ok(!isTimestamp(bad), bad);
  });
});
