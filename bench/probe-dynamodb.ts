// Probe (not part of the product): how DynamoDB Local's cost per item grows with the table.
// Writes --items items like the daemon's (same store code, same request kinds, two requests
// in flight like ItemBatcher) into a fresh DynamoDB Local and prints, per --every items, the
// wall time and the CPU of the JVM and of this client per 1,000 items. CPU holds on a busy
// machine; wall time does not.
//   node bench/probe-dynamodb.ts --store disk|memory --mode transact|batch [--items 100000]
//        [--every 10000] [--no-stream] [--max-seconds 600]
//        [--pre-tables K --pre-items M [--drop-pre]]: first fill K other tables of M items each (and drop them)
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CreateTableCommand, DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { resolveConfig } from '../src/config.ts';
import { startDynamoLocal } from '../src/local/dynamodb-local.ts';
import { localEnv } from '../src/local/stack.ts';
import { makeDocumentClient, makeDynamoClient } from '../src/stores/aws.ts';
import { DynamoItemStore } from '../src/stores/dynamodb.ts';
import { buildItem, s3KeyFor, type ImageItem } from '../src/model.ts';
import { freePort } from '../tests/helpers/stack.ts';
import { cpuSeconds, rssMiB } from './proc.ts';

const { values: a } = parseArgs({
  options: {
    store: { type: 'string', default: 'disk' }, mode: { type: 'string', default: 'transact' }, items: { type: 'string', default: '100000' },
    every: { type: 'string', default: '10000' }, 'no-stream': { type: 'boolean', default: false }, 'max-seconds': { type: 'string', default: '600' },
    'in-flight': { type: 'string', default: '2' }, 'pre-tables': { type: 'string', default: '0' }, 'pre-items': { type: 'string', default: '20000' },
    'drop-pre': { type: 'boolean', default: false },
  },
});
const ITEMS = Number(a.items);
const EVERY = Number(a.every);
const mode = a.mode === 'batch' ? 'batch' : 'transact';
const ANIMALS = ['dog', 'cat', 'bird', 'fox', 'owl', 'cow', 'pig', 'emu'];

const dir = mkdtempSync(path.join(os.tmpdir(), 'probe-ddb-'));
const ddb = await startDynamoLocal({ port: await freePort(), dataDir: a.store === 'memory' ? null : dir, scratchDir: path.join(dir, 'jvm-tmp') });
const env = { ...process.env, ...localEnv('http://127.0.0.1:1', ddb.endpoint) };
Object.assign(process.env, env);
const config = resolveConfig({ env, flags: { table: 'Probe' } });
const raw = makeDynamoClient(config);
const doc = makeDocumentClient(raw);

async function createTable(name: string): Promise<DynamoItemStore> {
  await raw.send(new CreateTableCommand({
    TableName: name,
    AttributeDefinitions: [{ AttributeName: 'partition_key', AttributeType: 'S' }, { AttributeName: 'sort_key', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'partition_key', KeyType: 'HASH' }, { AttributeName: 'sort_key', KeyType: 'RANGE' }],
    BillingMode: 'PAY_PER_REQUEST',
    ...(a['no-stream'] ? {} : { StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' } }),
  }));
  return new DynamoItemStore(raw, doc, name, { itemWrites: mode });
}

/** Writes items [from, to) into `target`, two requests in flight; `onBatch` after each. */
async function fill(target: DynamoItemStore, from: number, to: number, onBatch: () => void = () => undefined): Promise<void> {
  let next = from;
  const worker = async (): Promise<void> => {
    while (next < to && Date.now() < deadline) {
      const batch: ImageItem[] = [];
      for (let k = 0; k < target.putManyLimit && next < to; k++) batch.push(item(next++));
      await target.putMany(batch);
      written += batch.length;
      onBatch();
    }
  };
  await Promise.all(Array.from({ length: Number(a['in-flight']) }, worker));
}

function item(i: number): ImageItem {
  const animal = ANIMALS[i % ANIMALS.length]!;
  const imageId = randomUUID();
  const uploadedAt = new Date(Date.UTC(2026, 0, 1) + i).toISOString();
  const filename = `img-${i}.png`;
  return buildItem({
    animal, imageId, uploadedAt, bucket: 'bench', s3Key: s3KeyFor(animal, uploadedAt, imageId, filename), filename, sizeBytes: 1024,
    sha256: 'ab'.repeat(32), width: 16, height: 16, sourceHost: 'probe', sourcePath: `${animal}/${filename}`, version: 1, updatedAt: uploadedAt,
  });
}

const deadline = Date.now() + Number(a['max-seconds']) * 1000;
let written = 0;
for (let k = 0; k < Number(a['pre-tables']); k++) {
  const t0 = performance.now();
  const cpu0 = cpuSeconds(ddb.pid);
  await fill(await createTable(`Pre${k}`), 0, Number(a['pre-items']));
  if (a['drop-pre']) await raw.send(new DeleteTableCommand({ TableName: `Pre${k}` }));
  const perK = (x: number): string => ((x / Number(a['pre-items'])) * 1000).toFixed(0);
  console.log(`table Pre${k}: ${a['pre-items']} items, wall ${perK(performance.now() - t0)} ms / 1k, JVM CPU ${perK((cpuSeconds(ddb.pid) - cpu0) * 1000)} ms / 1k${a['drop-pre'] ? ', then dropped' : ''}`);
}
written = 0;
const store = await createTable('Probe');
console.log(`DynamoDB Local ${a.store === 'memory' ? '-inMemory' : '-dbPath'}, ${mode} of ${store.putManyLimit}, stream ${a['no-stream'] ? 'off' : 'on'}, ${a['in-flight']} requests in flight`);
console.log('items in table | wall ms / 1k items | JVM CPU ms / 1k | client CPU ms / 1k | JVM RSS MiB');
let mark = { t: performance.now(), jvm: cpuSeconds(ddb.pid), client: process.cpuUsage() };
const report = (): void => {
  const now = { t: performance.now(), jvm: cpuSeconds(ddb.pid), client: process.cpuUsage() };
  const per = (x: number): string => ((x / EVERY) * 1000).toFixed(0).padStart(6);
  const clientMs = (now.client.user + now.client.system - mark.client.user - mark.client.system) / 1000;
  console.log(`${String(written).padStart(14)} | ${per(now.t - mark.t)} | ${per((now.jvm - mark.jvm) * 1000)} | ${per(clientMs)} | ${rssMiB(ddb.pid).now.toFixed(0)}`);
  mark = now;
};
let reported = 0;
const onBatch = (): void => {
  if (Math.floor(written / EVERY) > reported) {
    reported = Math.floor(written / EVERY);
    report();
  }
};
try {
  await fill(store, 0, ITEMS, onBatch);
  if (written < ITEMS) console.log(`stopped at ${written} items: --max-seconds reached`);
} finally {
  raw.destroy();
  await ddb.stop();
  rmSync(dir, { recursive: true, force: true });
}
