// The sync's behaviour, the same on every DynamoDB implementation in tests/helpers/backends.ts:
// new, change, delete and rename through the real CLI; itemWrites auto choosing by what the
// endpoint can do; an explicit transact refused at start where there are no transactions;
// `init` saying what the table really has; and, where there is a stream, the Lambda log.
import assert from 'node:assert/strict';
import { renameSync, rmSync } from 'node:fs';
import { runCli } from '../helpers/cli.ts';
import { describeBackends } from '../helpers/backends.ts';
import { startLambdaLog } from '../helpers/faults.ts';
import { assertConverged, setupSync, type SyncSetup } from '../helpers/sync.ts';
import { OperationRefusedError } from '../../src/stores/refused.ts';
import { buildItem } from '../../src/model.ts';

interface Summary { uploaded: number; updated: number; deleted: number; failed: number }

/** One `sync --once --json`, which must succeed; its summary. */
async function pass(s: SyncSetup, ...args: string[]): Promise<Summary & { stderr: string }> {
  const res = await s.once('--json', ...args);
  assert.equal(res.code, 0, `sync --once failed:\n${res.stdout}\n${res.stderr}`);
  return { ...(JSON.parse(res.stdout) as Summary), stderr: res.stderr };
}

const fallbackLines = (stderr: string): string[] => stderr.split('\n').filter((l) => /has no transactions/.test(l));

