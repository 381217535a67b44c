// Moves one local file into the object store and proves what went up: the sha256 of the
// bytes actually sent, and that the file did not change while it was being read.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { unreadableAsBadInput } from './errors.ts';
import type { ObjectStore } from './stores/s3.ts';

export class FileChangedError extends Error {
  override name = 'FileChangedError';
}

export interface FileSnapshot {
  size: number;
  mtimeMs: number;
}

export interface SentObject {
  sha256: string;
  size: number;
  parts: number;
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  } catch (err) {
    throw unreadableAsBadInput(err);
  }
  return hash.digest('hex');
}

export function sameSnapshot(a: FileSnapshot, b: FileSnapshot): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs;
}

async function snapshotOf(file: string): Promise<FileSnapshot> {
  const st = await stat(file);
  return { size: st.size, mtimeMs: st.mtimeMs };
}

/** One read of a whole (small) file; unreadable = bad input, not a transient failure. */
export async function readSmallFile(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw unreadableAsBadInput(err);
  }
}

/**
 * Uploads the bytes of `file` that the caller already read (`body`), hashing exactly what is
 * sent. The file's size/mtime must still be `before` afterwards, else FileChangedError.
 */
export async function sendBuffer(objects: ObjectStore, body: Buffer, key: string, opts: { file: string; before: FileSnapshot; signal?: AbortSignal }): Promise<SentObject> {
  if (body.length !== opts.before.size) throw new FileChangedError(`${opts.file} changed size while being read (${opts.before.size} -> ${body.length} bytes)`);
  const sha256 = createHash('sha256').update(body).digest('hex');
  const { parts } = await objects.put({ key, body, contentLength: body.length, sha256, signal: opts.signal });
  const after = await snapshotOf(opts.file);
  if (!sameSnapshot(opts.before, after)) throw new FileChangedError(`${opts.file} changed while being uploaded (size/mtime differ afterwards)`);
  return { sha256, size: body.length, parts };
}

/**
 * Uploads `file` to `key`. Files up to the part size are read once into memory (hash and
 * body from the same bytes); larger ones are hashed first (the hash goes into the object's
 * metadata, which S3 needs before the first part), then streamed in parts while hashed again.
 * Throws FileChangedError if the bytes or the size/mtime changed underneath; the caller
 * starts over with the same key, so the object is simply overwritten.
 */
export async function sendFile(objects: ObjectStore, file: string, key: string, opts: { partSizeBytes: number; before?: FileSnapshot; signal?: AbortSignal }): Promise<SentObject> {
  const before = opts.before ?? (await snapshotOf(file));
  let sent: SentObject;
  if (before.size <= opts.partSizeBytes) {
    return sendBuffer(objects, await readSmallFile(file), key, { file, before, signal: opts.signal });
  } else {
    const expected = await sha256File(file);
    const hash = createHash('sha256');
    let size = 0;
    const hashing = new Transform({
      transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
        hash.update(chunk);
        size += chunk.length;
        cb(null, chunk);
      },
    });
    const source = createReadStream(file, { highWaterMark: 1024 * 1024 });
    source.on('error', (err) => hashing.destroy(err));
    source.pipe(hashing);
    const { parts } = await objects.put({ key, body: hashing, sha256: expected, signal: opts.signal });
    const actual = hash.digest('hex');
    if (actual !== expected || size !== before.size) throw new FileChangedError(`${file} changed while being uploaded`);
    sent = { sha256: actual, size, parts };
  }
  const after = await snapshotOf(file);
  if (!sameSnapshot(before, after)) throw new FileChangedError(`${file} changed while being uploaded (size/mtime differ afterwards)`);
  return sent;
}
