// An s3rver of its own that checks every signature (the test stack's lets mismatched ones
// through), for the requests animal-sync signs itself (src/stores/s3-signed.ts).
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { freePort } from './stack.ts';

const require = createRequire(import.meta.url);

export interface StrictS3 {
  endpoint: string;
  close(): Promise<void>;
}

/** Serves `bucket` from `dir`, path style, on a free loopback port; sets nothing in the environment. */
export async function startStrictS3(dir: string, bucket: string): Promise<StrictS3> {
  const port = await freePort();
  const S3rver = require('@20minutes/s3rver') as new (o: Record<string, unknown>) => { run(): Promise<unknown>; close(): Promise<void>; on(e: string, f: () => void): void };
  const s = new S3rver({ address: '127.0.0.1', port, directory: path.join(dir, 's3'), silent: true, allowMismatchedSignatures: false, vhostBuckets: false, configureBuckets: [{ name: bucket }] });
  s.on('error', () => undefined);
  await s.run();
  return { endpoint: `http://127.0.0.1:${port}`, close: () => s.close() };
}

export async function bytesOf(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
