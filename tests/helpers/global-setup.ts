// node --test --test-global-setup: runs once, in the test runner's own process, around all
// test files. It starts the one local stack the files share (tests/helpers/stack.ts), and it
// gives the run a temp folder of its own (TMPDIR, inherited by every test process and every
// CLI they start), so that the teardown can prove that the tests left nothing behind: it
// lists what is left, fails the run if anything is, and removes the folder in any case.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLocalStack, type LocalStack } from '../../src/local/stack.ts';
import { freePort, SHARED_STACK_VAR, type SharedStackInfo } from './stack.ts';

const STACK_DIR = 'shared-stack';

let runTmp: string | undefined;
let stack: LocalStack | undefined;

export async function globalSetup(): Promise<void> {
  runTmp = mkdtempSync(path.join(os.tmpdir(), 'animal-sync-run-'));
  process.env.TMPDIR = runTmp;
  // npm (run by some tests) turns on Node's compile cache, which writes into TMPDIR.
  process.env.NODE_DISABLE_COMPILE_CACHE = '1';
  const dataDir = path.join(runTmp, STACK_DIR);
  stack = await startLocalStack({ dataDir, s3Port: await freePort(), dynamodbPort: await freePort(), bucket: 'shared-stack', inMemory: true });
  const info: SharedStackInfo = { s3Endpoint: stack.s3Endpoint, dynamodbEndpoint: stack.dynamodbEndpoint, dataDir };
  process.env[SHARED_STACK_VAR] = JSON.stringify(info);
}

export async function globalTeardown(): Promise<void> {
  // Synchronous first: with --test-force-exit the runner exits at this function's first await.
  // The shared stack's JVM is killed on exit anyway (src/local/dynamodb-local.ts).
  if (runTmp) {
    const left = readdirSync(runTmp).filter((name) => name !== STACK_DIR);
    rmSync(runTmp, { recursive: true, force: true });
    if (left.length > 0) {
      process.stderr.write(`\ntest run left ${left.length} entries in its temp folder (a test that does not clean up after itself):\n  ${left.join('\n  ')}\n`);
      // A throw here would be swallowed by the runner; the exit code is what fails the run.
      process.exitCode = 1;
    }
  }
  await stack?.stop();
}
