// Dev harness (not part of the product): keeps a local stack and a 2,000-file inbox up and
// runs a first `sync --once` (fresh state dir, one shared table: DynamoDB Local slows down
// with every table created) per line read from stdin; the line, if any, prefixes the command
// (e.g. `env ANIMAL_SYNC_CONCURRENCY=16`). Usage: node bench/lab.ts
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { resolveConfig } from '../src/config.ts';
import { makeStores } from '../src/context.ts';
import { startLocalStack } from '../src/local/stack.ts';
import { ensureInbox } from '../src/inbox.ts';
import { makePng } from '../tests/helpers/png.ts';
import { BIN } from '../tests/helpers/cli.ts';
import { freePort } from '../tests/helpers/stack.ts';

const root = '/tmp/lab';
const inbox = path.join(root, 'inbox');
const ANIMALS = ['dog', 'cat', 'bird', 'fox', 'owl', 'cow', 'pig', 'emu'];
if (!existsSync(inbox)) {
  mkdirSync(inbox, { recursive: true });
  ensureInbox(inbox);
  for (let i = 0; i < 2000; i++) {
    const a = ANIMALS[i % 8]!;
    mkdirSync(path.join(inbox, a), { recursive: true });
    writeFileSync(path.join(inbox, a, `img-${i}.png`), makePng({ seed: i, padTo: 64 * 1024 }));
  }
}
const stack = await startLocalStack({ dataDir: path.join(root, 'servers'), s3Port: await freePort(), dynamodbPort: await freePort(), bucket: 'bench' });
Object.assign(process.env, stack.env);
let n = 0;
const rl = readline.createInterface({ input: process.stdin });
console.log("ready", stack.s3Endpoint, stack.dynamodbEndpoint ?? "");
for await (const line of rl) {
  const extra = line.trim() ? line.trim().split(' ') : [];
  n++;
  const env: NodeJS.ProcessEnv = { ...process.env, ANIMAL_SYNC_LOG_LEVEL: 'warn', ANIMAL_SYNC_INBOX: inbox, ANIMAL_SYNC_STATE_DIR: path.join(root, `state-${process.pid}-${n}`), ANIMAL_SYNC_BUCKET: 'bench', ANIMAL_SYNC_TABLE: "Lab" };
  const stores = makeStores(resolveConfig({ env, flags: {} }));
  await stores.items.ensureTable();
  stores.close();
  const t0 = performance.now();
  const r = await new Promise<string>((resolve) => {
    const c = spawn('/usr/bin/time', ['-f', 'MAXRSS=%M USER=%U SYS=%S', ...extra, BIN, 'sync', '--once', '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let out = '';
    c.stderr.on('data', (d: Buffer) => (err += d));
    c.stdout.on('data', (d: Buffer) => (out += d));
    c.on('close', () => { let dur: string; try { dur = `pass ${(JSON.parse(out) as { durationMs: number }).durationMs} ms`; } catch { dur = out.slice(0, 200); } resolve(dur + ' ' + err.trim().split('\n').slice(-3).join(' | ')); });
  });
  console.log(`run ${n}: ${((performance.now() - t0) / 1000).toFixed(2)} s ${r}`);
}
await stack.stop();
