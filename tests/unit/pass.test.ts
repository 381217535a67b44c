// The pure parts of a pass: candidate choice and the tally.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IndexRow } from '../../src/sync/index-db.ts';
import type { PathOutcome } from '../../src/sync/outcome.ts';
import { chooseCandidates, tally } from '../../src/sync/pass.ts';
import type { LocalFile } from '../../src/sync/scanner.ts';

const file = (sourcePath: string, size = 10, mtimeMs = 1000): LocalFile => {
  const [animal, filename] = sourcePath.split('/') as [string, string];
  return { sourcePath, animal, filename, absPath: `/inbox/${sourcePath}`, size, mtimeMs };
};
const row = (sourcePath: string, over: Partial<IndexRow> = {}): IndexRow => ({
  source_path: sourcePath, animal: 'dog', filename: 'x.png', image_id: 'id', uploaded_at: 't', s3_key: 'k', size: 10, mtime_ms: 1000,
  sha256: 'aa', width: 1, height: 1, version: 1, state: 'synced', attempts: 0, last_error: null, last_error_at: null, updated_at: 't', ...over,
});

describe('chooseCandidates', () => {
  it('counts settled unchanged files, and sends new, changed, fresh and vanished paths to the pass', () => {
    const scan = { files: [file('dog/same.png'), file('dog/changed.png', 11), file('dog/new.png'), file('dog/fresh.png', 10, 4900)], skipped: [] };
    const rows = new Map([
      ['dog/same.png', row('dog/same.png')], ['dog/changed.png', row('dog/changed.png')],
      ['dog/fresh.png', row('dog/fresh.png', { mtime_ms: 4900 })], ['dog/gone.png', row('dog/gone.png')],
    ]);
    const c = chooseCandidates(scan, rows, 5000, 500);
    assert.equal(c.unchanged, 1);
    assert.deepEqual(c.paths, ['dog/changed.png', 'dog/new.png', 'dog/fresh.png', 'dog/gone.png']);
    assert.deepEqual([...c.seen.keys()], ['dog/changed.png', 'dog/new.png', 'dog/fresh.png']);
  });

  it('lets the clock decide freshness: the same file is settled a moment later', () => {
    const scan = { files: [file('dog/a.png', 10, 4900)], skipped: [] };
    const rows = new Map([['dog/a.png', row('dog/a.png', { mtime_ms: 4900 })]]);
    assert.equal(chooseCandidates(scan, rows, 5000, 500).unchanged, 0);
    assert.equal(chooseCandidates(scan, rows, 5400, 500).unchanged, 1);
  });
});

describe('tally', () => {
  it('counts results, lists failures and the planned changes, and ignores protocol outcomes', () => {
    const outcomes = new Map<string, PathOutcome>([
      ['a', { kind: 'uploaded' }], ['b', { kind: 'uploaded' }], ['c', { kind: 'updated' }], ['d', { kind: 'deleted' }],
      ['e', { kind: 'unchanged' }], ['f', { kind: 'skipped', reason: 'dotfile' }], ['g', { kind: 'failed', error: 'boom', transient: true }],
      ['h', { kind: 'delete-pending' }], ['i', { kind: 'cancelled' }], ['j', { kind: 'nothing' }],
      ['k', { kind: 'planned', action: { kind: 'upload', reason: 'new' } }], ['l', { kind: 'planned', action: { kind: 'nothing' } }],
    ]);
    assert.deepEqual(tally(outcomes), {
      uploaded: 2, updated: 1, deleted: 1, unchanged: 1, skipped: 1, failed: 1,
      failures: [{ path: 'g', error: 'boom' }],
      plan: [{ path: 'k', action: { kind: 'upload', reason: 'new' } }],
    });
  });
});
