// The reconciler's parts in-process, with the injected clock (`now`), against the real local
// stack: what the clock decides (write-settling, uploaded_at), the delete re-check, and the
// delete guard of a pass.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { markerPath } from '../../src/inbox.ts';
import { createLogger } from '../../src/log.ts';
import { SyncIndex } from '../../src/sync/index-db.ts';
import { lastReconcileOf, Reconciler } from '../../src/sync/reconciler.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';
import { assertConverged, setupSync, type SyncSetup } from '../helpers/sync.ts';

function inProcess(s: SyncSetup, now: () => number): { reconciler: Reconciler; index: SyncIndex; logs: string[] } {
  const logs: string[] = [];
  const destination = new Writable({ write(chunk: Buffer, _e, cb) { logs.push(chunk.toString()); cb(); } });
  const index = SyncIndex.open(s.config.stateDir);
  const log = createLogger({ level: 'info', json: true, destination });
  return { reconciler: new Reconciler({ config: s.config, index, objects: s.stores.objects, items: s.stores.items, log, now }), index, logs };
}

describe('reconciler parts (in-process, injected clock)', () => {
  let stack: TestStack;
  before(async () => { stack = await startTestStack(); });
  after(async () => stack?.stop());

  it('a file the clock calls settled is uploaded at once, even with an hour of stabilityMs; uploaded_at is the clock\'s', async (t) => {
    const s = await setupSync(stack, { stabilityMs: String(3_600_000) });
    const at = Date.parse('2031-05-06T07:08:09.010Z');
    const { reconciler, index } = inProcess(s, () => at);
    t.after(() => index.close());
    s.put('dog/a.png');
    const r = await reconciler.runFullPass();
    assert.equal(r.uploaded, 1, JSON.stringify(r));
    const [item] = await s.items(['dog']);
    assert.equal(item!.uploaded_at, '2031-05-06T07:08:09.010Z');
    assert.match(item!.s3_key, /^animals\/dog\/2031-05-06\//);
    await assertConverged(s);
  });

  it('a file that turned unusable keeps its remote copy: skipped, not deleted', async (t) => {
    const s = await setupSync(stack);
    const { reconciler, index, logs } = inProcess(s, () => Date.now() + 60_000);
    t.after(() => index.close());
    s.put('cat/a.png');
    assert.equal((await reconciler.runFullPass()).uploaded, 1);
    rmSync(s.file('cat/a.png'));
    mkdirSync(s.file('cat/a.png'));
    const r = await reconciler.reconcile('cat/a.png');
    assert.equal(r.kind, 'skipped');
    const pass = await reconciler.runFullPass();
    assert.equal(pass.deleted, 0);
    assert.deepEqual(pass.heldDeletes, []);
    assert.equal((await s.items(['cat'])).length, 1);
    assert.equal(logs.filter((l) => /skipped cat\/a\.png\/: nested folder/.test(l)).length, 1, 'logged once, not on every pass');
  });

  it('delete() re-checks the file: a file that is back is not deleted', async (t) => {
    const s = await setupSync(stack);
    const { reconciler, index } = inProcess(s, () => Date.now() + 60_000);
    t.after(() => index.close());
    s.put('owl/a.png');
    await reconciler.runFullPass();
    assert.deepEqual(await reconciler.delete('owl/a.png'), { kind: 'unchanged' });
    assert.equal((await s.items(['owl'])).length, 1);
    rmSync(s.file('owl/a.png'));
    assert.deepEqual(await reconciler.delete('owl/a.png'), { kind: 'deleted' });
    assert.equal((await s.items(['owl'])).length, 0);
    assert.equal(index.get('owl/a.png'), undefined);
  });

  it('a pass without the marker holds its deletes, names them, and is not ok', async (t) => {
    const s = await setupSync(stack);
    const { reconciler, index, logs } = inProcess(s, () => Date.now() + 60_000);
    t.after(() => index.close());
    s.put('fox/a.png');
    s.put('fox/b.png');
    await reconciler.runFullPass();
    rmSync(s.file('fox/a.png'));
    rmSync(markerPath(s.config.inbox));
    const r = await reconciler.runFullPass();
    assert.deepEqual(r.heldDeletes, ['fox/a.png']);
    assert.match(r.deleteBlockReason ?? '', /marker is missing/);
    assert.equal(lastReconcileOf(r).ok, false);
    assert.ok(logs.some((l) => /not deleting 1 file/.test(l)));
    assert.equal((await s.items(['fox'])).length, 2);
  });

  it('close() cancels work that has not started', async (t) => {
    const s = await setupSync(stack);
    const { reconciler, index } = inProcess(s, () => Date.now() + 60_000);
    t.after(() => index.close());
    s.put('bird/a.png');
    reconciler.close();
    assert.deepEqual(await reconciler.reconcile('bird/a.png'), { kind: 'cancelled' });
    assert.deepEqual(await s.items(['bird']), []);
  });
});
