// Helpers for catalogue tests: drift planted directly with the SDK (what the S3 console, a
// lifecycle rule or the original delete_image.py do behind the daemon's back), `check` runs,
// and counting proxies that prove what a run sent.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync, rmSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { keyOf, s3KeyFor, sortKey, type ImageItem } from '../../src/model.ts';
import { runCli, type CliResult } from './cli.ts';
import { startFaultProxy, type FaultProxy } from './fault-proxy.ts';
import type { TestStack } from './stack.ts';
import type { SyncSetup } from './sync.ts';

export interface CheckRun extends CliResult {
  json: { ok: boolean; counts: Record<string, number>; byKind: Record<string, number>; differences: { kind: string; path: string; detail: string }[] };
}

export async function runCheck(s: SyncSetup, ...args: string[]): Promise<CheckRun> {
  const r = await runCli(['check', '--json', ...args], { env: s.env, timeoutMs: 120000 });
  assert.ok(r.code === 0 || r.code === 1, `check exit ${r.code}: ${r.stderr}`);
  return { ...r, json: JSON.parse(r.stdout) as CheckRun['json'] };
}

export async function itemOf(s: SyncSetup, sourcePath: string): Promise<ImageItem> {
  const item = (await s.items([sourcePath.split('/')[0]!])).find((i) => i.source_path === sourcePath && i.source_host === s.config.hostId);
  assert.ok(item, `an item for ${sourcePath}`);
  return item;
}

export async function objectBytes(s: SyncSetup, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await s.stores.objects.get(key)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A second item (and object) for the same file, as a second uploader with a lost index would have made. */
export async function plantDuplicate(s: SyncSetup, sourcePath: string, opts: { olderBy?: number } = {}): Promise<ImageItem> {
  const item = await itemOf(s, sourcePath);
  const imageId = randomUUID();
  const uploadedAt = new Date(Date.parse(item.uploaded_at) + (opts.olderBy ? -opts.olderBy : 1000)).toISOString();
  const key = s3KeyFor(item.animal, uploadedAt, imageId, item.filename);
  await s.stores.objects.put({ key, body: await objectBytes(s, item.s3_key), sha256: item.sha256, metadata: { 'source-host': s.config.hostId } });
  const dup: ImageItem = { ...item, image_id: imageId, uploaded_at: uploadedAt, sort_key: sortKey(uploadedAt, imageId), s3_key: key, updated_at: uploadedAt };
  await s.stores.items.putNew(dup);
  return dup;
}

/** An item as the original boto3 scripts wrote it: no source_host, size, sha256 or version; microseconds. */
export async function plantBoto3Item(s: SyncSetup, animal: string): Promise<Record<string, unknown>> {
  const imageId = randomUUID();
  const uploadedAt = '2026-02-19T16:31:30.970876Z';
  const item = {
    partition_key: `ANIMAL#${animal}`, sort_key: `IMG#${uploadedAt}#${imageId}`, image_id: imageId, animal, s3_bucket: s.config.bucket,
    s3_key: `animals/${animal}/2026-02-19/${imageId}-old.png`, filename: 'old.png', content_type: 'image/png', uploaded_at: uploadedAt,
  };
  await s.stores.objects.put({ key: item.s3_key, body: Buffer.from('not even a png, written by another tool') });
  await s.stores.items.putNew(item as unknown as ImageItem);
  return item;
}

/** s3rver takes an object's LastModified from its file's mtime: backdating it ages the object. */
export function ageObject(stack: TestStack, bucket: string, key: string, ageMs: number): void {
  const base = path.basename(key);
  const find = (dir: string): string | undefined => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        const hit = find(p);
        if (hit) return hit;
      } else if (e.name === `${base}._S3rver_object`) return p;
    }
    return undefined;
  };
  const file = find(path.join(stack.dataDir, 's3', bucket));
  assert.ok(file, `s3rver's file for ${key}`);
  const t = new Date(Date.now() - ageMs);
  utimesSync(file, t, t);
}

export async function deleteItem(s: SyncSetup, item: ImageItem): Promise<void> {
  await s.stores.items.delete(keyOf(item));
}

/** Proxies in front of both stores that only count: every request of a run, by operation. */
export async function countingProxies(stack: TestStack): Promise<{ s3: FaultProxy; dynamodb: FaultProxy; env: Record<string, string>; ops(): Record<string, number>; stop(): Promise<void> }> {
  const s3 = await startFaultProxy(stack.s3Endpoint);
  const dynamodb = await startFaultProxy(stack.dynamodbEndpoint);
  return {
    s3, dynamodb,
    env: { AWS_ENDPOINT_URL_S3: s3.url, AWS_ENDPOINT_URL_DYNAMODB: dynamodb.url },
    ops() {
      const out: Record<string, number> = {};
      for (const e of [...s3.events, ...dynamodb.events]) out[e.op] = (out[e.op] ?? 0) + 1;
      return out;
    },
    async stop() {
      await s3.stop();
      await dynamodb.stop();
    },
  };
}

export const WRITE_OPS = ['PutObject', 'CreateMultipartUpload', 'UploadPart', 'CompleteMultipartUpload', 'PutItem', 'BatchWriteItem', 'TransactWriteItems', 'UpdateItem', 'DeleteItem', 'DeleteObject'];

export function writesIn(ops: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(ops).filter(([op]) => WRITE_OPS.includes(op)));
}

/** Removes a setup's folders (state, inbox, config file) when the test ends, passed or failed. */
export function removeAfter(t: { after(fn: () => void): void }, s: SyncSetup, ...more: string[]): void {
  t.after(() => {
    for (const p of [s.config.stateDir, s.configFile, ...more]) rmSync(p, { recursive: true, force: true });
  });
}
