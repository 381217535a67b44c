// One daemon per state dir, and the other commands talk to it: `sync --once` asks the running
// daemon for its pass, `status` shows its live state, and the daemon audits by itself.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CONTROL_SOCKET } from '../../src/sync/control.ts';
import { acquireStateLock } from '../../src/sync/lock.ts';
import { runCli, waitFor } from '../helpers/cli.ts';
import { itemOf, removeAfter } from '../helpers/catalogue.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';
import { assertConverged, setupSync } from '../helpers/sync.ts';

describe('the daemon and the other commands', () => {
  let stack: TestStack;
  before(async () => { stack = await startTestStack(); });
  after(async () => stack?.stop());

  it('sync --once [--check] and status beside a running daemon: its pass, its live state, no exit 3, no second item', async (t) => {
    const s = await setupSync(stack);
    removeAfter(t, s);
    s.put('dog/a.png');
    const d = s.daemon();
    t.after(() => d.stop());
    await d.waitForLog(/watching/);
    const socket = path.join(s.config.stateDir, CONTROL_SOCKET);
    assert.equal(statSync(socket).mode & 0o777, 0o600, 'only the owner can reach the daemon');
    s.put('dog/b.png');
    const once = await s.once('--json');
    assert.equal(once.code, 0, once.stderr);
    const r = JSON.parse(once.stdout);
    assert.equal(r.via, 'the running daemon');
    assert.equal(r.failed, 0);
    await waitFor('both files catalogued', async () => (await s.items(['dog'])).length === 2);
    const text = await s.once('--check');
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /\(pass run by the running daemon\)\ncheck: everything matches\nuploaded 0, updated 0/);
    assert.equal((await s.items(['dog'])).length, 2, 'no second item');
    s.put('dog/c.png');
    await waitFor('the watch pass', async () => (await s.items(['dog'])).length === 3);
    const status = JSON.parse((await runCli(['status', '--json'], { env: s.env })).stdout);
    assert.equal(status.live.pid, d.child.pid);
    assert.equal(typeof status.live.queueDepth, 'number');
    assert.equal(typeof status.live.inFlight, 'number');
    assert.ok(['watch', 'full'].includes(status.lastPass.kind), JSON.stringify(status.lastPass));
    await waitFor('a watch pass in status', async () => JSON.parse((await runCli(['status', '--json'], { env: s.env })).stdout).lastPass.kind === 'watch');
    const shown = await runCli(['status'], { env: s.env });
    assert.match(shown.stdout, new RegExp(`daemon\\s+running \\(pid ${d.child.pid}`));
    assert.match(shown.stdout, /queue\s+\d+ queued, \d+ in flight, \d+ dirty/);
    assert.match(shown.stdout, /last pass\s+watch, /);
    assert.equal(await d.stop(), 0);
    await assertConverged(s, { animals: ['dog'] });
  });

  it('a lock held by something that is not a daemon is still exit 3', async (t) => {
    const s = await setupSync(stack);
    removeAfter(t, s);
    const lock = acquireStateLock(s.config.stateDir);
    t.after(() => lock.release());
    const res = await s.once();
    assert.equal(res.code, 3);
    assert.match(res.stderr, /another animal-sync \(pid \d+\) is already running on state dir/);
  });

  it('the daemon repairs a deleted object within its check interval, and says so', async (t) => {
    const s = await setupSync(stack);
    removeAfter(t, s);
    s.put('cat/a.png');
    const d = s.daemon({ env: { ANIMAL_SYNC_CHECK_INTERVAL_SEC: '2' } });
    t.after(() => d.stop());
    await waitFor('the file catalogued', async () => (await s.items(['cat'])).length === 1);
    const item = await itemOf(s, 'cat/a.png');
    await s.stores.objects.delete(item.s3_key);
    await waitFor('the object back', async () => (await s.stores.objects.head(item.s3_key)) !== null, 30000, 200);
    await d.waitForLog(/"found":\{"object-missing":1\}/);
    const repaired = await itemOf(s, 'cat/a.png');
    assert.equal(repaired.image_id, item.image_id);
    const status = JSON.parse((await runCli(['status', '--json'], { env: s.env })).stdout);
    assert.ok(status.lastAudit.ok);
    assert.equal(await d.stop(), 0);
    await assertConverged(s, { animals: ['cat'] });
  });
});
