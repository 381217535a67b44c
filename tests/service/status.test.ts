import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { SyncStatus } from '../../src/commands/status.ts';
import { startHealthServer, type HealthReport, type HealthServer } from '../../src/service/health.ts';
import { createMetrics } from '../../src/service/metrics.ts';
import { INDEX_FILE, META_LAST_RECONCILE, SyncIndex, type LastReconcile } from '../../src/sync/index-db.ts';
import { runCli } from '../helpers/cli.ts';
import { freePort, tempDir } from '../helpers/stack.ts';

const FAILED_PATH = 'dog/rex.png';
const FAILED_ERROR = 'S3 PutObject failed: InternalError: We encountered an internal error';

function row(sourcePath: string, state: 'synced' | 'uploading') {
  const [animal, filename] = sourcePath.split('/') as [string, string];
  return {
    source_path: sourcePath, animal, filename, image_id: `id-${filename}`, uploaded_at: '2026-11-24T10:00:00.000Z',
    s3_key: `animals/${animal}/2026-11-24/id-${filename}`, size: state === 'synced' ? 100 : null, mtime_ms: state === 'synced' ? 1 : null,
    sha256: state === 'synced' ? 'ab'.repeat(32) : null, width: 16, height: 16, version: state === 'synced' ? 1 : 0, state,
  };
}

/** A state dir with a real index: two synced files, one upload that failed twice. */
function makeStateDir(): string {
  const stateDir = tempDir('animal-sync-status-');
  const index = SyncIndex.open(stateDir);
  index.put(row('cat/tom.png', 'synced'));
  index.put(row('cat/felix.png', 'synced'));
  index.put(row(FAILED_PATH, 'uploading'));
  index.recordFailure(FAILED_PATH, 'first try: connection reset');
  index.recordFailure(FAILED_PATH, FAILED_ERROR);
  const last: LastReconcile = { finishedAt: '2026-11-24T10:05:00.000Z', durationMs: 1500, uploaded: 2, updated: 0, deleted: 0, unchanged: 0, skipped: 0, failed: 1, ok: false };
  index.setMeta(META_LAST_RECONCILE, last);
  index.close();
  return stateDir;
}

describe('animal-sync status', () => {
  const dirs: string[] = [];
  let stateDir: string;
  let server: HealthServer;
  let report: HealthReport;

  before(async () => {
    stateDir = makeStateDir();
    dirs.push(stateDir);
    report = { ok: true, checks: { marker: { ok: true }, watcher: { ok: true } }, stats: { queueDepth: 4, inFlight: 2 } };
    server = await startHealthServer({ address: '127.0.0.1:0', metrics: createMetrics(), health: async () => report });
  });
  after(async () => {
    await server?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test('names the failed file with its last error, and counts synced, pending and failed', async () => {
    const r = await runCli(['status', '--state-dir', stateDir], { env: { ...process.env, ANIMAL_SYNC_HEALTH_ADDRESS: '' } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /files\s+2 synced, 1 pending, 1 failed/);
    assert.match(r.stdout, /last reconcile\s+2026-11-24T10:05:00\.000Z .*1\.50 s: 2 uploaded, 0 updated, 0 deleted, 1 failed — NOT OK/);
    assert.match(r.stdout, /daemon\s+health address not set/);
    const failedLine = r.stdout.split('\n').find((l) => l.startsWith(FAILED_PATH));
    assert.ok(failedLine, r.stdout);
    assert.ok(failedLine.includes(FAILED_ERROR), failedLine);
    assert.match(failedLine, new RegExp(`^${FAILED_PATH}\\s+2\\s`), 'two attempts');
  });

  test('--json gives the same facts to scripts', async () => {
    const r = await runCli(['status', '--json', '--state-dir', stateDir], { env: { ...process.env, ANIMAL_SYNC_HEALTH_ADDRESS: '' } });
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as SyncStatus;
    assert.equal(s.index, path.join(stateDir, INDEX_FILE));
    assert.deepEqual(s.counts, { synced: 2, pending: 1, failed: 1 });
    assert.equal(s.failures.length, 1);
    assert.equal(s.failures[0]!.source_path, FAILED_PATH);
    assert.equal(s.failures[0]!.last_error, FAILED_ERROR);
    assert.equal(s.lastReconcile?.failed, 1);
    assert.equal(s.daemon, null);
    assert.equal(s.queueDepth, null);
  });

  test('with a health address it shows the daemon\'s health and queue', async () => {
    const address = new URL(server.url).host;
    let r = await runCli(['status', '--state-dir', stateDir, '--health-address', address]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /daemon\s+healthy \(http:\/\/127\.0\.0\.1:\d+\)/);
    assert.match(r.stdout, /queue\s+4 queued, 2 in flight/);

    report = { ok: false, checks: { marker: { ok: false, detail: 'inbox marker missing in /srv/inbox (inbox unmounted?)' } }, stats: { queueDepth: 0, inFlight: 0 } };
    r = await runCli(['status', '--json', '--state-dir', stateDir, '--health-address', address]);
    const s = JSON.parse(r.stdout) as SyncStatus;
    assert.equal(s.daemon?.answered, true);
    assert.equal(s.daemon?.ok, false);
    assert.match(s.daemon?.checks?.marker?.detail ?? '', /marker missing/);
    assert.equal(s.queueDepth, 0);
    r = await runCli(['status', '--state-dir', stateDir, '--health-address', address]);
    assert.match(r.stdout, /daemon\s+UNHEALTHY .*marker: inbox marker missing/);
  });

  test('a daemon that does not answer is reported, not fatal', async () => {
    const r = await runCli(['status', '--state-dir', stateDir, '--health-address', `127.0.0.1:${await freePort()}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /daemon\s+not answering at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
    assert.doesNotMatch(r.stdout, /^queue/m);
  });

  test('no index yet: says so and exits 1, creating nothing', async () => {
    const empty = path.join(tempDir('animal-sync-status-'), 'state');
    dirs.push(path.dirname(empty));
    const r = await runCli(['status', '--state-dir', empty]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no sync index at .*index\.sqlite: animal-sync sync has not run with this state dir yet/);
    assert.equal(r.stdout, '');
    assert.equal(existsSync(empty), false, 'status must not create the state dir');
  });
});
