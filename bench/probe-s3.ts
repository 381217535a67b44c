// Probe (not part of the product): how s3rver's cost per PUT grows with the objects under one
// prefix. PUTs --objects small objects under the daemon's key layout (8 animals, one date:
// 1/8 of them per prefix) with --concurrency requests in flight through the product's
// ObjectStore, s3rver in a process of its own, and prints per --every objects the wall time
// and the CPU of s3rver and of this client per 1,000 PUTs.
//   node bench/probe-s3.ts [--objects 100000] [--every 10000] [--size 1024] [--concurrency 32]
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { resolveConfig } from '../src/config.ts';
import { localEnv } from '../src/local/stack.ts';
import { makeS3Client } from '../src/stores/aws.ts';
import { S3ObjectStore } from '../src/stores/s3.ts';
import { s3KeyFor } from '../src/model.ts';
import { sendBuffer } from '../src/transfer.ts';
import { freePort } from '../tests/helpers/stack.ts';
import { startServerScript } from './child.ts';
import { cpuSeconds, rssMiB } from './proc.ts';

const { values: a } = parseArgs({
  options: {
    objects: { type: 'string', default: '100000' }, every: { type: 'string', default: '10000' }, size: { type: 'string', default: '1024' },
    concurrency: { type: 'string', default: '32' }, 'max-seconds': { type: 'string', default: '600' },
  },
});
const OBJECTS = Number(a.objects);
const EVERY = Number(a.every);
const ANIMALS = ['dog', 'cat', 'bird', 'fox', 'owl', 'cow', 'pig', 'emu'];
const dir = mkdtempSync(path.join(os.tmpdir(), 'probe-s3-'));
const server = await startServerScript(path.join(import.meta.dirname, 'serve-s3.ts'), [String(await freePort()), dir, 'probe']);
const env = { ...process.env, ...localEnv(server.endpoint, 'http://127.0.0.1:1') };
Object.assign(process.env, env);
const config = resolveConfig({ env, flags: { bucket: 'probe', concurrency: a.concurrency } });
const client = makeS3Client(config);
const objects = new S3ObjectStore(client, 'probe', { partSizeBytes: config.partSizeBytes });
const body = Buffer.alloc(Number(a.size), 7);
const uploadedAt = new Date().toISOString();

console.log(`s3rver, ${a.size}-byte PUTs, ${a.concurrency} in flight, ${OBJECTS / ANIMALS.length} objects per prefix at the end`);
console.log('objects | per prefix | wall ms / 1k PUTs | s3rver CPU ms / 1k | client CPU ms / 1k | s3rver RSS MiB');
const pid = server.child.pid!;
let mark = { t: performance.now(), server: cpuSeconds(pid), client: process.cpuUsage() };
let done = 0;
let next = 0;
const deadline = Date.now() + Number(a['max-seconds']) * 1000;
const worker = async (): Promise<void> => {
  while (next < OBJECTS && Date.now() < deadline) {
    const i = next++;
    const animal = ANIMALS[i % ANIMALS.length]!;
    await sendBuffer(objects, body, s3KeyFor(animal, uploadedAt, randomUUID(), `img-${i}.png`));
    if (++done % EVERY !== 0) continue;
    const now = { t: performance.now(), server: cpuSeconds(pid), client: process.cpuUsage() };
    const per = (x: number): string => ((x / EVERY) * 1000).toFixed(0).padStart(6);
    const clientMs = (now.client.user + now.client.system - mark.client.user - mark.client.system) / 1000;
    console.log(`${String(done).padStart(7)} | ${String(done / ANIMALS.length).padStart(6)} | ${per(now.t - mark.t)} | ${per((now.server - mark.server) * 1000)} | ${per(clientMs)} | ${rssMiB(pid).now.toFixed(0)}`);
    mark = now;
  }
};
try {
  await Promise.all(Array.from({ length: Number(a.concurrency) }, worker));
  if (done < OBJECTS) console.log(`stopped at ${done} objects: --max-seconds reached`);
} finally {
  client.destroy();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
