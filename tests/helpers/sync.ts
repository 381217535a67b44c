// Helpers for sync tests: an isolated bucket/table/inbox/state per test, the real CLI as a
// one-off or as a daemon, and the convergence assertion of invariant 3 in docs/architecture.md.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../../src/config.ts';
import type { Stores } from '../../src/context.ts';
import { ensureInbox } from '../../src/inbox.ts';
import type { ImageItem } from '../../src/model.ts';
import { scanInbox } from '../../src/sync/scanner.ts';
import { BIN, runCli, waitFor, type CliResult } from './cli.ts';
import { makePng } from './png.ts';
import type { TestStack } from './stack.ts';
import { removeOnExit } from './temp.ts';

export interface SyncSetup {
  config: Config;
  stores: Stores;
  configFile: string;
  env: NodeJS.ProcessEnv;
  /** Writes a PNG into inbox/<sourcePath>; returns its bytes. */
  put(sourcePath: string, opts?: { seed?: number; padTo?: number }): Buffer;
  file(sourcePath: string): string;
  once(...args: string[]): Promise<CliResult>;
  daemon(opts?: { args?: string[]; env?: Record<string, string> }): Daemon;
  items(animals?: string[]): Promise<ImageItem[]>;
  objectKeys(): Promise<string[]>;
}

export interface Daemon {
  child: ChildProcess;
  output(): string;
  lines(): Record<string, unknown>[];
  waitForLog(re: RegExp, timeoutMs?: number): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

let seedCounter = 1;

export async function setupSync(stack: TestStack, overrides: Record<string, unknown> = {}): Promise<SyncSetup> {
  const bucket = 'b-' + randomBytes(5).toString('hex');
  const config = stack.config({ bucket, stabilityMs: '100', retryBaseMs: '100', ...overrides });
  const stores = await stack.stores(config);
  await stores.objects.ensureBucket();
  ensureInbox(config.inbox);
  const configFile = path.join(config.stateDir, '..', path.basename(config.stateDir) + '.json');
  const fileValues: Record<string, unknown> = {
    inbox: config.inbox, bucket: config.bucket, table: config.table, stateDir: config.stateDir, hostId: config.hostId,
    stabilityMs: config.stabilityMs, retryBaseMs: config.retryBaseMs, requestTimeoutMs: config.requestTimeoutMs,
    concurrency: config.concurrency, partSizeMib: config.partSizeMib, graceMs: config.graceMs, scanIntervalSec: config.scanIntervalSec,
    maxDelete: config.maxDelete, maxDeleteRatio: config.maxDeleteRatio,
  };
  writeFileSync(removeOnExit(configFile), JSON.stringify(fileValues));
  const env = stack.childEnv({ ANIMAL_SYNC_CONFIG: configFile });
  const s3 = new S3Client({ region: 'us-east-1', forcePathStyle: true, endpoint: stack.s3Endpoint, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });

  const setup: SyncSetup = {
    config, stores, configFile, env,
    file: (p) => path.join(config.inbox, p),
    put(sourcePath, opts = {}) {
      const bytes = makePng({ seed: opts.seed ?? seedCounter++, padTo: opts.padTo, width: 8 + (seedCounter % 5), height: 8 });
      mkdirSync(path.dirname(setup.file(sourcePath)), { recursive: true });
      writeFileSync(setup.file(sourcePath), bytes);
      return bytes;
    },
    once: (...args) => runCli(['sync', '--once', ...args], { env, timeoutMs: 120000 }),
    daemon: (opts = {}) => startDaemon({ ...env, ...opts.env }, opts.args ?? []),
    async items(animals) {
      const names = animals ?? [...new Set([...(await scanInbox(config.inbox)).files.map((f) => f.animal), ...knownAnimals])];
      const all: ImageItem[] = [];
      for (const a of names) {
        let next: Record<string, unknown> | undefined;
        do {
          const page = await stores.items.query(a, { next });
          all.push(...page.items);
          next = page.next;
        } while (next);
      }
      return all;
    },
    async objectKeys() {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const res = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'animals/', ContinuationToken: token }));
        keys.push(...(res.Contents ?? []).map((o) => o.Key!));
        token = res.NextContinuationToken;
      } while (token);
      return keys;
    },
  };
  return setup;
}

/** Animal folders tests use; items() also looks in these partitions for leftovers. */
export const knownAnimals = ['dog', 'cat', 'bird', 'fox', 'owl', 'mass', 'burst', 'slow', 'bad'];

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/**
 * Invariant 3 (docs/architecture.md): local files == this host's items == objects, byte for byte; no
 * orphan object, no item without its object, no duplicate item per source_path.
 */
export async function assertConverged(s: SyncSetup, opts: { animals?: string[]; skipped?: ReadonlySet<string> } = {}): Promise<void> {
  // `skipped`: files a test put there to be refused for their content (not a PNG, unreadable).
  const local = (await scanInbox(s.config.inbox)).files.filter((f) => !opts.skipped?.has(f.sourcePath));
  const items = (await s.items(opts.animals)).filter((i) => i.source_host === s.config.hostId);
  const keys = new Set(await s.objectKeys());
  const byPath = new Map<string, ImageItem>();
  for (const item of items) {
    assert.ok(!byPath.has(item.source_path), `duplicate item for ${item.source_path}`);
    byPath.set(item.source_path, item);
  }
  assert.deepEqual([...byPath.keys()].sort(), local.map((f) => f.sourcePath).sort(), 'items by source_path == local files');
  for (const f of local) {
    const item = byPath.get(f.sourcePath)!;
    const bytes = readFileSync(f.absPath);
    assert.equal(item.sha256, sha256(bytes), `item sha256 of ${f.sourcePath}`);
    assert.equal(item.size_bytes, bytes.length, `item size of ${f.sourcePath}`);
    assert.ok(keys.has(item.s3_key), `object of ${f.sourcePath} exists`);
    const chunks: Buffer[] = [];
    for await (const c of await s.stores.objects.get(item.s3_key)) chunks.push(c as Buffer);
    assert.equal(sha256(Buffer.concat(chunks)), item.sha256, `object bytes of ${f.sourcePath}`);
  }
  const referenced = new Set(items.map((i) => i.s3_key));
  const orphans = [...keys].filter((k) => !referenced.has(k));
  assert.deepEqual(orphans, [], 'no orphan objects');
}

/** `wrap`: a command the daemon runs under (e.g. setpriv dropping capabilities). */
export function startDaemon(env: NodeJS.ProcessEnv, args: string[], opts: { wrap?: string[] } = {}): Daemon {
  const [cmd, ...cmdArgs] = [...(opts.wrap ?? []), BIN, 'sync', ...args];
  const child = spawn(cmd!, cmdArgs, { env: { ...env, ANIMAL_SYNC_LOG_FORMAT: 'json' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  return {
    child,
    exited,
    output: () => out,
    lines: () => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>),
    waitForLog: (re, timeoutMs = 20000) => waitFor(`log line ${re}`, () => re.test(out), timeoutMs).then(() => undefined),
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
