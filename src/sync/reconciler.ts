// Executes plans: looks at a path as it is now, asks the planner what to do, and does it
// against the stores, journaling every intent in the index first. Work on one path is
// serialized (PathLock); many paths run in parallel (p-queue).
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import PQueue from 'p-queue';
import type { Config } from '../config.ts';
import { BadInputError, errorMessage, isConditionalFailure, isTransient } from '../errors.ts';
import { hasMarker } from '../inbox.ts';
import type { Logger } from '../log.ts';
import { buildItem, partitionKey, s3KeyFor, sortKey, type ImageItem } from '../model.ts';
import { inspectPngFile, parsePngBuffer } from '../png.ts';
import type { ItemStore } from '../stores/dynamodb.ts';
import type { ObjectStore } from '../stores/s3.ts';
import { BufferPool, FileChangedError, PART_QUEUE_SIZE, readSmallFile, sendBuffer, sendFile, sha256File, type ReadBody } from '../transfer.ts';
import type { IndexRow, LastReconcile, PassCounts, SyncIndex } from './index-db.ts';
import { ByteBudget } from './byte-budget.ts';
import { ItemBatcher } from './item-batcher.ts';
import { PathLock } from './path-lock.ts';
import { deleteBlockReason, planAction, type Action, type LocalState } from './planner.ts';
import { inspectSourcePath, scanInbox, type LocalFile, type Skipped } from './scanner.ts';

export type PathOutcome =
  | { kind: 'uploaded' | 'updated' | 'unchanged' | 'deleted' | 'nothing' }
  /** The object is up; the item write (batched) finishes outside the transfer queue. */
  | { kind: 'finishing'; finish: Promise<'uploaded' | 'updated'> }
  | { kind: 'skipped'; reason: string }
  | { kind: 'delete-pending' }
  /** Not started: the reconciler was closed (shutdown). */
  | { kind: 'cancelled' }
  | { kind: 'failed'; error: string; transient: boolean }
  | { kind: 'planned'; action: Action; path: string };

export interface SyncHooks {
  onUploaded?(e: { sourcePath: string; bytes: number; changed: boolean; latencyMs: number }): void;
  onDeleted?(sourcePath: string): void;
  onFailed?(sourcePath: string, error: string): void;
  onProgress?(e: { done: number; total: number; bytes: number }): void;
  onQueue?(e: { queued: number; inFlight: number }): void;
}

export interface ReconcilerDeps {
  config: Config;
  index: SyncIndex;
  objects: ObjectStore;
  items: ItemStore;
  log: Logger;
  hooks?: SyncHooks;
  /** Wall clock in ms; injectable for tests. */
  now?: () => number;
}

export interface PassOptions {
  force?: boolean;
  dryRun?: boolean;
  /** Extra rounds for paths that failed with a transient error. */
  retryRounds?: number;
  /** Paths the scan skipped, logged once each. */
  skipped?: Skipped[];
  /** What the scan found at these paths (its lstat), used instead of a second look on the first round. */
  seen?: ReadonlyMap<string, LocalFile>;
}

interface ReconcileOptions {
  dryRun?: boolean;
  /** The path as a scan just saw it; it is looked at again on any restart. */
  seen?: LocalFile;
}

export interface PassResult extends PassCounts {
  /** Deletes the guard held back, and why. */
  deletesBlocked: number;
  deleteBlockReason: string | null;
  /** The paths of those deletes (a retry of the failed uploads must carry them too). */
  heldDeletes: string[];
  failures: { path: string; error: string }[];
  plan: { path: string; action: Action }[];
  durationMs: number;
}

const MAX_CHANGED_RESTARTS = 5;

type UploadResult = 'uploaded' | 'updated' | 'restart' | { finish: Promise<'uploaded' | 'updated'> };

/** What `status` shows of a finished pass. */
export function lastReconcileOf(r: PassResult, finishedAt = new Date()): LastReconcile {
  return {
    finishedAt: finishedAt.toISOString(), durationMs: r.durationMs, uploaded: r.uploaded, updated: r.updated, deleted: r.deleted,
    unchanged: r.unchanged, skipped: r.skipped, failed: r.failed, ok: r.failed === 0 && r.deletesBlocked === 0,
  };
}

