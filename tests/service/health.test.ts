import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ConfigError } from '../../src/errors.ts';
import { parseListenAddress, startHealthServer, storeProbe, type HealthReport, type HealthServer } from '../../src/service/health.ts';
import { createMetrics, type SyncMetrics } from '../../src/service/metrics.ts';
import { sample } from './prom-text.ts';

describe('health and metrics server', () => {
  let server: HealthServer;
  let metrics: SyncMetrics;
  let report: HealthReport = { ok: true, checks: { inbox: { ok: true } }, stats: { queueDepth: 0, inFlight: 0 } };
  let health: () => Promise<HealthReport> = async () => report;

  before(async () => {
    metrics = createMetrics();
    server = await startHealthServer({ address: '127.0.0.1:0', metrics, health: () => health(), healthTimeoutMs: 500 });
  });
  after(async () => {
    await server?.stop();
  });

  test('listens on the port it was given (0 = any) and reports a reachable url', () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(server.url, 'http://127.0.0.1:0');
  });

  test('/healthz answers 200 with the report while healthy, 503 with the failing check\'s reason otherwise', async () => {
    let res = await fetch(server.url + '/healthz');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), report);

    report = { ok: false, checks: { inbox: { ok: false, detail: 'inbox marker /srv/inbox/.animal-sync-inbox is missing' }, index: { ok: true } } };
    res = await fetch(server.url + '/healthz');
    assert.equal(res.status, 503);
    const body = (await res.json()) as HealthReport;
    assert.equal(body.ok, false);
    assert.match(body.checks.inbox!.detail!, /marker .* is missing/);

    report = { ok: true, checks: { inbox: { ok: true } } };
    assert.equal((await fetch(server.url + '/healthz')).status, 200);
  });

  test('/healthz answers 503 when the health function throws or hangs', async () => {
    health = async () => {
      throw new Error('index is locked');
    };
    let res = await fetch(server.url + '/healthz');
    assert.equal(res.status, 503);
    assert.match(JSON.stringify(await res.json()), /index is locked/);

    health = () => new Promise(() => {});
    res = await fetch(server.url + '/healthz');
    assert.equal(res.status, 503);
    assert.match(JSON.stringify(await res.json()), /did not answer within 500 ms/);
    health = async () => report;
  });

  test('/metrics serves Prometheus text with every animal_sync_ metric, and counters move', async () => {
    const scrape = async (): Promise<string> => {
      const res = await fetch(server.url + '/metrics');
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      return res.text();
    };
    let text = await scrape();
    for (const name of [
      'animal_sync_files_uploaded_total', 'animal_sync_files_updated_total', 'animal_sync_files_deleted_total', 'animal_sync_files_failed_total',
      'animal_sync_bytes_uploaded_total', 'animal_sync_queue_depth', 'animal_sync_in_flight', 'animal_sync_reconcile_duration_seconds',
      'animal_sync_catalogue_latency_seconds', 'animal_sync_last_good_reconcile_timestamp_seconds', 'process_cpu_seconds_total', 'nodejs_heap_size_used_bytes',
    ]) {
      assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), `${name} missing from /metrics`);
    }
    assert.equal(sample(text, 'animal_sync_files_uploaded_total'), 0);

    metrics.filesUploaded.inc();
    metrics.filesUploaded.inc();
    metrics.bytesUploaded.inc(1234);
    metrics.queueDepth.set(7);
    metrics.reconcileDuration.observe(0.3);
    text = await scrape();
    assert.equal(sample(text, 'animal_sync_files_uploaded_total'), 2);
    assert.equal(sample(text, 'animal_sync_bytes_uploaded_total'), 1234);
    assert.equal(sample(text, 'animal_sync_queue_depth'), 7);
    assert.equal(sample(text, 'animal_sync_reconcile_duration_seconds_count'), 1);
  });

  test('anything else is 404', async () => {
    assert.equal((await fetch(server.url + '/')).status, 404);
    assert.equal((await fetch(server.url + '/healthz', { method: 'POST' })).status, 404);
    assert.equal((await fetch(server.url + '/metrics/x')).status, 404);
  });

  test('two registries do not share counters', async () => {
    const other = createMetrics();
    other.filesDeleted.inc(5);
    assert.equal(sample(await metrics.registry.metrics(), 'animal_sync_files_deleted_total'), 0);
  });
});

describe('listen address', () => {
  test('host:port and [v6]:port parse; anything else is a ConfigError naming the setting', () => {
    assert.deepEqual(parseListenAddress('127.0.0.1:9464'), { host: '127.0.0.1', port: 9464 });
    assert.deepEqual(parseListenAddress('[::1]:0'), { host: '::1', port: 0 });
    assert.deepEqual(parseListenAddress('localhost:80'), { host: 'localhost', port: 80 });
    for (const bad of ['9464', ':9464', '127.0.0.1:', '127.0.0.1:99999', '::1:80']) {
      assert.throws(() => parseListenAddress(bad), (err: unknown) => err instanceof ConfigError && /healthAddress/.test(err.message), bad);
    }
  });

  test('a port in use is a clear error', async () => {
    const first = await startHealthServer({ address: '127.0.0.1:0', metrics: createMetrics(), health: async () => ({ ok: true, checks: {} }) });
    try {
      const port = new URL(first.url).port;
      await assert.rejects(
        startHealthServer({ address: `127.0.0.1:${port}`, metrics: createMetrics(), health: async () => ({ ok: true, checks: {} }) }),
        /cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE/,
      );
    } finally {
      await first.stop();
    }
  });
});

describe('storeProbe', () => {
  test('asks both stores, reports the failure with its reason, and keeps a result for cacheMs', async () => {
    let clock = 0;
    let s3Down = false;
    const asked: string[] = [];
    const probe = storeProbe({
      objects: { head: async (key) => { asked.push(`head ${key}`); if (s3Down) throw new Error('connect ECONNREFUSED 127.0.0.1:9'); return null; } },
      items: { get: async (key) => { asked.push(`get ${key.partition_key}`); return null; } },
    }, { cacheMs: 5000, now: () => clock });
    assert.deepEqual(await probe(), { ok: true });
    assert.deepEqual(asked, ['head animals/.health-probe', 'get ANIMAL#.health']);
    s3Down = true;
    clock = 4999;
    assert.deepEqual(await probe(), { ok: true }, 'still the cached answer');
    assert.equal(asked.length, 2);
    clock = 5000;
    assert.deepEqual(await probe(), { ok: false, detail: 'store unreachable: connect ECONNREFUSED 127.0.0.1:9' });
    assert.equal(asked.length, 4);
  });
});
