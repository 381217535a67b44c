// The DynamoDB implementations the behaviour suite (tests/backends) runs against, each with
// what it can do, and the suite's frame: one describe per back end, tests that need a
// capability the back end lacks skipped with the reason, and the count of each kind printed.
// DynamoDB Local comes from tests/helpers/stack.ts; dynalite (an independent implementation
// of the DynamoDB API: no streams, no transactions) runs in this process, in memory, with
// S3 from s3rver as usual.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import type http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { resolveConfig, type Config } from '../../src/config.ts';
import type { Stores } from '../../src/context.ts';
import { localEnv } from '../../src/local/stack.ts';
import { startS3Server } from '../../src/local/s3-server.ts';
import { freePort, openStores, startTestStack, tempDir, type TestStack } from './stack.ts';

export type Capability = 'streams' | 'transactions';

export interface Backend {
  name: string;
  /** DynamoDB Streams: the Lambda log and the live gallery. */
  streams: boolean;
  /** TransactWriteItems. */
  transactions: boolean;
  start(): Promise<TestStack>;
}

type DynaliteFactory = (opts: { createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => http.Server;

/** s3rver and dynalite on free ports; dynalite keeps its tables in memory (no LevelDB on disk). */
export async function startDynaliteStack(): Promise<TestStack> {
  const dynalite = createRequire(import.meta.url)('dynalite') as DynaliteFactory;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const dynamodbEndpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const bucket = 'test-' + randomBytes(4).toString('hex');
  const dirs = [tempDir('animal-sync-dynalite-')];
  const s3 = await startS3Server({ port: await freePort(), dataDir: path.join(dirs[0]!, 's3'), buckets: [bucket] });
  const env = localEnv(s3.endpoint, dynamodbEndpoint);
  // The stores read the SDK's endpoint variables from process.env, as the CLI does.
  Object.assign(process.env, env);
  const opened: Stores[] = [];
  const config = (overrides: Record<string, unknown> = {}): Config => {
    const state = tempDir('animal-sync-state-');
    dirs.push(state);
    return resolveConfig({
      flags: { bucket, table: 'T' + randomBytes(4).toString('hex'), stateDir: state, inbox: path.join(state, 'inbox'), hostId: 'test-host', requestTimeoutMs: '10000', ...overrides },
      env: { ...env },
    });
  };
  // dataDir spelled out: older TestStacks have it, newer ones do not.
  const stack: TestStack & { dataDir: string } = {
    dataDir: dirs[0]!,
    s3Endpoint: s3.endpoint,
    dynamodbEndpoint,
    env,
    bucket,
    childEnv: (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({ ...process.env, ...env, ANIMAL_SYNC_LOG_FORMAT: 'json', ...extra }),
    config,
    stores: openStores(opened),
    async stop() {
      for (const s of opened) s.close();
      server.closeAllConnections();
      await Promise.all([s3.stop(), new Promise((resolve) => server.close(resolve))]);
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
  return stack;
}

export const BACKENDS: readonly Backend[] = [
  { name: 'DynamoDB Local', streams: true, transactions: true, start: startTestStack },
  { name: 'dynalite', streams: false, transactions: false, start: startDynaliteStack },
];

export interface BackendTestOptions {
  /** Capabilities the test needs; on a back end without one it is skipped, saying why. */
  needs?: Capability[];
  /** A reason to skip it everywhere (a feature not built yet). */
  skip?: string;
}

export type BackendTest = (name: string, opts: BackendTestOptions, fn: (t: TestContext, stack: TestStack) => Promise<void>) => void;

/**
 * One describe per back end in BACKENDS (ANIMAL_SYNC_TEST_BACKENDS=dynalite narrows it), each
 * with its own stack; `body` declares the tests once. After each back end, a diagnostic line
 * says how many tests ran on it and how many were skipped for a missing capability.
 */
export function describeBackends(title: string, body: (test: BackendTest, backend: Backend) => void): void {
  const only = process.env.ANIMAL_SYNC_TEST_BACKENDS?.split(',').map((s) => s.trim().toLowerCase());
  for (const backend of BACKENDS.filter((b) => !only || only.includes(b.name.toLowerCase()))) {
    describe(`${title} on ${backend.name}`, () => {
      let stack: TestStack | undefined;
      const counts = { everywhere: 0, needsStreams: 0, needsTransactions: 0, skippedHere: 0, notBuilt: 0 };
      before(async () => {
        stack = await backend.start();
        // Each back end's endpoints for the SDK clients this process makes (stores, stream runner).
        Object.assign(process.env, stack.env);
      });
      after(async (t) => {
        t.diagnostic(`${backend.name}: ${counts.everywhere} test(s) for every back end, ${counts.needsStreams} need streams, ` +
          `${counts.needsTransactions} need transactions; ${counts.skippedHere} skipped here for a missing capability, ${counts.notBuilt} skipped everywhere (not built yet)`);
        await stack?.stop();
      });
      body((name, opts, fn) => {
        const needs = opts.needs ?? [];
        if (needs.length === 0) counts.everywhere++;
        if (needs.includes('streams')) counts.needsStreams++;
        if (needs.includes('transactions')) counts.needsTransactions++;
        const missing = needs.filter((n) => !backend[n]);
        if (missing.length > 0) counts.skippedHere++;
        else if (opts.skip) counts.notBuilt++;
        const label = needs.length ? `${name} [needs ${needs.join(', ')}]` : name;
        const skip = missing.length > 0 ? `${backend.name} has no ${missing.join(' and no ')}` : opts.skip;
        it(label, { skip }, (t) => fn(t, stack!));
      }, backend);
    });
  }
}
