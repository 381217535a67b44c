// The upload steps of one file: journal the intent with its final keys, send the bytes,
// then write the item (object first, so no item ever points at a missing object) and record
// the row as synced.
import { randomUUID } from 'node:crypto';
import type { Config } from '../config.ts';
import { isConditionalFailure } from '../errors.ts';
import type { Logger } from '../log.ts';
import { buildItem, s3KeyFor, type ImageItem } from '../model.ts';
import { inspectPngFile, parsePngBuffer } from '../png.ts';
import type { ItemStore } from '../stores/dynamodb.ts';
import type { ObjectStore } from '../stores/s3.ts';
import { SOURCE_HOST_METADATA, uploadHoldsBytes } from '../stores/s3-parts.ts';
import { BufferPool, FileChangedError, readSmallFile, sendBuffer, sendFile, type ReadBody } from '../transfer.ts';
import { ByteBudget } from './byte-budget.ts';
import type { IndexRow, SyncIndex } from './index-db.ts';
import { ItemBatcher } from './item-batcher.ts';
import type { LocalFile } from './scanner.ts';

export interface UploadHooks {
  onUploaded?(e: { sourcePath: string; bytes: number; changed: boolean; latencyMs: number }): void;
}

export interface UploadDeps {
  config: Config;
  index: SyncIndex;
  objects: ObjectStore;
  items: ItemStore;
  log: Logger;
  hooks?: UploadHooks;
  now: () => number;
}

export type UploadReason = 'new' | 'resume' | 'changed';

/**
 * `restart`: the file changed or vanished under the upload; look at it again. `finish`: the
 * object is up and the item write is batched with others (the caller waits for it outside
 * the transfer queue).
 */
export type UploadResult = 'uploaded' | 'updated' | 'restart' | { finish: Promise<'uploaded' | 'updated'> };

export class Uploader {
  private readonly d: UploadDeps;
  private readonly batcher: ItemBatcher;
  /** Read buffers of small files, reused across uploads (see BufferPool). */
  private readonly buffers: BufferPool;
  /** File bytes held by transfers in flight. */
  private readonly memory: ByteBudget;
  private abort = new AbortController();

  constructor(deps: UploadDeps) {
    this.d = deps;
    // The index rows of a written batch are committed together (one commit instead of 100).
    this.batcher = new ItemBatcher(deps.items, { group: (fn) => deps.index.transaction(fn) });
    this.buffers = new BufferPool({ maxPerClass: deps.config.concurrency, maxBytes: 16 * 1024 * 1024 });
    this.memory = new ByteBudget(deps.config.memoryBudgetMib * 1024 * 1024);
  }

  /** Aborts the transfers in flight (the grace time of a shutdown ran out). */
  abortInFlight(): void {
    this.abort.abort();
    this.abort = new AbortController();
  }

  async upload(file: LocalFile, row: IndexRow | undefined, reason: UploadReason): Promise<UploadResult> {
    const { partSizeBytes } = this.d.config;
    const release = await this.memory.acquire(uploadHoldsBytes(file.size, partSizeBytes));
    try {
      return file.size <= partSizeBytes ? await this.uploadSmall(file, row, reason) : await this.uploadRead(file, row, reason, undefined);
    } finally {
      release();
    }
  }

  /** A small file is read once: the same bytes are checked as a PNG, hashed and sent. */
  private async uploadSmall(file: LocalFile, row: IndexRow | undefined, reason: UploadReason): Promise<UploadResult> {
    let read: ReadBody;
    try {
      read = await readSmallFile(file.absPath, file, this.buffers);
    } catch (err) {
      // Changed or gone since it was looked at: look again.
      if (err instanceof FileChangedError || (err as NodeJS.ErrnoException).code === 'ENOENT') return 'restart';
      throw err;
    }
    // Back to the pool only after a normal return (sent, or never sent): a send that threw may
    // leave the bytes with a socket being torn down, so that buffer is left to the GC.
    const result = await this.uploadRead(file, row, reason, read.body);
    this.buffers.give(read.buffer);
    return result;
  }

