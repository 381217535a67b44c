// Thumbnails made on demand with sharp (libvips) and cached on disk, keyed by content. Memory
// stays bounded whatever the picture's size: sharp buffers a stream input whole, so a large
// object is first streamed to a temporary file, which libvips then decodes sequentially (a few
// rows at a time) while it shrinks it.
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import PQueue from 'p-queue';
import { HttpError } from './http-error.ts';

/** Edge of the square thumbnail, in pixels: a grid cell of up to 180 CSS px at 2x. */
export const THUMB_EDGE = 360;
/** sharp's own default (0x3FFF squared): larger pictures are not previewed, only linked. */
export const MAX_INPUT_PIXELS = 0x3fff * 0x3fff;
/** Objects up to this size are decoded from memory; larger ones go through a temp file. */
const IN_MEMORY_LIMIT = 16 * 1024 * 1024;
/** Thumbnails kept in memory as well (most recently served first): ~1000 of them. */
const MEMORY_BYTES = 32 * 1024 * 1024;

export interface ObjectSource {
  body: Readable;
  size: number | undefined;
}

type Sharp = typeof import('sharp').default;
let sharpModule: Promise<Sharp> | undefined;

/** Loaded on the first thumbnail: `local` without a browser never pays for libvips. */
function loadSharp(): Promise<Sharp> {
  return (sharpModule ??= import('sharp').then((m) => {
    const sharp = m.default;
    // Thumbnails are cached on disk; libvips' operation cache would only hold memory.
    sharp.cache(false);
    return sharp;
  }));
}

/** The cache file's name: letters, digits and "-" only, whatever the key is made of. */
export function cacheFileName(key: string): string {
  return key.replace(/[^A-Za-z0-9-]+/g, '_').slice(0, 160) + `-${THUMB_EDGE}.webp`;
}

async function readAll(body: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of body) {
    n += (chunk as Buffer).length;
    if (n > limit) throw new Error(`object larger than its stated size (${limit} bytes)`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export class ThumbnailCache {
  readonly dir: string;
  private readonly queue: PQueue;
  private readonly making = new Map<string, Promise<string>>();
  private readonly memory = new Map<string, Buffer>();
  private memoryBytes = 0;

  constructor(dir: string, opts: { concurrency?: number } = {}) {
    this.dir = dir;
    // libvips uses every core for one image already: a few at a time keeps memory bounded.
    this.queue = new PQueue({ concurrency: opts.concurrency ?? 2 });
  }

  /**
   * The thumbnail's bytes: from memory (the most recent MEMORY_BYTES of them), else from the
   * disk cache, else made from `open()`. A grid of 200 then costs no file-system call.
   */
  async bytes(key: string, open: () => Promise<ObjectSource>): Promise<Buffer> {
    const hit = this.memory.get(key);
    if (hit) {
      this.memory.delete(key);
      this.memory.set(key, hit);
      return hit;
    }
    const body = await readFile(await this.file(key, open));
    this.memory.set(key, body);
    this.memoryBytes += body.length;
    for (const [k, b] of this.memory) {
      if (this.memoryBytes <= MEMORY_BYTES) break;
      this.memory.delete(k);
      this.memoryBytes -= b.length;
    }
    return body;
  }

  /** The path of the cached thumbnail for `key`, made from `open()` the first time. */
  async file(key: string, open: () => Promise<ObjectSource>): Promise<string> {
    const file = path.join(this.dir, cacheFileName(key));
    if (await stat(file).then(() => true, () => false)) return file;
    let p = this.making.get(file);
    if (!p) {
      p = this.queue.add(() => this.make(file, open)).finally(() => this.making.delete(file));
      this.making.set(file, p);
    }
    return p;
  }

  private async make(file: string, open: () => Promise<ObjectSource>): Promise<string> {
    const sharp = await loadSharp();
    await mkdir(this.dir, { recursive: true });
    const tmp = path.join(this.dir, `.tmp-${randomBytes(6).toString('hex')}`);
    const source = await open();
    let input: Buffer | string;
    try {
      if (source.size !== undefined && source.size <= IN_MEMORY_LIMIT) {
        input = await readAll(source.body, source.size);
      } else {
        await pipeline(source.body, createWriteStream(tmp + '.src'));
        input = tmp + '.src';
      }
      await sharp(input, { limitInputPixels: MAX_INPUT_PIXELS, sequentialRead: true, failOn: 'error' })
        .resize(THUMB_EDGE, THUMB_EDGE, { fit: 'cover' })
        .webp({ quality: 78 })
        .toFile(tmp);
      await rename(tmp, file);
      return file;
    } catch (err) {
      const message = (err as Error).message ?? String(err);
      if (/pixel limit/i.test(message)) throw new HttpError(422, `picture too large to preview (over ${MAX_INPUT_PIXELS} pixels); open it instead`);
      if (/unsupported image format|vips|png|corrupt|bad/i.test(message)) throw new HttpError(422, 'cannot make a thumbnail: the object is not a readable image');
      throw err;
    } finally {
      source.body.destroy();
      await rm(tmp, { force: true });
      await rm(tmp + '.src', { force: true });
    }
  }
}