export class Reconciler {
  readonly queue: PQueue;
  private readonly locks = new PathLock();
  private readonly batcher: ItemBatcher;
  /** Read buffers of small files, reused across uploads (see BufferPool). */
  private readonly buffers: BufferPool;
  /** File bytes held by transfers in flight. */
  private readonly memory: ByteBudget;
  private readonly d: ReconcilerDeps;
  private readonly now: () => number;
  /** path -> reason last logged, so a skipped file is logged once, not on every scan. */
  private readonly skipLog = new Map<string, string>();
  private abort = new AbortController();
  private closed = false;
  /** Aborted by close(): retry waits end at once on shutdown. */
  private readonly closing = new AbortController();

  constructor(deps: ReconcilerDeps) {
    this.d = deps;
    this.now = deps.now ?? Date.now;
    this.queue = new PQueue({ concurrency: deps.config.concurrency });
    // The index rows of a written batch are committed together (one commit instead of 100).
    this.batcher = new ItemBatcher(deps.items, { mode: deps.config.itemWriteMode, group: (fn) => deps.index.transaction(fn) });
    this.buffers = new BufferPool({ maxPerClass: deps.config.concurrency, maxBytes: 16 * 1024 * 1024 });
    this.memory = new ByteBudget(deps.config.memoryBudgetMib * 1024 * 1024);
    const report = (): void => deps.hooks?.onQueue?.({ queued: this.queue.size, inFlight: this.queue.pending });
    this.queue.addEventListener('active', report);
    this.queue.addEventListener('next', report);
  }

  /** Queued work that has not started yet is dropped; running work goes on. */
  close(): void {
    this.closed = true;
    this.closing.abort();
  }

  /** Aborts in-flight transfers (used when the grace time of a shutdown runs out). */
  abortInFlight(): void {
    this.abort.abort();
    this.abort = new AbortController();
  }

  logSkip(s: Skipped): void {
    if (this.skipLog.get(s.path) === s.reason) return;
    this.skipLog.set(s.path, s.reason);
    this.d.log.warn({ path: s.path, reason: s.reason }, `skipped ${s.path}: ${s.reason}`);
  }

  private forgetSkip(path: string): void {
    this.skipLog.delete(path);
  }

  /** Reconciles one path now (serialized with any other work on it). Deletes are not made: they come back as delete-pending. */
  reconcile(sourcePath: string, opts: ReconcileOptions = {}): Promise<PathOutcome> {
    return this.locks.run(sourcePath, async () => {
      const outcome = await this.queue.add(() => this.reconcileNow(sourcePath, opts));
      if (outcome.kind !== 'finishing') return outcome;
      // The transfer slot is free again while the item write is batched with others; the
      // path stays locked until the item is written and the index row says synced.
      try {
        return { kind: await outcome.finish };
      } catch (err) {
        return this.failure(sourcePath, err, false);
      }
    }, opts.dryRun ? 'plan' : 'reconcile');
  }

  /** Deletes one path's item and object, if the file is (still) gone. */
  delete(sourcePath: string): Promise<PathOutcome> {
    return this.locks.run(sourcePath, () => this.queue.add(() => this.deleteNow(sourcePath)), 'delete');
  }

  private async localState(sourcePath: string, file: LocalFile | undefined, withHash: boolean): Promise<LocalState> {
    if (!file) return { kind: 'absent' };
    if (!withHash) return { kind: 'file', size: file.size, mtimeMs: file.mtimeMs };
    return { kind: 'file', size: file.size, mtimeMs: file.mtimeMs, sha256: await sha256File(file.absPath) };
  }

  private async reconcileNow(sourcePath: string, opts: ReconcileOptions): Promise<PathOutcome> {
    if (this.closed) return { kind: 'cancelled' };
    try {
      return await this.reconcileSteps(sourcePath, opts);
    } catch (err) {
      if (err instanceof BadInputError) {
        this.logSkip({ path: sourcePath, reason: err.message });
        return { kind: 'skipped', reason: err.message };
      }
      return this.failure(sourcePath, err, opts.dryRun ?? false);
    }
  }

  private failure(sourcePath: string, err: unknown, dryRun: boolean): PathOutcome {
    const msg = errorMessage(err);
    const transient = isTransient(err) || err instanceof FileChangedError;
    if (!dryRun && this.d.index.get(sourcePath)) this.d.index.recordFailure(sourcePath, msg);
    return { kind: 'failed', error: msg, transient };
  }