  /** The intent with its final keys, committed before the first byte goes to S3. */
  private async journal(file: LocalFile, row: IndexRow | undefined): Promise<IndexRow> {
    const { index } = this.d;
    if (row) return row.state === 'uploading' ? row : index.putSoon({ ...row, state: 'uploading' });
    const imageId = randomUUID();
    const uploadedAt = new Date(this.d.now()).toISOString();
    // Committed with the intents of the other uploads that got here in this turn (one commit).
    return index.putSoon({
      source_path: file.sourcePath, animal: file.animal, filename: file.filename, image_id: imageId, uploaded_at: uploadedAt,
      s3_key: s3KeyFor(file.animal, uploadedAt, imageId, file.filename),
      size: null, mtime_ms: null, sha256: null, width: null, height: null, version: 0, state: 'uploading',
    });
  }

  /** The upload of a file whose bytes are `small` (read already) or to be streamed. */
  private async uploadRead(file: LocalFile, row: IndexRow | undefined, reason: UploadReason, small: Buffer | undefined): Promise<UploadResult> {
    const { config, index, objects, hooks } = this.d;
    // Rejects non-PNG content before anything is journaled or sent.
    const png = small ? { ...parsePngBuffer(small), size: small.length } : await inspectPngFile(file.absPath);
    if (png.size !== file.size) return 'restart';
    const intent = await this.journal(file, row);
    // The object names its host: a repair may remove an orphan only when it is this host's own.
    const send = { signal: this.abort.signal, metadata: { [SOURCE_HOST_METADATA]: config.hostId } };
    let sent;
    try {
      sent = small
        ? await sendBuffer(objects, small, intent.s3_key, send)
        : await sendFile(objects, file.absPath, intent.s3_key, { ...send, partSizeBytes: config.partSizeBytes, before: { size: file.size, mtimeMs: file.mtimeMs } });
    } catch (err) {
      // A failed send of bytes in memory always throws: uploadSmall then keeps its buffer out of the pool.
      if (small) throw err;
      if (err instanceof FileChangedError) return 'restart';
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'restart';
      throw err;
    }
    const nextVersion = intent.version + 1;
    const item = buildItem({
      animal: intent.animal, imageId: intent.image_id, uploadedAt: intent.uploaded_at, bucket: objects.bucket, s3Key: intent.s3_key,
      filename: intent.filename, sizeBytes: sent.size, sha256: sent.sha256, width: png.width, height: png.height,
      sourceHost: config.hostId, sourcePath: file.sourcePath, version: nextVersion,
      // A first version carries uploaded_at as updated_at, so a repeated insert after a crash
      // writes byte-identical attributes.
      updatedAt: nextVersion === 1 ? intent.uploaded_at : new Date(this.d.now()).toISOString(),
    });
    const record = (written: number): 'uploaded' | 'updated' => {
      index.put({
        ...intent, state: 'synced', size: sent.size, mtime_ms: file.mtimeMs, sha256: sent.sha256,
        width: png.width, height: png.height, version: written, attempts: 0, last_error: null, last_error_at: null,
      });
      hooks?.onUploaded?.({ sourcePath: file.sourcePath, bytes: sent.size, changed: intent.version > 0, latencyMs: this.d.now() - file.mtimeMs });
      return intent.version > 0 ? 'updated' : 'uploaded';
    };
    if (intent.version === 0 && reason !== 'changed') {
      const finished = this.batcher.put(item, () => record(item.version));
      finished.catch(() => undefined); // handled by the caller; never an unhandled rejection
      // Wrapped: an async function returning a bare promise would wait for it.
      return { finish: finished };
    }
    return record(await this.writeChange(item, intent.version));
  }

  /**
   * MODIFY with a condition on the previous version. A retry whose first response was lost
   * finds its own write and accepts it; an item changed or removed behind our back is
   * replaced, because the local file of its owning host is the truth. Returns the version written.
   */
  private async writeChange(item: ImageItem, expectedVersion: number): Promise<number> {
    const { items } = this.d;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        if (expectedVersion === 0) await items.putNew(item);
        else await items.putReplace(item, expectedVersion);
        return item.version;
      } catch (err) {
        if (!isConditionalFailure(err)) throw err;
        const current = await items.get(item);
        if (current && current.version === item.version && current.sha256 === item.sha256 && current.image_id === item.image_id) return item.version;
        if (!current) {
          expectedVersion = 0;
          continue;
        }
        this.d.log.warn({ path: item.source_path, expected: expectedVersion, found: current.version }, 'item changed remotely; replacing it with the local file');
        expectedVersion = current.version;
        item = { ...item, version: current.version + 1 };
      }
    }
    throw new Error(`item for ${item.source_path} keeps changing remotely; will retry`);
  }
}
