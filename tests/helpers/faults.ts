// Helpers for the fault suite (tests/faults): a sync setup whose every override reaches the
// daemon, the Lambda log of the scenario's table (the real stream runner and handler), a
// full reconcile on demand, and the one convergence assertion every scenario ends with.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createLogger } from '../../src/log.ts';
import { buildItem, type ImageItem } from '../../src/model.ts';
import { startStreamRunner, type StreamRunner } from '../../src/stream/runner.ts';
import { SyncIndex } from '../../src/sync/index-db.ts';
import { scanInbox } from '../../src/sync/scanner.ts';
import { waitFor } from './cli.ts';
import type { FaultProxy } from './fault-proxy.ts';
import { tempDir, type TestStack } from './stack.ts';
import { assertConverged, setupSync, startDaemon, type Daemon, type SyncSetup } from './sync.ts';

/**
 * setupSync, and every override also written to the config file the daemon reads (setupSync
 * writes only a fixed subset, so e.g. maxAttempts or healthAddress would not reach it).
 */
export async function setupFaultSync(stack: TestStack, overrides: Record<string, unknown> = {}): Promise<SyncSetup> {
  const s = await setupSync(stack, overrides);
  const values = JSON.parse(readFileSync(s.configFile, 'utf8')) as Record<string, unknown>;
  const config = s.config as unknown as Record<string, unknown>;
  for (const key of Object.keys(overrides)) values[key] = config[key];
  writeFileSync(s.configFile, JSON.stringify(values));
  return s;
}

/** The daemon with its S3 and/or DynamoDB traffic going through fault proxies. */
export function daemonThrough(s: SyncSetup, proxies: { s3?: FaultProxy; dynamodb?: FaultProxy }, args: string[] = []): Daemon {
  const env: Record<string, string> = {};
  if (proxies.s3) env.AWS_ENDPOINT_URL_S3 = proxies.s3.url;
  if (proxies.dynamodb) env.AWS_ENDPOINT_URL_DYNAMODB = proxies.dynamodb.url;
  return s.daemon({ env, args });
}

export interface LambdaLine {
  level?: string;
  msg?: string;
  eventName?: 'INSERT' | 'MODIFY' | 'REMOVE';
  eventID?: string;
  image_id?: string;
  filename?: string;
  s3_key?: string;
  version?: number;
}

export interface LambdaLog {
  file: string;
  lines(): LambdaLine[];
  /** Resolves once every record written to the table so far has been logged. */
  caughtUp(): Promise<void>;
  stop(): Promise<void>;
}

const quiet = createLogger({ level: 'silent' });

/**
 * The scenario's Lambda log: the project's stream runner, in this process, reading the table's
 * stream straight from DynamoDB Local (never through a fault proxy) and invoking lambda/'s
 * handler, which appends one JSON line per INSERT/MODIFY/REMOVE to `file`.
 */
export async function startLambdaLog(s: SyncSetup): Promise<LambdaLog> {
  const dir = tempDir('animal-sync-lambda-');
  const file = path.join(dir, 'lambda.log');
  const runner: StreamRunner = await startStreamRunner({
    aws: s.config, table: s.config.table, stateDir: dir, logFile: file, echo: null, log: quiet,
    batchWindowMs: 50, pollIntervalMs: 50, shardDiscoveryIntervalMs: 1000, retryDelayMs: 50,
  });
  const lines = (): LambdaLine[] => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as LambdaLine) : []);
  return {
    file,
    lines,
    async caughtUp() {
      // A sentinel written after everything else: once its INSERT is logged, so is all before it.
      const at = new Date().toISOString();
      const id = randomUUID();
      const sentinel = buildItem({
        animal: 'zz-sentinel', imageId: id, uploadedAt: at, bucket: s.config.bucket, s3Key: `sentinel/${id}`, filename: 'sentinel.png',
        sizeBytes: 0, sha256: '0'.repeat(64), width: 1, height: 1, sourceHost: 'fault-suite-sentinel', sourcePath: 'zz-sentinel/sentinel.png', version: 1, updatedAt: at,
      });
      await s.stores.items.putNew(sentinel);
      await waitFor('the Lambda log to catch up with the table', () => lines().some((l) => l.image_id === id), 30000, 50);
      await s.stores.items.delete(sentinel);
    },
    stop: () => runner.stop(),
  };
}

/** Sends SIGHUP until a full pass has started after the call and finished. */
export async function fullReconcile(d: Daemon, timeoutMs = 60000): Promise<void> {
  const passes = (): number => d.lines().filter((l) => l.msg === 'full pass done').length;
  // The first SIGHUP may be absorbed by a pass already running (started before the call);
  // the second one starts a pass of its own.
  for (let i = 0; i < 2; i++) {
    const n = passes();
    d.child.kill('SIGHUP');
    await waitFor('a full reconcile pass', () => passes() > n, timeoutMs, 50);
  }
}

