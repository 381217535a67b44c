// The guards of repair: a check that cannot read the whole catalogue repairs nothing; kill -9
// in the middle of a repair loses nothing; two hosts on one bucket and table never repair or
// delete each other's images.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { SyncIndex } from '../../src/sync/index-db.ts';
import { BIN, runCli, waitFor } from '../helpers/cli.ts';
import { itemOf, plantDuplicate, removeAfter, runCheck } from '../helpers/catalogue.ts';
import { startFaultProxy } from '../helpers/fault-proxy.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';
import { assertConverged, setupSync } from '../helpers/sync.ts';

describe('repair guards', () => {
  let stack: TestStack;
  before(async () => { stack = await startTestStack(); });
  after(async () => stack?.stop());

  it('a check while DynamoDB is down repairs nothing and says why', async (t) => {
    const s = await setupSync(stack);
    removeAfter(t, s);
    s.put('dog/a.png');
    s.put('dog/b.png');
    await s.once();
    const item = await itemOf(s, 'dog/a.png');
    await s.stores.objects.delete(item.s3_key);
    const proxy = await startFaultProxy(stack.dynamodbEndpoint);
    t.after(() => proxy.stop());
    await proxy.down();
    const env = { ...s.env, AWS_ENDPOINT_URL_DYNAMODB: proxy.url, ANIMAL_SYNC_MAX_ATTEMPTS: '1' };
    const check = await runCli(['check'], { env });
    assert.equal(check.code, 1);
    assert.match(check.stderr, /cannot read the catalogue of dog/);
    const rowBefore = SyncIndex.open(s.config.stateDir, { readOnly: true });
    const before = rowBefore.get('dog/a.png');
    rowBefore.close();
    const repair = await runCli(['sync', '--once', '--check'], { env, timeoutMs: 60000 });
    assert.equal(repair.code, 1, repair.stdout);
    assert.match(repair.stdout, /check failed: cannot read the catalogue of dog .*; nothing was repaired/);
    const index = SyncIndex.open(s.config.stateDir, { readOnly: true });
    assert.deepEqual(index.get('dog/a.png'), before, 'the index was not touched');
    index.close();
    assert.equal(await s.stores.objects.head(item.s3_key), null, 'and nothing was sent');
    assert.equal((await s.once('--check')).code, 0);
    assert.ok(await s.stores.objects.head(item.s3_key));
  });

  it('kill -9 during a repair, then a rerun: converged, nothing lost, no duplicate', async (t) => {
    const s = await setupSync(stack);
    removeAfter(t, s);
    const files = Array.from({ length: 12 }, (_, i) => `cat/c${i}.png`);
    for (const f of files) s.put(f);
    await s.once();
    const originals = await Promise.all(files.map((f) => itemOf(s, f)));
    await plantDuplicate(s, 'cat/c0.png');
    await plantDuplicate(s, 'cat/c1.png');
    for (const item of originals) await s.stores.objects.delete(item.s3_key);
    const proxy = await startFaultProxy(stack.s3Endpoint);
    t.after(() => proxy.stop());
    let puts = 0;
    let killed = false;
    const child = spawn(BIN, ['sync', '--once', '--check', '--concurrency', '2'], { env: { ...s.env, AWS_ENDPOINT_URL_S3: proxy.url }, stdio: 'ignore' });
    const exited = new Promise<string | null>((resolve) => child.on('exit', (_c, signal) => resolve(signal)));
    proxy.setDecide((req) => {
      if (req.op === 'PutObject' && ++puts === 4) {
        killed = child.kill('SIGKILL');
        return { kind: 'hang' };
      }
      return { kind: 'forward' };
    });
    assert.equal(await exited, 'SIGKILL');
    assert.ok(killed, 'killed in the middle of the repair');
    const rerun = await s.once('--check', '--json');
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.equal((await runCheck(s)).code, 0);
    await assertConverged(s, { animals: ['cat'] });
  });

  it('two hosts share one bucket and table: neither repairs nor deletes the other\'s images', async (t) => {
    const a = await setupSync(stack);
    const b = await setupSync(stack, { bucket: a.config.bucket, table: a.config.table, hostId: 'host-b' });
    removeAfter(t, a);
    removeAfter(t, b);
    for (const f of ['dog/a.png', 'dog/b.png']) {
      a.put(f);
      b.put(f);
    }
    assert.equal((await a.once()).code, 0);
    assert.equal((await b.once()).code, 0);
    const aItems = (await a.items(['dog'])).filter((i) => i.source_host === a.config.hostId);
    assert.equal(aItems.length, 2);
    const aCheck = await runCheck(a);
    assert.equal(aCheck.code, 0, aCheck.stdout);
    assert.equal(aCheck.json.counts.foreignItems, 2, 'b\'s items: counted, not judged');
    // Drift on a's side; b's repair must leave it for a.
    await a.stores.objects.delete(aItems[0]!.s3_key);
    assert.equal((await runCheck(b)).code, 0, 'b does not judge a\'s images');
    assert.equal((await b.once('--check')).code, 0);
    assert.equal(await a.stores.objects.head(aItems[0]!.s3_key), null, 'b did not repair a\'s object');
    // b empties its inbox: only b's items go.
    rmSync(b.file('dog'), { recursive: true });
    assert.equal((await b.once('--check', '--force')).code, 0);
    assert.deepEqual((await b.items(['dog'])).filter((i) => i.source_host === 'host-b'), []);
    assert.deepEqual((await a.items(['dog'])).filter((i) => i.source_host === a.config.hostId).map((i) => i.image_id).sort(), aItems.map((i) => i.image_id).sort());
    const found = await runCheck(a);
    assert.deepEqual(found.json.differences.map((d) => [d.kind, d.path]), [['object-missing', aItems[0]!.source_path]]);
    assert.equal((await a.once('--check')).code, 0);
    await waitFor('a converged', async () => (await runCheck(a)).code === 0);
    await assertConverged(a, { animals: ['dog'] });
  });
});
