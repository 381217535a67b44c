// The real local stack for tests: s3rver + DynamoDB Local on free ports. Under `npm test` it
// is started once for the whole run by tests/helpers/global-setup.ts and shared by every
// file; a file run on its own starts its own. Each test file gets its own bucket, and each
// config() its own table and state folder.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { resolveConfig, type Config, type ConfigValues } from '../../src/config.ts';
import { makeStores, type Stores } from '../../src/context.ts';
import { localEnv, startLocalStack, type LocalStack } from '../../src/local/stack.ts';
import { tempDir } from './temp.ts';

export { removeOnExit, tempDir } from './temp.ts';

/** Set by the global setup: the endpoints of the run's shared stack (JSON). */
export const SHARED_STACK_VAR = 'TEST_SHARED_LOCAL_STACK';

export interface SharedStackInfo {
  s3Endpoint: string;
  dynamodbEndpoint: string;
  /** Where the servers keep their data (s3rver's files are under <dataDir>/s3). */
  dataDir: string;
}

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

export interface TestStack extends LocalStack {
  /** Where the servers keep their data (tests that age an s3rver object touch its file there). */
  dataDir: string;
  /** A bucket of this file's own (s3rver refuses most bucket-level calls from the current SDK). */
  bucket: string;
  /** Env for child processes: the stack's endpoints and credentials on top of process.env. */
  childEnv(extra?: Record<string, string>): NodeJS.ProcessEnv;
  /** A config for in-process use, with a fresh table name unless given. */
  config(overrides?: Partial<Record<keyof ConfigValues, unknown>>): Config;
  /** Stores for `config`, with the table created. */
  stores(config: Config): Promise<Stores>;
}

/** The run's shared stack, or a stack of this process's own; stop() stops only what is its own. */
async function localStack(bucket: string): Promise<LocalStack & { dataDir: string }> {
  const shared = process.env[SHARED_STACK_VAR];
  if (shared) {
    const info = JSON.parse(shared) as SharedStackInfo;
    return { ...info, env: localEnv(info.s3Endpoint, info.dynamodbEndpoint), stop: async () => undefined };
  }
  const dataDir = tempDir('animal-sync-stack-');
  return { ...(await startLocalStack({ dataDir, s3Port: await freePort(), dynamodbPort: await freePort(), bucket, inMemory: true })), dataDir };
}

/** TestStack.stores(): stores for a config, with its table created, closed by stop() (kept in `opened`). */
export function openStores(opened: Stores[]): (c: Config) => Promise<Stores> {
  return async (c) => {
    const s = makeStores(c);
    opened.push(s);
    await s.items.ensureTable();
    return s;
  };
}

export async function startTestStack(): Promise<TestStack> {
  const bucket = 'test-' + randomBytes(4).toString('hex');
  const stack = await localStack(bucket);
  Object.assign(process.env, stack.env);
  const opened: Stores[] = [];
  const config = (overrides: Partial<Record<keyof ConfigValues, unknown>> = {}): Config => {
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
  };
  const s = makeStores(config());
  try {
    // A shared stack knows nothing of this file's bucket (a stack of its own has it already).
    await s.objects.ensureBucket();
  } finally {
    s.close();
  }
  return {
    ...stack,
    bucket,
    childEnv: (extra = {}) => ({ ...process.env, ...stack.env, ANIMAL_SYNC_LOG_FORMAT: 'json', ...extra }),
    config,
    stores: openStores(opened),
    async stop() {
      for (const s of opened) s.close();
      await stack.stop();
    },
  };
}