/** Waits until the inbox and the catalogue agree (assertConverged passes), with a deadline. */
export async function waitConverged(s: SyncSetup, opts: { animals?: string[]; skipped?: ReadonlySet<string>; timeoutMs?: number } = {}): Promise<void> {
  await waitFor('convergence', async () => {
    await assertConverged(s, { animals: opts.animals, skipped: opts.skipped });
    return true;
  }, opts.timeoutMs ?? 60000, 250);
}

export interface ConvergedReport {
  files: number;
  items: number;
  inserts: number;
  modifies: number;
  removes: number;
}

/**
 * Invariant 3 (docs/architecture.md) after faults, the one assertion every fault scenario ends with:
 * - assertConverged: local files == this host's items == objects, byte for byte by sha256;
 *   no orphan object, no item without its object, no duplicate item per source_path;
 * - the Lambda log has exactly one INSERT line for every item (by image_id), and no image
 *   was inserted twice;
 * - with `stateDir` (daemon stopped): every index row is synced and the rows are the files.
 * `skipped`: source paths the test expects the daemon to refuse for their content.
 */
export async function assertConvergedAfterFaults(s: SyncSetup, lambda: LambdaLog, opts: { animals?: string[]; skipped?: ReadonlySet<string>; stateDir?: string } = {}): Promise<ConvergedReport> {
  await assertConverged(s, { animals: opts.animals, skipped: opts.skipped });
  const local = (await scanInbox(s.config.inbox)).files.filter((f) => !opts.skipped?.has(f.sourcePath));
  const items: ImageItem[] = (await s.items(opts.animals)).filter((i) => i.source_host === s.config.hostId);
  await lambda.caughtUp();
  const lines = lambda.lines();
  const errors = lines.filter((l) => l.level === 'error');
  assert.deepEqual(errors, [], 'the Lambda handler logged no errors');
  const inserts = new Map<string, number>();
  for (const l of lines) if (l.eventName === 'INSERT') inserts.set(l.image_id!, (inserts.get(l.image_id!) ?? 0) + 1);
  for (const item of items) {
    assert.equal(inserts.get(item.image_id) ?? 0, 1, `exactly one INSERT line for ${item.source_path} (image ${item.image_id})`);
  }
  const twice = [...inserts].filter(([, n]) => n > 1);
  assert.deepEqual(twice, [], 'no image inserted twice');
  if (opts.stateDir) {
    const index = SyncIndex.open(opts.stateDir, { readOnly: true });
    try {
      const rows = index.all();
      assert.deepEqual(rows.filter((r) => r.state !== 'synced').map((r) => `${r.source_path}: ${r.state}`), [], 'every index row is synced');
      assert.deepEqual(rows.map((r) => r.source_path).sort(), local.map((f) => f.sourcePath).sort(), 'index rows == local files');
    } finally {
      index.close();
    }
  }
  return {
    files: local.length,
    items: items.length,
    inserts: lines.filter((l) => l.eventName === 'INSERT').length,
    modifies: lines.filter((l) => l.eventName === 'MODIFY').length,
    removes: lines.filter((l) => l.eventName === 'REMOVE').length,
  };
}

/** A small seeded PRNG, so a failing run can be repeated with the same choices. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Lines of the daemon's log whose msg matches. */
export function logLines(d: Daemon, re: RegExp): Record<string, unknown>[] {
  return d.lines().filter((l) => re.test(String(l.msg)));
}

/**
 * The daemon as root without the capabilities that let root read any file, like startDaemon
 * otherwise: as plain root, chmod 000 does not make a file unreadable; this way it does.
 * (Running it as `nobody` instead fails wherever the checkout is not reachable by other
 * users, e.g. a clone inside a 0700 mktemp -d folder.)
 */
export function daemonWithoutDacOverride(s: SyncSetup, env: Record<string, string> = {}): Daemon {
  return startDaemon({ ...s.env, ...env }, [], { wrap: ['setpriv', '--bounding-set', '-dac_override,-dac_read_search', '--'] });
}

/**
 * Every hung request of `proxy` was given up by the client, and because of its request timeout:
 * not at once, not never. The bounds are loose on purpose: on a loaded machine the proxy sees a
 * request some hundreds of ms after the client's timer started.
 */
export function assertHungRequestsTimedOut(proxy: FaultProxy, requestTimeoutMs: number, count: number): void {
  const hung = proxy.events.filter((e) => e.fault === 'hang');
  assert.equal(hung.length, count);
  for (const e of hung) {
    assert.ok(e.clientClosedAt, `the client gave up on hung ${e.op}`);
    const waited = e.clientClosedAt - e.at;
    assert.ok(waited >= requestTimeoutMs / 2 && waited <= requestTimeoutMs + 5000, `hung ${e.op} was abandoned after ${waited} ms (requestTimeoutMs ${requestTimeoutMs})`);
  }
}
