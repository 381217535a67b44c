// The real local stack for a test file: s3rver + DynamoDB Local on free ports, started once
// in `before` and stopped in `after`. Each test gets its own bucket/table names.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { resolveConfig, type Config, type ConfigValues } from '../../src/config.ts';
import { makeStores, type Stores } from '../../src/context.ts';
import { startLocalStack, type LocalStack } from '../../src/local/stack.ts';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export function tempDir(prefix = 'animal-sync-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface TestStack extends LocalStack {
  dataDir: string;
  /** A bucket that s3rver created at start (s3rver refuses most bucket-level calls from the current SDK). */
  bucket: string;
  /** Env for child processes: the stack's endpoints and credentials on top of process.env. */
  childEnv(extra?: Record<string, string>): NodeJS.ProcessEnv;
  /** A config for in-process use, with a fresh table name unless given. */
  config(overrides?: Partial<Record<keyof ConfigValues, unknown>>): Config;
  /** Stores for `config`, with the table created. */
  stores(config: Config): Promise<Stores>;
}

export async function startTestStack(): Promise<TestStack> {
  const dataDir = tempDir('animal-sync-stack-');
  const bucket = 'test-' + randomBytes(4).toString('hex');
  const stack = await startLocalStack({ dataDir, s3Port: await freePort(), dynamodbPort: await freePort(), bucket, inMemory: true });
  Object.assign(process.env, stack.env);
  const opened: Stores[] = [];
  return {
    ...stack,
    dataDir,
    bucket,
    childEnv: (extra = {}) => ({ ...process.env, ...stack.env, ANIMAL_SYNC_LOG_FORMAT: 'json', ...extra }),
    config(overrides = {}) {
      const state = tempDir('animal-sync-state-');
      return resolveConfig({
        flags: {
          bucket,
          table: 'T' + randomBytes(4).toString('hex'),
          stateDir: state,
          inbox: path.join(state, 'inbox'),
          hostId: 'test-host',
          requestTimeoutMs: '10000',
          ...overrides,
        },
        env: { ...stack.env },
      });
    },
    async stores(config) {
      const s = makeStores(config);
      opened.push(s);
      await s.items.ensureTable();
      return s;
    },
    async stop() {
      for (const s of opened) s.close();
      await stack.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