  private async reconcileSteps(sourcePath: string, opts: ReconcileOptions): Promise<PathOutcome> {
    for (let restarts = 0; ; restarts++) {
      const state = restarts === 0 && opts.seen ? { kind: 'file' as const, file: opts.seen } : await inspectSourcePath(this.d.config.inbox, sourcePath);
      if (state.kind === 'skipped') {
        this.logSkip(state.skipped);
        // A path that turned into something unsyncable keeps its remote copy: no delete.
        const row = this.d.index.get(sourcePath);
        return row?.state === 'deleting' ? { kind: 'delete-pending' } : { kind: 'skipped', reason: state.skipped.reason };
      }
      const file = state.kind === 'file' ? state.file : undefined;
      if (file) {
        // Write-settling backstop: a file modified within the stability window may still be
        // being written; wait until it has been quiet that long.
        const age = this.now() - file.mtimeMs;
        if (age < this.d.config.stabilityMs && restarts < MAX_CHANGED_RESTARTS * 4) {
          await sleep(Math.max(10, this.d.config.stabilityMs - age));
          continue;
        }
      }
      const row = this.d.index.get(sourcePath);
      let local = await this.localState(sourcePath, file, false);
      let action = planAction(local, row);
      if (action.kind === 'hash') {
        try {
          local = await this.localState(sourcePath, file, true);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // gone since it was looked at
          throw err;
        }
        action = planAction(local, row);
      }
      if (opts.dryRun) {
        // Bad content shows up as skipped in the plan too (read-only check).
        if (action.kind === 'upload' && file) await inspectPngFile(file.absPath);
        return { kind: 'planned', action, path: sourcePath };
      }
      switch (action.kind) {
        case 'nothing':
          if (file) this.forgetSkip(sourcePath);
          if (row?.last_error) this.d.index.clearFailure(sourcePath);
          return { kind: file || row ? 'unchanged' : 'nothing' };
        case 'touch':
          this.d.index.put({ ...row!, mtime_ms: file!.mtimeMs, size: file!.size, attempts: 0, last_error: null, last_error_at: null });
          return { kind: 'unchanged' };
        case 'delete':
          return { kind: 'delete-pending' };
        case 'hash':
          throw new Error('planner asked for a hash twice');
        case 'upload': {
          const result = await this.upload(file!, row, action.reason);
          if (result === 'restart') {
            if (restarts >= MAX_CHANGED_RESTARTS) throw new FileChangedError(`${sourcePath} kept changing while being uploaded; will retry`);
            continue;
          }
          this.forgetSkip(sourcePath);
          return typeof result === 'string' ? { kind: result } : { kind: 'finishing', finish: result.finish };
        }
      }
    }
  }

  private async upload(file: LocalFile, row: IndexRow | undefined, reason: 'new' | 'resume' | 'changed'): Promise<UploadResult> {
    const { partSizeBytes } = this.d.config;
    const small = file.size <= partSizeBytes;
    // What the transfer holds in memory: the whole file, or the parts lib-storage buffers.
    const release = await this.memory.acquire(small ? file.size : Math.min(file.size, (PART_QUEUE_SIZE + 1) * partSizeBytes));
    try {
      return small ? await this.uploadSmall(file, row, reason) : await this.uploadRead(file, row, reason, undefined);
    } finally {
      release();
    }
  }