describeBackends('the sync', (test, backend) => {
  test('new, change in place, rename and delete: each pass converges, a change keeps its image_id at version 2', {}, async (_t, stack) => {
    const s = await setupSync(stack);
    s.put('dog/rex.png');
    s.put('dog/ace.png');
    s.put('cat/tom.png');
    assert.deepEqual(pick(await pass(s)), { uploaded: 3, updated: 0, deleted: 0, failed: 0 });
    await assertConverged(s);
    const [before] = (await s.items(['dog'])).filter((i) => i.source_path === 'dog/rex.png');

    s.put('dog/rex.png', { seed: 7001 });
    assert.deepEqual(pick(await pass(s)), { uploaded: 0, updated: 1, deleted: 0, failed: 0 });
    const [after] = (await s.items(['dog'])).filter((i) => i.source_path === 'dog/rex.png');
    assert.equal(after!.image_id, before!.image_id);
    assert.equal(after!.version, 2);
    await assertConverged(s);

    renameSync(s.file('cat/tom.png'), s.file('cat/thomas.png'));
    assert.deepEqual(pick(await pass(s)), { uploaded: 1, updated: 0, deleted: 1, failed: 0 });
    assert.deepEqual((await s.items(['cat'])).map((i) => i.source_path), ['cat/thomas.png']);
    await assertConverged(s);

    rmSync(s.file('dog/ace.png'));
    assert.deepEqual(pick(await pass(s)), { uploaded: 0, updated: 0, deleted: 1, failed: 0 });
    await assertConverged(s);
  });

  test(`a default sync --once of 65 files passes; itemWrites auto ${backend.transactions ? 'keeps transactions' : 'falls back to BatchWriteItem with one log line'}`, {}, async (_t, stack) => {
    // Regression (issue 17): against dynalite every file failed with "UnknownError".
    const s = await setupSync(stack, { concurrency: '8' });
    for (let i = 0; i < 65; i++) s.put(`${['dog', 'cat', 'fox'][i % 3]}/p${i}.png`);
    const first = await pass(s);
    assert.deepEqual(pick(first), { uploaded: 65, updated: 0, deleted: 0, failed: 0 });
    assert.equal(fallbackLines(first.stderr).length, backend.transactions ? 0 : 1, first.stderr);
    await assertConverged(s);
  });

  test(`--item-writes transact ${backend.transactions ? 'works' : 'stops at start, naming the setting and the alternative, and writes nothing'}`, {}, async (_t, stack) => {
    const s = await setupSync(stack);
    s.put('owl/hoot.png');
    const res = await s.once('--item-writes', 'transact');
    if (backend.transactions) {
      assert.equal(res.code, 0, res.stderr);
      await assertConverged(s);
      return;
    }
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /itemWrites: transact, but .* has no transactions .*set itemWrites to batch \(--item-writes batch/);
    assert.deepEqual(await s.objectKeys(), [], 'nothing was uploaded');
  });

  test(`a TransactWriteItems the endpoint ${backend.transactions ? 'takes is written' : 'refuses becomes a message naming it and the setting'}`, {}, async (_t, stack) => {
    const config = stack.config({ itemWrites: 'transact' });
    const stores = await stack.stores(config);
    const at = new Date().toISOString();
    const item = buildItem({
      animal: 'dog', imageId: 'refusal-probe', uploadedAt: at, bucket: config.bucket, s3Key: 'animals/dog/x', filename: 'x.png',
      sizeBytes: 1, sha256: '0'.repeat(64), width: 1, height: 1, sourceHost: 'test-host', sourcePath: 'dog/x.png', version: 1, updatedAt: at,
    });
    const write = stores.items.putMany([item]);
    if (backend.transactions) {
      await write;
      assert.equal((await stores.items.get(item))?.image_id, 'refusal-probe');
      return;
    }
    await assert.rejects(write, (err: Error) => {
      assert.ok(err instanceof OperationRefusedError, `${err.name}: ${err.message}`);
      assert.match(err.message, /does not implement TransactWriteItems .*set itemWrites to batch/);
      return true;
    });
    assert.equal(await stores.items.get(item), null);
  });

  test(`init reports the table's stream as it really is (${backend.streams ? 'NEW_AND_OLD_IMAGES' : 'none, and what that means'})`, {}, async (_t, stack) => {
    const config = stack.config();
    const env = stack.childEnv({ ANIMAL_SYNC_BUCKET: stack.bucket, ANIMAL_SYNC_TABLE: config.table, ANIMAL_SYNC_INBOX: config.inbox, ANIMAL_SYNC_STATE_DIR: config.stateDir });
    const res = await runCli(['init'], { env });
    assert.equal(res.code, 0, res.stderr);
    const tableLine = res.stdout.split('\n').find((l) => l.startsWith('table'));
    if (backend.streams) {
      assert.equal(tableLine, `table   ${config.table}: created (ACTIVE, stream NEW_AND_OLD_IMAGES)`);
      assert.doesNotMatch(res.stdout, /no Lambda log/);
    } else {
      assert.equal(tableLine, `table   ${config.table}: created (ACTIVE, no stream)`);
      assert.match(res.stdout, /no Lambda log .* and no live gallery/);
    }
    const again = await runCli(['init', '--json'], { env });
    assert.equal(again.code, 0, again.stderr);
    const table = (JSON.parse(again.stdout) as { table: { status: string; stream: string | null } }).table;
    assert.deepEqual([table.status, table.stream], ['exists', backend.streams ? 'NEW_AND_OLD_IMAGES' : null]);
  });

  test('the Lambda log has one INSERT, MODIFY and REMOVE line per new, changed and deleted file', { needs: ['streams'] }, async (_t, stack) => {
    const s = await setupSync(stack);
    const lambda = await startLambdaLog(s);
    try {
      s.put('bird/tweety.png');
      await pass(s);
      s.put('bird/tweety.png', { seed: 7002 });
      await pass(s);
      rmSync(s.file('bird/tweety.png'));
      await pass(s);
      await lambda.caughtUp();
      const events = lambda.lines().filter((l) => l.filename === 'tweety.png').map((l) => `${l.eventName} v${l.version}`);
      assert.deepEqual(events, ['INSERT v1', 'MODIFY v2', 'REMOVE v2']);
    } finally {
      await lambda.stop();
    }
  });
});

const pick = (s: Summary): Summary => ({ uploaded: s.uploaded, updated: s.updated, deleted: s.deleted, failed: s.failed });
