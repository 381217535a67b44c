import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/log.ts';
import { createNotifier, watchdogIntervalFromEnv } from '../../src/service/notify.ts';
import { waitFor } from '../helpers/cli.ts';
import { startFakeNotifySocket, type FakeNotifySocket } from './fake-notify-socket.ts';

/** Datagrams arrive in order: once `marker` is seen, everything sent before it has arrived. */
async function flush(sock: FakeNotifySocket, notifier: ReturnType<typeof createNotifier>, marker: string): Promise<number> {
  await notifier.status(marker);
  await waitFor(`STATUS=${marker}`, () => sock.messages.some((m) => m.fields.STATUS === marker), 10_000, 10);
  return sock.messages.findIndex((m) => m.fields.STATUS === marker);
}

function capturingLogger(): { log: ReturnType<typeof createLogger>; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  return { log: createLogger({ level: 'debug', destination }), lines: () => out.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('sd_notify through systemd-notify', () => {
  let sock: FakeNotifySocket;
  before(async () => {
    sock = await startFakeNotifySocket();
  });
  after(async () => {
    await sock?.stop();
  });

  test('READY=1 arrives exactly once per process, with MAINPID and STATUS, even if ready() is called again', async () => {
    const env = { ...process.env, NOTIFY_SOCKET: sock.path };
    const notifier = createNotifier(env);
    assert.equal(notifier.enabled, true);
    await notifier.ready('watching /srv/inbox');
    await notifier.ready('again');
    await createNotifier(env).ready('from a second notifier');
    await flush(sock, notifier, 'ready-sentinel');
    const ready = sock.with('READY');
    assert.equal(ready.length, 1, `READY=1 datagrams: ${JSON.stringify(sock.messages.map((m) => m.raw))}`);
    assert.equal(ready[0]!.fields.READY, '1');
    assert.equal(ready[0]!.fields.MAINPID, String(process.pid));
    assert.equal(ready[0]!.fields.STATUS, 'watching /srv/inbox');
  });

  test('STATUS= is kept on one line and STOPPING=1 is sent', async () => {
    const notifier = createNotifier({ ...process.env, NOTIFY_SOCKET: sock.path });
    await notifier.status('line one\nline two');
    await notifier.stopping();
    await waitFor('STOPPING=1', () => sock.with('STOPPING').length === 1, 10_000, 10);
    assert.ok(sock.messages.some((m) => m.fields.STATUS === 'line one line two'));
  });

  test('WATCHDOG=1 is pinged every WATCHDOG_USEC/2 while healthy, and withheld while unhealthy', async () => {
    const notifier = createNotifier({ ...process.env, NOTIFY_SOCKET: sock.path, WATCHDOG_USEC: '100000', WATCHDOG_PID: String(process.pid) });
    assert.equal(notifier.watchdogIntervalMs, 50);
    let healthy = true;
    let unhealthyTicks = 0;
    const stop = notifier.startWatchdog(() => {
      if (!healthy) unhealthyTicks++;
      return healthy;
    });
    try {
      await waitFor('3 watchdog pings', () => sock.with('WATCHDOG').length >= 3, 10_000, 10);

      healthy = false;
      // Two unhealthy ticks: a ping started before the switch (a few ms) has landed by now.
      await waitFor('2 unhealthy ticks', () => unhealthyTicks >= 2, 10_000, 10);
      const from = await flush(sock, notifier, 'unhealthy-from');
      await waitFor('6 unhealthy ticks', () => unhealthyTicks >= 6, 10_000, 10);
      const to = await flush(sock, notifier, 'unhealthy-to');
      const pingsWhileUnhealthy = sock.messages.slice(from, to).filter((m) => 'WATCHDOG' in m.fields);
      assert.equal(pingsWhileUnhealthy.length, 0, 'no WATCHDOG=1 while unhealthy');

      healthy = true;
      await waitFor('pings to resume', () => sock.messages.slice(to).filter((m) => 'WATCHDOG' in m.fields).length >= 2, 10_000, 10);
    } finally {
      stop();
    }
  });
});

describe('notifier outside systemd', () => {
  test('without NOTIFY_SOCKET every call is a no-op', async () => {
    const notifier = createNotifier({ PATH: process.env.PATH, WATCHDOG_USEC: '100000' });
    assert.equal(notifier.enabled, false);
    await notifier.ready('x');
    await notifier.status('x');
    await notifier.stopping();
    let called = false;
    const stop = notifier.startWatchdog(() => (called = true));
    stop();
    assert.equal(called, false);
  });

  test('WATCHDOG_USEC is halved and ignored when WATCHDOG_PID names another process', () => {
    assert.equal(watchdogIntervalFromEnv({ WATCHDOG_USEC: '60000000' }), 30_000);
    assert.equal(watchdogIntervalFromEnv({ WATCHDOG_USEC: '60000000', WATCHDOG_PID: String(process.pid + 1) }), null);
    assert.equal(watchdogIntervalFromEnv({}), null);
    assert.equal(watchdogIntervalFromEnv({ WATCHDOG_USEC: 'junk' }), null);
  });

  test('a missing systemd-notify binary is logged once and never throws', async () => {
    const { log, lines } = capturingLogger();
    const notifier = createNotifier({ NOTIFY_SOCKET: '/nonexistent/notify.sock', PATH: '/nonexistent' }, log);
    await notifier.status('a');
    await notifier.status('b');
    const errors = lines().filter((l) => String(l.msg).includes('systemd-notify not found'));
    assert.equal(errors.length, 1);
  });
});