  /** A small file is read once: the same bytes are checked as a PNG, hashed and sent. */
  private async uploadSmall(file: LocalFile, row: IndexRow | undefined, reason: 'new' | 'resume' | 'changed'): Promise<UploadResult> {
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

  /** The upload of a file whose bytes are `small` (read already) or to be streamed. */
  private async uploadRead(file: LocalFile, row: IndexRow | undefined, reason: 'new' | 'resume' | 'changed', small: Buffer | undefined): Promise<UploadResult> {
    const { config, index, objects, hooks } = this.d;
    // Rejects non-PNG content before anything is journaled or sent.
    const png = small ? { ...parsePngBuffer(small), size: small.length } : await inspectPngFile(file.absPath);
    if (png.size !== file.size) return 'restart';
    let intent: IndexRow;
    if (!row) {
      const imageId = randomUUID();
      const uploadedAt = new Date(this.now()).toISOString();
      // The intent with its final keys is committed before the first byte goes to S3.
      intent = index.put({
        source_path: file.sourcePath, animal: file.animal, filename: file.filename, image_id: imageId, uploaded_at: uploadedAt,
        s3_key: s3KeyFor(file.animal, uploadedAt, imageId, file.filename),
        size: null, mtime_ms: null, sha256: null, width: null, height: null, version: 0, state: 'uploading',
      });
    } else if (row.state !== 'uploading') {
      intent = index.put({ ...row, state: 'uploading' });
    } else {
      intent = row;
    }
    let sent;
    try {
      sent = small
        ? await sendBuffer(objects, small, intent.s3_key, { signal: this.abort.signal })
        : await sendFile(objects, file.absPath, intent.s3_key, { partSizeBytes: config.partSizeBytes, before: { size: file.size, mtimeMs: file.mtimeMs }, signal: this.abort.signal });
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
      updatedAt: nextVersion === 1 ? intent.uploaded_at : new Date(this.now()).toISOString(),
    });
    // Object first (above), then item: no item ever points at a missing object.
    const record = (written: number): 'uploaded' | 'updated' => {
      index.put({
        ...intent, state: 'synced', size: sent.size, mtime_ms: file.mtimeMs, sha256: sent.sha256,
        width: png.width, height: png.height, version: written, attempts: 0, last_error: null, last_error_at: null,
      });
      hooks?.onUploaded?.({ sourcePath: file.sourcePath, bytes: sent.size, changed: intent.version > 0, latencyMs: this.now() - file.mtimeMs });
      return intent.version > 0 ? 'updated' : 'uploaded';
    };
    if (intent.version === 0 && reason !== 'changed') {
      // INSERTs are batched; the caller waits for this outside the transfer queue.
      const finished = this.batcher.put(item, () => record(item.version));
      finished.catch(() => undefined); // handled by reconcile(); never an unhandled rejection
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

  private async deleteNow(sourcePath: string): Promise<PathOutcome> {
    const { index, items, objects, config, log, hooks } = this.d;
    if (this.closed) return { kind: 'cancelled' };
    try {
      const row = index.get(sourcePath);
      if (!row) return { kind: 'nothing' };
      const state = await inspectSourcePath(config.inbox, sourcePath);
      if (state.kind !== 'absent' && row.state !== 'deleting') return { kind: 'unchanged' };
      if (row.state !== 'deleting') index.put({ ...row, state: 'deleting' });
      // Item before object: a crash in between leaves an unreferenced object (deleted on the
      // resumed delete), never an item that points at nothing.
      try {
        await items.delete({ partition_key: partitionKey(row.animal), sort_key: sortKey(row.uploaded_at, row.image_id) }, { onlyIfSourceHost: config.hostId });
      } catch (err) {
        if (!isConditionalFailure(err)) throw err;
        log.warn({ path: sourcePath, image_id: row.image_id }, 'the item now belongs to another host; leaving it and its object alone');
        index.remove(sourcePath);
        return { kind: 'deleted' };
      }
      await objects.delete(row.s3_key);
      index.remove(sourcePath);
      this.forgetSkip(sourcePath);
      hooks?.onDeleted?.(sourcePath);
      return { kind: 'deleted' };
    } catch (err) {
      const msg = errorMessage(err);
      if (index.get(sourcePath)) index.recordFailure(sourcePath, msg);
      return { kind: 'failed', error: msg, transient: isTransient(err) };
    }
  }

  /** A pass over everything: every candidate in the inbox and every path the index knows. */
  async runFullPass(opts: Omit<PassOptions, 'skipped'> = {}): Promise<PassResult> {
    const { config, index, log } = this.d;
    if (!(await hasMarker(config.inbox))) {
      log.error({ inbox: config.inbox }, `inbox marker missing in ${config.inbox}: the inbox may be unmounted; no deletes until it is back (run \`animal-sync init\` if this really is the inbox)`);
    }
    const scan = await scanInbox(config.inbox);
    const rows = new Map(index.all().map((r) => [r.source_path, r]));
    // The scan's lstat is as fresh as any: files the planner would leave alone by size and
    // mtime are counted here, without a trip through the queue (the no-change run is fast).
    const paths = new Set<string>();
    const seen = new Map<string, LocalFile>();
    let unchanged = 0;
    for (const f of scan.files) {
      const row = rows.get(f.sourcePath);
      const settled = this.now() - f.mtimeMs >= config.stabilityMs;
      if (row && !row.last_error && settled && planAction({ kind: 'file', size: f.size, mtimeMs: f.mtimeMs }, row).kind === 'nothing') unchanged++;
      else {
        paths.add(f.sourcePath);
        seen.set(f.sourcePath, f);
      }
    }
    const scanned = new Set(scan.files.map((f) => f.sourcePath));
    // Index rows whose file the scan did not find: candidates for delete.
    for (const p of rows.keys()) if (!scanned.has(p)) paths.add(p);
    const result = await this.runPass(paths, { ...opts, skipped: scan.skipped, seen });
    result.unchanged += unchanged;
    return result;
  }

  /**
   * One reconcile pass over `paths`: uploads and updates first, then, only if the delete
   * guard allows it (marker present, no failed upload, under the caps), the deletes.
   */
  async runPass(paths: Iterable<string>, opts: PassOptions = {}): Promise<PassResult> {
    const started = this.now();
    const { config, index, log, hooks } = this.d;
    const result: PassResult = { uploaded: 0, updated: 0, deleted: 0, unchanged: 0, skipped: 0, failed: 0, deletesBlocked: 0, deleteBlockReason: null, heldDeletes: [], failures: [], plan: [], durationMs: 0 };
    for (const s of opts.skipped ?? []) {
      this.logSkip(s);
      result.skipped++;
    }
    const unique = [...new Set(paths)];
    let done = 0;
    let bytes = 0;
    const outcomes = new Map<string, PathOutcome>();
    // Paths are fed to the queue by a bounded set of workers, not all at once: memory stays
    // flat for a big inbox. There are enough of them to keep every transfer slot busy while
    // finished uploads wait for their batched item writes.
    const runRound = async (list: string[], seen?: ReadonlyMap<string, LocalFile>): Promise<void> => {
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < list.length) {
          const p = list[next++]!;
          const outcome = await this.reconcile(p, { dryRun: opts.dryRun, seen: seen?.get(p) });
          outcomes.set(p, outcome);
          if (outcome.kind !== 'failed') {
            done++;
            if (outcome.kind === 'uploaded' || outcome.kind === 'updated') bytes += index.get(p)?.size ?? 0;
            hooks?.onProgress?.({ done, total: unique.length, bytes });
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(list.length, config.concurrency + 64) }, worker));
    };
    await runRound(unique, opts.seen);
    for (let round = 0; round < (opts.retryRounds ?? 2); round++) {
      const again = unique.filter((p) => { const o = outcomes.get(p); return o?.kind === 'failed' && o.transient; });
      if (again.length === 0) break;
      const wait = config.retryBaseMs * 2 ** round;
      log.info({ files: again.length, retryInMs: wait }, `retrying ${again.length} failed file(s)`);
      await sleep(wait, undefined, { signal: this.closing.signal }).catch(() => undefined);
      if (this.closed) break;
      await runRound(again);
    }
    const pendingDeletes: string[] = [];
    for (const [p, o] of outcomes) {
      if (o.kind === 'planned') {
        if (o.action.kind !== 'nothing') result.plan.push({ path: p, action: o.action });
        if (o.action.kind === 'delete') pendingDeletes.push(p);
      }
      else if (o.kind === 'delete-pending') pendingDeletes.push(p);
    }
    const failedUploads = [...outcomes.values()].filter((o) => o.kind === 'failed').length;
    if (pendingDeletes.length > 0) {
      const markerPresent = await hasMarker(config.inbox);
      const reason = deleteBlockReason({
        deletes: pendingDeletes.length, hostItems: index.itemCount(), maxDelete: config.maxDelete, maxDeleteRatio: config.maxDeleteRatio,
        force: opts.force ?? false, markerPresent, failedUploads,
      });
      if (reason) {
        result.deletesBlocked = pendingDeletes.length;
        result.deleteBlockReason = reason;
        result.heldDeletes = pendingDeletes;
        log.error({ deletes: pendingDeletes.length, reason }, `not deleting ${pendingDeletes.length} file(s): ${reason}`);
      } else if (!opts.dryRun) {
        await Promise.all(pendingDeletes.map(async (p) => outcomes.set(p, await this.delete(p))));
      }
    }
    for (const [p, o] of outcomes) {
      switch (o.kind) {
        case 'uploaded': result.uploaded++; break;
        case 'updated': result.updated++; break;
        case 'deleted': result.deleted++; break;
        case 'unchanged': result.unchanged++; break;
        case 'skipped': result.skipped++; break;
        case 'failed':
          result.failed++;
          result.failures.push({ path: p, error: o.error });
          log.error({ path: p, error: o.error }, `failed ${p}: ${o.error}`);
          hooks?.onFailed?.(p, o.error);
          break;
        default: break;
      }
    }
    result.durationMs = this.now() - started;
    return result;
  }
}
