// node --openssl-legacy-provider bench/adopt.ts [--files 2000,20000] [--keep]
// Measures, against the local stack: adopting N already-catalogued files with an empty index
// (`sync --once --state-dir <empty>`: requests by operation, wall time) against a no-change run
// of the same files plus the bulk reads (one Query per animal + one ListObjectsV2 per
// prefix, timed in-process), and `check` on the same N. s3rver's continuation tokens need
// --openssl-legacy-provider in this process (it hosts the server) past 1000 keys per prefix.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { readCatalogue } from '../src/catalogue/read.ts';
import { resolveConfig } from '../src/config.ts';
import { makeStores } from '../src/context.ts';
import { ensureInbox } from '../src/inbox.ts';
import { startLocalStack } from '../src/local/stack.ts';
import { BIN } from '../tests/helpers/cli.ts';
import { startFaultProxy } from '../tests/helpers/fault-proxy.ts';
import { makePng } from '../tests/helpers/png.ts';
import { freePort } from '../tests/helpers/stack.ts';

const { values: args } = parseArgs({ options: { files: { type: 'string', default: '2000,20000' }, keep: { type: 'boolean', default: false } } });
const SIZES = args.files.split(',').map(Number);
const ANIMALS = ['dog', 'cat', 'bird', 'fox', 'owl', 'cow', 'pig', 'emu'];
const WRITES = ['PutObject', 'CreateMultipartUpload', 'UploadPart', 'PutItem', 'BatchWriteItem', 'TransactWriteItems', 'DeleteItem', 'DeleteObject'];

if (!process.execArgv.includes('--openssl-legacy-provider') && !(process.env.NODE_OPTIONS ?? '').includes('--openssl-legacy-provider')) {
  console.error('run with: node --openssl-legacy-provider bench/adopt.ts (s3rver lists more than 1000 keys per prefix with DES tokens)');
  process.exit(2);
}

function run(cmdArgs: string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(BIN, cmdArgs, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('close', (code) => resolve({ ms: performance.now() - t0, code, stdout, stderr }));
  });
}

const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

async function measure(files: number, root: string, lines: string[]): Promise<void> {
  const inbox = path.join(root, `inbox-${files}`);
  mkdirSync(inbox, { recursive: true });
  ensureInbox(inbox);
  for (const a of ANIMALS) mkdirSync(path.join(inbox, a), { recursive: true });
  for (let i = 0; i < files; i++) writeFileSync(path.join(inbox, ANIMALS[i % ANIMALS.length]!, `img-${i}.png`), makePng({ seed: i, padTo: 4096 }));
  const bucket = `adopt-${files}`;
  const stack = await startLocalStack({ dataDir: path.join(root, `servers-${files}`), s3Port: await freePort(), dynamodbPort: await freePort(), bucket });
  // The SDK's default credential chain reads these from the process environment.
  Object.assign(process.env, stack.env);
  const s3 = await startFaultProxy(stack.s3Endpoint);
  const ddb = await startFaultProxy(stack.dynamodbEndpoint);
  const state = path.join(root, `state-${files}`);
  const env: NodeJS.ProcessEnv = {
    ...process.env, ...stack.env, AWS_ENDPOINT_URL_S3: s3.url, AWS_ENDPOINT_URL_DYNAMODB: ddb.url, ANIMAL_SYNC_LOG_LEVEL: 'warn',
    ANIMAL_SYNC_INBOX: inbox, ANIMAL_SYNC_STATE_DIR: state, ANIMAL_SYNC_BUCKET: bucket, ANIMAL_SYNC_TABLE: `Adopt${files}`, ANIMAL_SYNC_HOST_ID: 'bench-host',
  };
  const direct: NodeJS.ProcessEnv = { ...env, ...stack.env };
  const config = resolveConfig({ env, flags: {} });
  const stores = makeStores(config, env);
  const ops = (): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const e of [...s3.events, ...ddb.events]) out[e.op] = (out[e.op] ?? 0) + 1;
    s3.events.length = 0;
    ddb.events.length = 0;
    return out;
  };
  try {
    await stores.items.ensureTable();
    const first = await run(['sync', '--once', '--json'], env);
    if (first.code !== 0) throw new Error(`first sync failed: ${first.stderr}`);
    ops();
    const noChange = await run(['sync', '--once', '--json'], direct);
    ops();
    const t0 = performance.now();
    const view = await readCatalogue(stores, 'bench-host', ANIMALS);
    const reads = performance.now() - t0;
    ops();
    // Timed straight to the servers; the requests are counted by a second adoption through the
    // proxies (into another empty state dir), whose own time the proxies inflate.
    const adopt = await run(['sync', '--once', '--json', '--state-dir', path.join(root, `empty-state-${files}`)], direct);
    const counted = await run(['sync', '--once', '--json', '--state-dir', path.join(root, `empty-state-counted-${files}`)], env);
    if (counted.code !== 0) throw new Error(`counted adoption failed: ${counted.stderr}`);
    const adoptOps = ops();
    const r = JSON.parse(adopt.stdout || '{}') as { uploaded?: number; updated?: number; unchanged?: number };
    const writes = WRITES.map((w) => adoptOps[w] ?? 0).reduce((a, b) => a + b, 0);
    const check = await run(['check', '--json'], direct);
    await run(['check', '--json'], env);
    const checkOps = ops();
    const c = JSON.parse(check.stdout || '{}') as { ok?: boolean; counts?: { items: number } };
    lines.push(
      `${files} files in ${ANIMALS.length} animals (${view.items.size} items):`,
      `  no-change sync --once ${s(noChange.ms)}; bulk reads in-process (Query + ListObjectsV2 per animal, straight to the servers) ${s(reads)}`,
      `  adopt with an empty index: ${s(adopt.ms)} = ${(adopt.ms / (noChange.ms + reads)).toFixed(2)} x (no-change + reads); uploaded ${r.uploaded}, updated ${r.updated}, unchanged ${r.unchanged}; ` +
        `PutObject ${adoptOps.PutObject ?? 0}, item writes ${(adoptOps.PutItem ?? 0) + (adoptOps.BatchWriteItem ?? 0) + (adoptOps.TransactWriteItems ?? 0)}, all writes ${writes}; Query ${adoptOps.Query ?? 0}, ListObjectsV2 ${adoptOps.ListObjects ?? 0}, GetItem ${adoptOps.GetItem ?? 0}, Scan ${adoptOps.Scan ?? 0}`,
      `  check: ${s(check.ms)}, exit ${check.code}, ok ${c.ok}; Query ${checkOps.Query ?? 0}, ListObjectsV2 ${checkOps.ListObjects ?? 0}, HeadObject ${checkOps.HeadObject ?? 0}, GetObject ${checkOps.GetObject ?? 0}`,
    );
  } finally {
    stores.close();
    await s3.stop();
    await ddb.stop();
    await stack.stop();
  }
}

const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: path.join(path.dirname(BIN), '..'), stdio: 'inherit' });
if (build.status !== 0) throw new Error('npm run build failed');
const root = mkdtempSync(path.join(os.tmpdir(), 'animal-sync-adopt-'));
const lines: string[] = [];
try {
  for (const n of SIZES) {
    await measure(n, root, lines);
    console.log(lines.slice(-4).join('\n'));
  }
} finally {
  if (!args.keep) rmSync(root, { recursive: true, force: true });
}
console.log('\n' + lines.join('\n'));
