// The shipped unit under a real systemd (252, booted in a systemd-nspawn container), installed
// by systemd/README.md's steps and syncing to the real local stack on the host: readiness,
// a dropped file, reload, a crash, the watchdog, a stop during uploads, a bad configuration.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import { waitFor } from '../helpers/cli.ts';
import { forward, type Decide, type ProxyEvent } from '../helpers/fault-proxy.ts';
import { ANIMALS, daemonRecords, INBOX, skipReason, startWorld, timestampMs, UNIT, type World } from './fixture.ts';

const skip = skipReason();
const slowPuts = (delayMs: number): Decide => (r) => (r.op === 'PutObject' ? { kind: 'forward', delayMs } : { kind: 'forward' });

describe('animal-sync.service under systemd', { skip }, () => {
  let w: World;
  before(async (t) => {
    w = await startWorld(t);
  });
  after(async () => {
    await w?.stop();
  });
  // Each test restarts the service; the unit's start limit (5 in 300 s) must not end the suite.
  beforeEach(async () => {
    w.s3.setDecide(forward);
    await w.systemctl('reset-failed', UNIT);
  });

  /** PutObject requests the proxy has passed on or is holding, with no answer yet. */
  const puts = (since = 0): ProxyEvent[] => w.s3.events.slice(since).filter((e) => e.op === 'PutObject');
  const openPuts = (since = 0): number => puts(since).filter((e) => e.upstreamStatus === undefined && e.clientClosedAt === undefined).length;

  /** The unit's state once systemd has restarted it with a new main process. */
  const restarted = (oldPid: string): Promise<Record<string, string>> =>
    waitFor('a restart', async () => {
      const st = await w.show('NRestarts', 'MainPID', 'ActiveState', 'SubState');
      return st.ActiveState === 'active' && st.SubState === 'running' && st.MainPID !== oldPid ? st : null;
    }, 60_000, 200);

  test('ExecStart runs the pinned Node 24 of the checkout in /opt/animal-sync', async () => {
    const pid = await w.mainPid();
    assert.equal((await w.c.must(['readlink', `/proc/${pid}/exe`])).trim(), '/opt/animal-sync/node_modules/node/bin/node');
    assert.match(await w.c.must(['/opt/animal-sync/node_modules/node/bin/node', '--version']), /^v24\./);
    assert.match(await w.c.must(['cat', `/proc/${pid}/cmdline`]), /\/opt\/animal-sync\/(dist|src)\/cli\.[jt]s\0sync\0--config\0\/etc\/animal-sync\/config\.json/);
  });

  test('systemctl start returns once READY=1 is sent, and status shows the STATUS= line', async () => {
    assert.equal((await w.systemctl('stop', UNIT)).code, 0);
    const cursor = await w.cursor();
    const start = await w.systemctl('start', UNIT);
    assert.equal(start.code, 0, start.out);
    const st = await w.show('ActiveState', 'SubState', 'StatusText', 'ExecMainStartTimestamp', 'ActiveEnterTimestamp');
    assert.equal(st.ActiveState, 'active');
    assert.equal(st.SubState, 'running');
    assert.equal(st.StatusText, `watching ${INBOX}`);
    // The last thing the daemon does before READY=1 is start the health server. Type=notify
    // makes systemd wait for it: the unit became active only after the daemon logged that
    // line (with Type=simple it would be active at the fork, before Node even ran).
    // (journald may file the daemon's stdout a moment after systemd's own messages: wait for it.)
    const ready = await waitFor('the health server line in the journal', async () => daemonRecords(await w.journal(cursor)).find((r) => r.msg.startsWith('health and metrics on')));
    assert.ok(timestampMs(st.ExecMainStartTimestamp!) < ready.time, 'the line comes from the new process');
    assert.ok(ready.time <= timestampMs(st.ActiveEnterTimestamp!), `active at ${st.ActiveEnterTimestamp}, before the daemon was ready (${new Date(ready.time).toISOString()})`);
    const health = await fetch(`${w.healthUrl}/healthz`);
    assert.ok([200, 503].includes(health.status), `the health server answers as soon as start returned (${health.status})`);
    assert.match((await w.systemctl('status', UNIT, '--no-pager')).out, new RegExp(`Status: "watching ${INBOX}"`));
  });

  test('a file dropped into the inbox inside the container is catalogued in the host\'s stack', async () => {
    await w.drop('dog/first.png');
    await w.waitConverged();
    const [item] = await w.s.items(['dog']);
    assert.equal(item?.source_host, 'cam-01');
    assert.equal(item?.source_path, 'dog/first.png');
  });

  test('systemctl reload (ExecReload=, SIGHUP) runs a full rescan in the same process', async () => {
    const pid = await w.mainPid();
    const cursor = await w.cursor();
    const r = await w.systemctl('reload', UNIT);
    assert.equal(r.code, 0, r.out);
    const pass = await waitFor('a full pass after the reload', async () => daemonRecords(await w.journal(cursor)).find((l) => l.msg === 'full pass done'));
    assert.ok(daemonRecords(await w.journal(cursor)).some((l) => l.msg === 'SIGHUP: full rescan'));
    // A full pass looks at every file of the inbox, not just the ones a watcher reported.
    assert.equal(pass.unchanged, (await w.s.items()).length);
    assert.equal(pass.kind, 'full');
    assert.equal(await w.mainPid(), pid, 'reload does not restart');
  });

  test('kill -9 of the main process: systemd restarts it (NRestarts + 1) and the catalogue converges', async () => {
    w.s3.setDecide(slowPuts(1500));
    const before = await w.show('NRestarts', 'MainPID');
    const cursor = await w.cursor();
    for (let i = 0; i < 6; i++) await w.drop(`owl/crash-${i}.png`);
    await waitFor('an upload in flight', () => openPuts() >= 1, 30_000, 20);
    await w.c.must(['kill', '-9', before.MainPID!]);
    const after = await restarted(before.MainPID!);
    assert.equal(Number(after.NRestarts), Number(before.NRestarts) + 1);
    assert.match(await w.journal(cursor), /Main process exited, code=killed, status=9\/KILL/);
    w.s3.setDecide(forward);
    await w.waitConverged();
  });

  test('watchdog: a frozen daemon (SIGSTOP) gets "Watchdog timeout" and a restart', async (t) => {
    // WatchdogSec=60s would make this test wait over a minute: a runtime drop-in shortens it.
    const dropIn = '/run/systemd/system/animal-sync.service.d/test-watchdog.conf';
    await w.c.must(['sh', '-c', `mkdir -p "$(dirname ${dropIn})" && printf '[Service]\\nWatchdogSec=4s\\n' > ${dropIn} && systemctl daemon-reload && systemctl restart ${UNIT}`]);
    t.after(() => w.c.must(['sh', '-c', `rm -f ${dropIn} && systemctl daemon-reload && systemctl reset-failed ${UNIT}; systemctl restart ${UNIT}`]));
    const before = await w.show('NRestarts', 'MainPID', 'WatchdogUSec');
    assert.equal(before.WatchdogUSec, '4s');
    const cursor = await w.cursor();
    await w.c.must(['kill', '-STOP', before.MainPID!]);
    await waitFor('"Watchdog timeout" in the journal', async () => /Watchdog timeout \(limit 4s\)!/.test(await w.journal(cursor)), 30_000, 200);
    // systemd's SIGABRT is pending on the stopped process; let it be delivered.
    await w.c.run(['kill', '-CONT', before.MainPID!]);
    const after = await restarted(before.MainPID!);
    assert.equal(Number(after.NRestarts), Number(before.NRestarts) + 1);
    assert.match(await w.journal(cursor), /Failed with result 'watchdog'/);
  });

  test('systemctl stop during uploads ends within TimeoutStopSec, half-written nothing, and the next start finishes the rest', async () => {
    // Half of the uploads take 2 s, the other half never get an answer: those outlast the
    // grace time (graceMs 20 s) and are aborted; TimeoutStopSec (30 s) must cover all that.
    let n = 0;
    w.s3.setDecide((r) => (r.op !== 'PutObject' ? { kind: 'forward' } : n++ % 2 === 0 ? { kind: 'forward', delayMs: 2000 } : { kind: 'hang' }));
    const since = w.s3.events.length;
    const files = Array.from({ length: 8 }, (_, i) => `fox/stop-${i}.png`);
    for (const f of files) await w.drop(f);
    // Every file's upload has started, and the hung ones are still open.
    await waitFor('all uploads started', () => puts(since).length >= files.length && openPuts(since) >= files.length / 2, 30_000, 20);
    const cursor = await w.cursor();
    const stop = await w.systemctl('stop', UNIT);
    assert.equal(stop.code, 0, stop.out);
    const st = await w.show('ActiveState', 'Result', 'ExecMainStatus');
    // Result=timeout would mean systemd had to SIGKILL it after TimeoutStopSec.
    assert.deepEqual(st, { ActiveState: 'inactive', Result: 'success', ExecMainStatus: '0' });
    const journal = await w.journal(cursor);
    assert.doesNotMatch(journal, /timed out\. Killing|SIGKILL/);
    const records = daemonRecords(journal);
    assert.ok(records.some((l) => /^grace time over/.test(l.msg)), 'the hung uploads were aborted at the end of the grace time');
    assert.ok(records.some((l) => l.msg === 'stopped'), journal);
    // Nothing half-visible: every item there is has its object, with the item's bytes.
    const items = (await w.s.items(ANIMALS)).filter((i) => files.includes(i.source_path));
    assert.ok(items.length > 0 && items.length < files.length, `some uploads finished, some did not (${items.length} of ${files.length})`);
    for (const item of items) {
      const hash = createHash('sha256');
      for await (const chunk of await w.s.stores.objects.get(item.s3_key)) hash.update(chunk as Buffer);
      assert.equal(hash.digest('hex'), item.sha256, `the object of ${item.source_path} has the item's bytes`);
    }
    w.s3.setDecide(forward);
    assert.equal((await w.systemctl('start', UNIT)).code, 0);
    await w.waitConverged();
  });

  test('a bad configuration exits 2, is not restarted (RestartPreventExitStatus=2), and says why in the journal', async (t) => {
    const file = '/etc/animal-sync/config.json';
    const good = await w.c.must(['cat', file]);
    const bad = JSON.stringify({ ...(JSON.parse(good) as object), concurrency: -3 });
    // Written into the file, keeping its owner and mode, as an editor does.
    await w.c.must(['sh', '-c', `cat > ${file}`], { input: bad });
    t.after(async () => {
      await w.c.must(['sh', '-c', `cat > ${file}`], { input: good });
      await w.recover();
    });
    const before = await w.show('NRestarts');
    const cursor = await w.cursor();
    const r = await w.systemctl('restart', UNIT);
    assert.notEqual(r.code, 0, 'systemctl restart reports the failed start');
    const st = await w.show('ActiveState', 'SubState', 'Result', 'ExecMainStatus', 'NRestarts');
    // "failed" at once, not "auto-restart": systemd decided at the exit not to restart.
    assert.deepEqual({ ...st, NRestarts: Number(st.NRestarts) }, { ActiveState: 'failed', SubState: 'failed', Result: 'exit-code', ExecMainStatus: '2', NRestarts: Number(before.NRestarts) });
    assert.match(await w.journal(cursor), /concurrency: expected an integer between 1 and 256, got -3/);
  });
});
