import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deleteBlockReason, planAction } from '../../src/sync/planner.ts';

const synced = { state: 'synced' as const, size: 10, mtime_ms: 1000, sha256: 'aa' };

describe('planAction', () => {
  it('uploads a new file and deletes a removed one', () => {
    assert.deepEqual(planAction({ kind: 'file', size: 10, mtimeMs: 1 }, undefined), { kind: 'upload', reason: 'new' });
    assert.deepEqual(planAction({ kind: 'absent' }, synced), { kind: 'delete', reason: 'removed' });
    assert.deepEqual(planAction({ kind: 'absent' }, undefined), { kind: 'nothing' });
  });

  it('does nothing for the same size and mtime, without asking for a hash', () => {
    assert.deepEqual(planAction({ kind: 'file', size: 10, mtimeMs: 1000 }, synced), { kind: 'nothing' });
  });

  it('asks for a hash when size or mtime moved, then uploads only changed content', () => {
    assert.deepEqual(planAction({ kind: 'file', size: 10, mtimeMs: 2000 }, synced), { kind: 'hash' });
    assert.deepEqual(planAction({ kind: 'file', size: 10, mtimeMs: 2000, sha256: 'aa' }, synced), { kind: 'touch' });
    assert.deepEqual(planAction({ kind: 'file', size: 11, mtimeMs: 2000, sha256: 'bb' }, synced), { kind: 'upload', reason: 'changed' });
  });

  it('resumes journaled intents', () => {
    assert.deepEqual(planAction({ kind: 'file', size: 10, mtimeMs: 1000 }, { ...synced, state: 'uploading' }), { kind: 'upload', reason: 'resume' });
    assert.deepEqual(planAction({ kind: 'file', size: 10, mtimeMs: 1000 }, { ...synced, state: 'deleting' }), { kind: 'delete', reason: 'resume' });
    assert.deepEqual(planAction({ kind: 'absent' }, { ...synced, state: 'uploading' }), { kind: 'delete', reason: 'removed' });
  });

  it('never deletes because a file became unusable', () => {
    assert.deepEqual(planAction({ kind: 'unusable' }, synced), { kind: 'nothing' });
  });
});

describe('deleteBlockReason', () => {
  const base = { deletes: 3, hostItems: 100, maxDelete: 1000, maxDeleteRatio: 50, force: false, markerPresent: true, failedUploads: 0 };
  it('allows ordinary deletes', () => assert.equal(deleteBlockReason(base), null));
  it('blocks without the marker, even with force', () => assert.match(deleteBlockReason({ ...base, markerPresent: false, force: true }) ?? '', /marker is missing/));
  it('blocks after a failed upload', () => assert.match(deleteBlockReason({ ...base, failedUploads: 1 }) ?? '', /upload\(s\) failed/));
  it('blocks more than the ratio of this host\'s items unless forced', () => {
    assert.match(deleteBlockReason({ ...base, deletes: 60 }) ?? '', /more than 50% of this host's 100 items/);
    assert.equal(deleteBlockReason({ ...base, deletes: 60, force: true }), null);
  });
  it('blocks more than maxDelete unless forced', () => {
    assert.match(deleteBlockReason({ ...base, deletes: 11, hostItems: 1000, maxDelete: 10 }) ?? '', /exceed maxDelete 10/);
  });
});
