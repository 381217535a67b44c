// The checkpoint file: survives a reload, is replaced atomically, refuses to start over silently.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { CheckpointFileError, CheckpointStore } from '../../src/stream/checkpoints.ts';
import { acquireRunnerLock } from '../../src/stream/lock.ts';
import { LockedError } from '../../src/errors.ts';
import { tempDir } from '../helpers/stack.ts';

const dir = tempDir('animal-sync-checkpoints-');
after(() => rmSync(dir, { recursive: true, force: true }));

describe('CheckpointStore', () => {
  it('keeps per-shard positions across a reload and leaves no temp file behind', async () => {
    const file = path.join(dir, 'a', 'stream', 'checkpoints.json');
    const store = await CheckpointStore.open(file);
    assert.equal(store.hasStream('arn:1'), false);
    store.addStream('arn:1', 'T', 'TRIM_HORIZON', {});
    store.advance('arn:1', 'shard-a', '000000000000000000003');
    store.advance('arn:1', 'shard-b', '000000000000000000009');
    store.finish('arn:1', 'shard-b');
    await Promise.all([store.save(), store.save()]);
    assert.deepEqual(readdirSync(path.dirname(file)), ['checkpoints.json']);

    const again = await CheckpointStore.open(file);
    assert.equal(again.hasStream('arn:1'), true);
    assert.equal(again.get('arn:1', 'shard-a')?.sequenceNumber, '000000000000000000003');
    assert.equal(again.isFinished('arn:1', 'shard-a'), false);
    assert.equal(again.isFinished('arn:1', 'shard-b'), true);
    assert.equal(again.get('arn:1', 'shard-b')?.sequenceNumber, '000000000000000000009');
  });

  it('refuses a corrupt file instead of reading the stream again from the start', async () => {
    const file = path.join(dir, 'corrupt.json');
    writeFileSync(file, '{"version":1,"streams":');
    await assert.rejects(CheckpointStore.open(file), (err: Error) => err instanceof CheckpointFileError && /delete it/.test(err.message));
    assert.equal(readFileSync(file, 'utf8'), '{"version":1,"streams":');
  });
});

describe('acquireRunnerLock', () => {
  it('lets one runner hold a state dir and takes over a lock whose process is gone', () => {
    const file = path.join(dir, 'runner.lock');
    const lock = acquireRunnerLock(file);
    assert.throws(() => acquireRunnerLock(file), LockedError);
    lock.release();
    writeFileSync(file, '999999999\n');
    acquireRunnerLock(file).release();
  });
});
