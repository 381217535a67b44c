import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deleteBlockReason, planAction, planHashed, settleDelayMs, unchangedAtScan } from '../../src/sync/planner.ts';

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

describe('planHashed', () => {
  const file = { kind: 'file' as const, size: 10, mtimeMs: 2000 };
  it('decides by content once the bytes are hashed, and never asks for a hash again', () => {
    assert.deepEqual(planHashed(file, 'aa', synced), { kind: 'touch' });
    assert.deepEqual(planHashed(file, 'bb', synced), { kind: 'upload', reason: 'changed' });
    assert.deepEqual(planHashed({ ...file, size: 11 }, 'aa', synced), { kind: 'upload', reason: 'changed' });
  });
  it('keeps the metadata decisions: a journaled delete or upload is resumed whatever the hash', () => {
    assert.deepEqual(planHashed(file, 'aa', { ...synced, state: 'deleting' }), { kind: 'delete', reason: 'resume' });
    assert.deepEqual(planHashed(file, 'aa', { ...synced, state: 'uploading' }), { kind: 'upload', reason: 'resume' });
    assert.deepEqual(planHashed(file, 'aa', undefined), { kind: 'upload', reason: 'new' });
  });
});

describe('settleDelayMs and the scan skip rule', () => {
  it('waits out what is left of the stability window, and nothing once it passed', () => {
    assert.equal(settleDelayMs(1000, 1100, 500), 400);
    assert.equal(settleDelayMs(1000, 1500, 500), 0);
    assert.equal(settleDelayMs(1000, 9000, 500), 0);
  });
  const row = { ...synced, last_error: null };
  it('skips a settled file whose clean row matches by size and mtime', () => {
    assert.equal(unchangedAtScan({ size: 10, mtimeMs: 1000 }, row, 5000, 500), true);
  });
  it('sends a file through the queue when it is fresh, changed, new, or its row failed last time', () => {
    assert.equal(unchangedAtScan({ size: 10, mtimeMs: 1000 }, row, 1200, 500), false);
    assert.equal(unchangedAtScan({ size: 11, mtimeMs: 1000 }, row, 5000, 500), false);
    assert.equal(unchangedAtScan({ size: 10, mtimeMs: 1000 }, undefined, 5000, 500), false);
    assert.equal(unchangedAtScan({ size: 10, mtimeMs: 1000 }, { ...row, last_error: 'throttled' }, 5000, 500), false);
    assert.equal(unchangedAtScan({ size: 10, mtimeMs: 1000 }, { ...row, state: 'uploading' }, 5000, 500), false);
  });
});
