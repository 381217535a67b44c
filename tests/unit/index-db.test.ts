// The index's small views of many rows: what a full pass and a folder event read of it.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { describe, it } from 'node:test';
import { SyncIndex, type IndexRow } from '../../src/sync/index-db.ts';
import { tempDir } from '../helpers/stack.ts';

function putRow(index: SyncIndex, sourcePath: string, over: Partial<IndexRow> = {}): void {
  const [animal, filename] = sourcePath.split('/') as [string, string];
  index.put({
    source_path: sourcePath, animal, filename, image_id: `id-${sourcePath}`, uploaded_at: 't', s3_key: `k/${sourcePath}`,
    size: 10, mtime_ms: 1000.5, sha256: 'aa', width: 1, height: 1, version: 1, state: 'synced', ...over,
  });
}

describe('SyncIndex views', () => {
  it('scanRows gives state, size, mtime and the last error of every row, by path', (t) => {
    const dir = tempDir();
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const index = SyncIndex.open(dir);
    t.after(() => index.close());
    putRow(index, 'dog/a.png');
    putRow(index, 'cat/b.png', { state: 'uploading', size: null, mtime_ms: null, version: 0 });
    index.recordFailure('cat/b.png', 'throttled');
    const rows = index.scanRows();
    assert.deepEqual([...rows.keys()].sort(), ['cat/b.png', 'dog/a.png']);
    assert.deepEqual(rows.get('dog/a.png'), { state: 'synced', size: 10, mtime_ms: 1000.5, last_error: null });
    assert.deepEqual(rows.get('cat/b.png'), { state: 'uploading', size: null, mtime_ms: null, last_error: 'throttled' });
  });

  it('pathsUnder lists one folder only, not folders whose name starts the same', (t) => {
    const dir = tempDir();
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const index = SyncIndex.open(dir);
    t.after(() => index.close());
    for (const p of ['dog/a.png', 'dog/b.png', 'dogs/c.png', 'do/d.png', 'dog0/e.png', 'cat/f.png']) putRow(index, p);
    assert.deepEqual(index.pathsUnder('dog').sort(), ['dog/a.png', 'dog/b.png']);
    assert.deepEqual(index.pathsUnder('bird'), []);
  });

  it('scanRows of one folder reads that folder only, and folders() names each folder of the rows once, in path order', (t) => {
    const dir = tempDir();
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const index = SyncIndex.open(dir);
    t.after(() => index.close());
    for (const p of ['dog/a.png', 'dog/b.png', 'dogs/c.png', 'dog-2/d.png', 'dog0/e.png', 'cat/f.png', 'émeu/g.png']) putRow(index, p);
    assert.deepEqual([...index.scanRows('dog').keys()].sort(), ['dog/a.png', 'dog/b.png']);
    assert.deepEqual(index.scanRows('bird').size, 0);
    assert.deepEqual(index.folders(), ['cat', 'dog-2', 'dog', 'dog0', 'dogs', 'émeu']);
    index.remove('cat/f.png');
    assert.deepEqual(index.folders(), ['dog-2', 'dog', 'dog0', 'dogs', 'émeu']);
  });
});

describe('SyncIndex.putSoon (the upload journal)', () => {
  const row = (sourcePath: string, over: Partial<IndexRow> = {}): Omit<IndexRow, 'updated_at' | 'attempts' | 'last_error' | 'last_error_at'> => {
    const [animal, filename] = sourcePath.split('/') as [string, string];
    return { source_path: sourcePath, animal, filename, image_id: `id-${sourcePath}`, uploaded_at: 't', s3_key: `k/${sourcePath}`, size: null, mtime_ms: null, sha256: null, width: null, height: null, version: 0, state: 'uploading', ...over };
  };

  it('commits the rows asked for in one turn together, after that turn, and resolves each with its row', async (t) => {
    const dir = tempDir();
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const index = SyncIndex.open(dir);
    t.after(() => index.close());
    const reader = SyncIndex.open(dir, { readOnly: true });
    t.after(() => reader.close());
    const pending = ['dog/a.png', 'dog/b.png', 'cat/c.png'].map((p) => index.putSoon(row(p)));
    // Nothing is written while this turn lasts: the caller may not act on its row yet.
    assert.equal(reader.get('dog/a.png'), undefined);
    const written = await Promise.all(pending);
    assert.deepEqual(written.map((r) => r.source_path), ['dog/a.png', 'dog/b.png', 'cat/c.png']);
    assert.ok(written.every((r) => r.state === 'uploading' && typeof r.updated_at === 'string'));
    // Committed: another connection sees every row.
    assert.deepEqual(['dog/a.png', 'dog/b.png', 'cat/c.png'].map((p) => reader.get(p)?.s3_key), ['k/dog/a.png', 'k/dog/b.png', 'k/cat/c.png']);
  });

  it('a row that cannot be written fails only its own caller; the others of its turn are written', async (t) => {
    const dir = tempDir();
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const index = SyncIndex.open(dir);
    t.after(() => index.close());
    const good = index.putSoon(row('dog/a.png'));
    const bad = index.putSoon(row('dog/bad.png', { s3_key: null as unknown as string }));
    const alsoGood = index.putSoon(row('cat/c.png'));
    await assert.rejects(bad, /NOT NULL/);
    assert.equal((await good).source_path, 'dog/a.png');
    assert.equal((await alsoGood).source_path, 'cat/c.png');
    assert.equal(index.get('dog/bad.png'), undefined);
    assert.ok(index.get('dog/a.png') && index.get('cat/c.png'));
  });

  it('close() writes the rows still waiting before it closes', async (t) => {
    const dir = tempDir();
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const index = SyncIndex.open(dir);
    const p = index.putSoon(row('dog/a.png'));
    index.close();
    assert.equal((await p).source_path, 'dog/a.png');
    const again = SyncIndex.open(dir, { readOnly: true });
    t.after(() => again.close());
    assert.equal(again.get('dog/a.png')?.state, 'uploading');
  });
});
