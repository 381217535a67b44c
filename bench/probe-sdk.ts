// Probe (not part of the product): the client CPU of one small PutObject through the SDK, as
// the product sends it, against variants with parts of the SDK's middleware removed, and a
// bare node:http PUT. The server is a trivial one in a process of its own that answers 200 at
// once, so only the client's work is counted. Variants are interleaved, best of --rounds.
//   node bench/probe-sdk.ts [--requests 4000] [--rounds 3] [--size 1024]
import { spawn } from 'node:child_process';
import http from 'node:http';
import { parseArgs } from 'node:util';
import type { S3Client } from '@aws-sdk/client-s3';
import { resolveConfig } from '../src/config.ts';
import { localEnv } from '../src/local/stack.ts';
import { makeS3Client } from '../src/stores/aws.ts';
import { S3ObjectStore } from '../src/stores/s3.ts';
import { sendBuffer } from '../src/transfer.ts';
import { NODE } from './child.ts';

const { values: a } = parseArgs({ options: { requests: { type: 'string', default: '4000' }, rounds: { type: 'string', default: '3' }, size: { type: 'string', default: '1024' } } });
const REQUESTS = Number(a.requests);
const SERVER = `const s = require('node:http').createServer((q, r) => { q.resume(); q.on('end', () => { r.writeHead(200, { ETag: '"e"', 'Content-Length': 0 }); r.end(); }); });
s.listen(0, '127.0.0.1', () => console.log('ready http://127.0.0.1:' + s.address().port)); process.stdin.on('end', () => process.exit(0)); process.stdin.resume();`;
const server = spawn(NODE, ['-e', SERVER], { stdio: ['pipe', 'pipe', 'inherit'] });
const endpoint = await new Promise<string>((resolve) => server.stdout.once('data', (d: Buffer) => resolve(/ready (\S+)/.exec(String(d))![1]!)));
const env = { ...process.env, ...localEnv(endpoint, endpoint) };
Object.assign(process.env, env);
const config = resolveConfig({ env, flags: {} });
const body = Buffer.alloc(Number(a.size), 7);

const CHECKSUMS = ['flexibleChecksumsInputMiddleware', 'flexibleChecksumsMiddleware', 'flexibleChecksumsResponseMiddleware'];
const S3_EXTRAS = ['addExpectContinueMiddleware', 's3ExpressMiddleware', 'recursionDetectionMiddleware', 'validateBucketNameMiddleware', 'throw200ExceptionsMiddleware', 'ssecMiddleware'];

function client(remove: string[]): S3Client {
  const c = makeS3Client(config);
  // A command's plugins join the client's stack in the concat of each send: remove them there.
  const stack = c.middlewareStack;
  const concat = stack.concat.bind(stack);
  stack.concat = ((from: never) => {
    const joined = concat(from);
    for (const n of remove) joined.remove(n);
    return joined;
  }) as typeof stack.concat;
  return c;
}

async function viaSdk(c: S3Client): Promise<void> {
  const store = new S3ObjectStore(c, 'probe', { partSizeBytes: config.partSizeBytes });
  let next = 0;
  await Promise.all(Array.from({ length: 32 }, async () => { while (next++ < REQUESTS) await sendBuffer(store, body, `animals/dog/2026-12-02/${next}-img.png`); }));
}

async function viaHttp(): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  let next = 0;
  const put = (key: string): Promise<void> => new Promise((resolve, reject) => {
    const req = http.request(`${endpoint}/probe/${key}`, { method: 'PUT', agent, headers: { 'Content-Length': body.length, 'Content-Type': 'image/png' } }, (res) => { res.resume(); res.on('end', resolve); });
    req.on('error', reject);
    req.end(body);
  });
  await Promise.all(Array.from({ length: 32 }, async () => { while (next++ < REQUESTS) await put(`animals/dog/2026-12-02/${next}-img.png`); }));
  agent.destroy();
}

const variants: [string, () => Promise<void>][] = [
  ['SDK as the product sends it', () => viaSdk(client([]))],
  ['SDK without flexible checksums', () => viaSdk(client(CHECKSUMS))],
  [`SDK without checksums and ${S3_EXTRAS.length} S3 extras`, () => viaSdk(client([...CHECKSUMS, ...S3_EXTRAS]))],
  ['bare node:http PUT (no signing)', viaHttp],
];
const best = new Map<string, number>();
for (let r = 0; r < Number(a.rounds); r++) {
  for (const [name, run] of variants) {
    const c0 = process.cpuUsage();
    await run();
    const c = process.cpuUsage(c0);
    const us = (c.user + c.system) / REQUESTS;
    best.set(name, Math.min(best.get(name) ?? Infinity, us));
    console.log(`round ${r + 1}: ${name}: ${us.toFixed(0)} µs CPU per PUT`);
  }
}
console.log(`\nclient CPU per ${a.size}-byte PUT, best of ${a.rounds} rounds of ${REQUESTS}:`);
for (const [name, us] of best) console.log(`  ${us.toFixed(0).padStart(5)} µs  ${name}`);
server.stdin.end();
