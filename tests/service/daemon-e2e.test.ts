// The real daemon (`animal-sync sync` through bin/animal-sync) against the local stack, seen
// the way systemd and an operator see it: NOTIFY_SOCKET datagrams, /healthz, /metrics and
// `animal-sync status`.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync, unlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { SyncStatus } from '../../src/commands/status.ts';
import type { Config } from '../../src/config.ts';
import { ensureInbox, markerPath } from '../../src/inbox.ts';
import { SyncIndex } from '../../src/sync/index-db.ts';
import type { HealthReport } from '../../src/service/health.ts';
import { BIN, runCli, waitFor } from '../helpers/cli.ts';
import { makePng } from '../helpers/png.ts';
import { freePort, startTestStack, type TestStack } from '../helpers/stack.ts';
import { startFakeNotifySocket, type FakeNotifySocket } from './fake-notify-socket.ts';
import { forward, s3Error, startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.ts';
import { sample } from './prom-text.ts';

/** Uploads of objects whose name contains this fail with an S3 InternalError (500). */
const BROKEN = 'broken';

interface Daemon {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

function within<T>(p: Promise<T>, ms: number, why: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(why())), ms)))]).finally(() => clearTimeout(timer));
}

function startDaemon(args: string[], env: NodeJS.ProcessEnv): Daemon {
  const child = spawn(BIN, ['sync', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

describe('daemon under a service manager (end to end)', () => {
  let stack: TestStack;
  let proxy: FaultProxy;
  let sock: FakeNotifySocket;
  let config: Config;
  let daemon: Daemon;
  let healthAddress: string;
  let base: string;

  const scrape = async (): Promise<string> => (await fetch(base + '/metrics')).text();
  const healthz = async (): Promise<{ status: number; body: HealthReport }> => {
    const res = await fetch(base + '/healthz');
    return { status: res.status, body: (await res.json()) as HealthReport };
  };
  const put = (sourcePath: string, seed: number): number => {
    const bytes = makePng({ seed });
    mkdirSync(path.dirname(path.join(config.inbox, sourcePath)), { recursive: true });
    writeFileSync(path.join(config.inbox, sourcePath), bytes);
    return bytes.length;
  };

  before(async () => {
    stack = await startTestStack();
    // Every PUT of the broken file's object fails with a real S3 error; the rest goes through.
    proxy = await startFaultProxy(stack.env.AWS_ENDPOINT_URL_S3!, {
      decide: (req) => (req.method === 'PUT' && req.url.includes(BROKEN) ? s3Error(500, 'InternalError', 'injected fault: this object cannot be stored') : forward(req)),
    });
    sock = await startFakeNotifySocket();
    config = stack.config();
    await stack.stores(config); // creates the table
    ensureInbox(config.inbox);
    healthAddress = `127.0.0.1:${await freePort()}`;
    base = `http://${healthAddress}`;
    daemon = startDaemon(
      [
        '--bucket', config.bucket, '--table', config.table, '--state-dir', config.stateDir, '--inbox', config.inbox, '--host-id', config.hostId,
        '--health-address', healthAddress, '--max-delete-ratio', '100', '--max-attempts', '1', '--retry-base-ms', '200', '--stability-ms', '100',
        '--grace-ms', '3000', '--request-timeout-ms', '10000',
      ],
      stack.childEnv({ AWS_ENDPOINT_URL_S3: proxy.url, NOTIFY_SOCKET: sock.path, WATCHDOG_USEC: '1000000' }),
    );
  });

  after(async () => {
    if (daemon && daemon.child.exitCode === null && daemon.child.signalCode === null) {
      daemon.child.kill('SIGKILL');
      await daemon.exited;
    }
    await sock?.stop();
    await proxy?.stop();
    await stack?.stop();
    if (config) rmSync(config.stateDir, { recursive: true, force: true });
  });

  test('READY=1 arrives after start-up, from the daemon\'s own pid, while /healthz already answers', async () => {
    const [ready] = await waitFor('READY=1', () => sock.with('READY').length > 0 && sock.with('READY'), 30_000).catch((err: Error) => {
      throw new Error(`${err.message}\ndaemon output:\n${daemon.output()}`);
    });
    assert.equal(ready!.fields.MAINPID, String(daemon.child.pid), 'bin/animal-sync execs node, so MAINPID is the pid systemd started');
    assert.match(ready!.fields.STATUS ?? '', /^watching /);
    const { status, body } = await healthz();
    assert.equal(status, 200, JSON.stringify(body));
  });

  test('WATCHDOG=1 pings arrive while the daemon is healthy', async () => {
    await waitFor('2 watchdog pings', () => sock.with('WATCHDOG').length >= 2, 10_000);
  });

  test('/metrics counters move after an upload and after a delete', async () => {
    let text = await scrape();
    assert.equal(sample(text, 'animal_sync_files_uploaded_total'), 0);
    const size = put('dog/rex.png', 1);
    text = await waitFor('files_uploaded_total 1', async () => {
      const t = await scrape();
      return sample(t, 'animal_sync_files_uploaded_total') === 1 && t;
    }, 20_000);
    assert.equal(sample(text, 'animal_sync_bytes_uploaded_total'), size);
    assert.equal(sample(text, 'animal_sync_catalogue_latency_seconds_count'), 1);

    unlinkSync(path.join(config.inbox, 'dog/rex.png'));
    await waitFor('files_deleted_total 1', async () => sample(await scrape(), 'animal_sync_files_deleted_total') === 1, 20_000);
  });

  test('/healthz turns 503 naming the marker when the inbox marker is removed, 200 when it is back', async () => {
    assert.equal((await healthz()).status, 200);
    unlinkSync(markerPath(config.inbox));
    try {
      const down = await healthz();
      assert.equal(down.status, 503);
      assert.equal(down.body.ok, false);
      assert.equal(down.body.checks.marker?.ok, false);
      assert.match(down.body.checks.marker?.detail ?? '', /marker/);
    } finally {
      ensureInbox(config.inbox);
    }
    assert.equal((await healthz()).status, 200);
  });

  test('a file whose upload fails is counted in /metrics and named, with its error, by `animal-sync status`', async () => {
    put(`cat/${BROKEN}.png`, 2);
    await waitFor('the failure to reach the index', () => {
      const index = SyncIndex.open(config.stateDir, { readOnly: true });
      try {
        return index.failures().some((f) => f.source_path === `cat/${BROKEN}.png`);
      } finally {
        index.close();
      }
    }, 20_000);
    assert.ok(proxy.events.filter((e) => e.fault === 'respond').length >= 1);
    // Counted when its pass ends (after the pass's own retry round).
    await waitFor('files_failed_total >= 1', async () => (sample(await scrape(), 'animal_sync_files_failed_total') ?? 0) >= 1, 20_000);

    const statusArgs = ['status', '--state-dir', config.stateDir, '--health-address', healthAddress];
    const r = await runCli(statusArgs, { env: stack.childEnv() });
    assert.equal(r.code, 0, r.stderr);
    const line = r.stdout.split('\n').find((l) => l.startsWith(`cat/${BROKEN}.png`));
    assert.ok(line, `status does not name cat/${BROKEN}.png:\n${r.stdout}`);
    assert.match(line, /InternalError|injected fault|internal error/i);
    assert.match(r.stdout, /daemon\s+healthy/);

    const json = JSON.parse((await runCli([...statusArgs, '--json'], { env: stack.childEnv() })).stdout) as SyncStatus;
    assert.deepEqual(json.failures.map((f) => f.source_path), [`cat/${BROKEN}.png`]);
    assert.equal(json.counts.failed, 1);
    assert.equal(typeof json.queueDepth, 'number');
  });

  test('SIGTERM stops it cleanly; READY=1 was sent exactly once in its life', async () => {
    daemon.child.kill('SIGTERM');
    const code = await within(daemon.exited, 15_000, () => `the daemon did not exit within 15 s of SIGTERM (grace 3 s):\n${daemon.output()}`);
    assert.equal(code, 0, daemon.output());
    await waitFor('STOPPING=1', () => sock.with('STOPPING').length === 1, 10_000);
    assert.equal(sock.with('READY').length, 1, JSON.stringify(sock.messages.map((m) => m.raw)));
  });
});
