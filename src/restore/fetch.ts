// Downloads one item's object into a temp file and checks what can be checked: the bytes
// against the response's Content-Length, the item's size_bytes and sha256 when it has them,
// and the ETag when it is a plain MD5 (a multipart ETag, with a "-", is not a hash of the
// bytes). Items of the original scripts have no sha256: they come back `verified: false`.
import { createHash } from 'node:crypto';
import { closeSync, createWriteStream, open, writevSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { finished, Transform, type Readable } from 'node:stream';
import { promisify } from 'node:util';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { IntegrityError, isTransient, NotFoundError } from '../errors.ts';
import type { CatalogueItem } from '../model.ts';
import type { ObjectBody } from '../stores/catalogue-reader.ts';

/** Bodies up to this size are checked in memory before anything is written. */
const IN_MEMORY_MAX = 1024 * 1024;

/** Where objects are read from: the catalogue reader (the SDK), or restore's ObjectGetter. */
export interface ObjectSource {
  /** The configured bucket, for items that name none. */
  readonly bucket: string;
  /** null when the object (or its bucket) does not exist. */
  getObject(bucket: string, key: string, signal?: AbortSignal): Promise<ObjectBody | null>;
}

export class ObjectMissingError extends NotFoundError {
  override name = 'ObjectMissingError';
}

/** The body ended before Content-Length bytes arrived: worth another try. */
class ShortBodyError extends Error {
  override name = 'ShortBodyError';
}

export interface Fetched {
  size: number;
  sha256: string;
  /** True when the bytes were checked against the item's sha256. */
  verified: boolean;
  /** What was checked, for the message: "sha256", "size and MD5", "size". */
  checked: string;
}

export function objectLocation(item: CatalogueItem, defaultBucket: string): { bucket: string; key: string } {
  if (item.s3_key === undefined) throw new ObjectMissingError(`item ${item.sort_key} has no s3_key: there is no object to download`);
  return { bucket: item.s3_bucket ?? defaultBucket, key: item.s3_key };
}

function plainMd5(etag: string | undefined): string | undefined {
  const m = etag === undefined ? null : /^"?([0-9a-f]{32})"?$/i.exec(etag);
  return m ? m[1]!.toLowerCase() : undefined;
}

const openNew = promisify((file: string, cb: (err: NodeJS.ErrnoException | null, fd: number) => void) => open(file, 'wx', cb));

/**
 * One open, one writev, one close. The open creates a file, which can take milliseconds on a
 * busy disk: it runs in the thread pool, so the downloads go on meanwhile. The writev and close
 * of a small body into the page cache take microseconds: synchronous, they cost less CPU than
 * thread-pool round trips.
 */
async function writeNewFile(file: string, chunks: Buffer[]): Promise<void> {
  const fd = await openNew(file);
  try {
    let pending = chunks;
    while (pending.length > 0) {
      let written = writevSync(fd, pending);
      const rest: Buffer[] = [];
      for (const c of pending) {
        if (written >= c.length) written -= c.length;
        else {
          rest.push(c.subarray(written));
          written = 0;
        }
      }
      pending = rest;
    }
  } finally {
    closeSync(fd);
  }
}

/** The body's chunks, by 'data' events (cheaper than an async iterator); a cut-off body rejects. */
function readAll(body: Readable, see: (chunk: Buffer) => void): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    body.on('data', (chunk: Buffer) => {
      see(chunk);
      chunks.push(chunk);
    });
    finished(body, (err) => (err ? reject(err) : resolve(chunks)));
  });
}

async function fetchOnce(source: ObjectSource, item: CatalogueItem, temp: string, signal: AbortSignal | undefined): Promise<Fetched> {
  const { bucket, key } = objectLocation(item, source.bucket);
  const obj = await source.getObject(bucket, key, signal);
  if (!obj) throw new ObjectMissingError(`object s3://${bucket}/${key} is missing (item ${item.sort_key})`);
  const sha = createHash('sha256');
  const md5sum = item.sha256 === undefined ? plainMd5(obj.etag) : undefined;
  const md5 = md5sum === undefined ? undefined : createHash('md5');
  let size = 0;
  const see = (chunk: Buffer): void => {
    sha.update(chunk);
    md5?.update(chunk);
    size += chunk.length;
  };
  const check = (): Fetched => {
    if (obj.size !== undefined && size !== obj.size) throw new ShortBodyError(`s3://${bucket}/${key}: got ${size} of ${obj.size} bytes`);
    const sha256 = sha.digest('hex');
    const where = `s3://${bucket}/${key}`;
    if (item.size_bytes !== undefined && size !== item.size_bytes) throw new IntegrityError(`${where} has ${size} bytes, its item says ${item.size_bytes}`);
    if (item.sha256 !== undefined && sha256 !== item.sha256.toLowerCase()) throw new IntegrityError(`${where} has sha256 ${sha256}, its item says ${item.sha256}`);
    const gotMd5 = md5?.digest('hex');
    if (gotMd5 !== undefined && gotMd5 !== md5sum) throw new IntegrityError(`${where} has MD5 ${gotMd5}, its ETag says ${md5sum}`);
    return { size, sha256, verified: item.sha256 !== undefined, checked: item.sha256 !== undefined ? 'sha256' : md5 ? 'size and MD5' : 'size' };
  };
  if (obj.size !== undefined && obj.size <= IN_MEMORY_MAX) {
    const chunks = await readAll(obj.body, see);
    const result = check();
    await writeNewFile(temp, chunks);
    return result;
  }
  const hashing = new Transform({ transform(chunk: Buffer, _e, cb) { see(chunk); cb(null, chunk); } });
  await pipeline(obj.body, hashing, createWriteStream(temp, { flags: 'wx' }), { signal });
  return check();
}

function isRetryable(err: unknown): boolean {
  if (err instanceof ObjectMissingError) return false;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EROFS' || code === 'EACCES' || code === 'EDQUOT') return false;
  return err instanceof IntegrityError || err instanceof ShortBodyError || isTransient(err) || code === 'ERR_STREAM_PREMATURE_CLOSE' || (err as Error).message === 'aborted';
}

/**
 * fetchOnce with retries: the SDK retries a request that fails before its body, but a body cut
 * off halfway (or corrupted on the way) is only noticed here. The temp file never survives a
 * failed attempt.
 */
export async function fetchVerified(source: ObjectSource, item: CatalogueItem, temp: string, opts: { attempts: number; retryBaseMs: number; signal?: AbortSignal }): Promise<Fetched> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetchOnce(source, item, temp, opts.signal);
    } catch (err) {
      await rm(temp, { force: true });
      if (attempt >= opts.attempts || !isRetryable(err) || opts.signal?.aborted) {
        if (attempt > 1 && err instanceof Error) err.message += ` (after ${attempt} attempts)`;
        throw err;
      }
      await sleep(Math.min(opts.retryBaseMs * 2 ** (attempt - 1), 10_000), undefined, { signal: opts.signal }).catch(() => undefined);
    }
  }
}
