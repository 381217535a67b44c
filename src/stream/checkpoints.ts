// Per-shard positions in <stateDir>/stream/checkpoints.json, so that a restart goes on after
// the last fully processed record and never hands the same records to the handler again.
// The file is replaced atomically (temp file, fsync, rename): a crash leaves the old or the
// new version, never half of one.
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ShardCheckpoint, StartingPosition } from './positions.ts';
import type { ShardInfo } from './shards.ts';

interface StreamEntry {
  table: string;
  startingPosition: StartingPosition;
  createdAt: string;
  shards: Record<string, ShardCheckpoint>;
}

interface CheckpointFile {
  version: 1;
  streams: Record<string, StreamEntry>;
}

/**
 * Pure: the checkpoints a stream gets the first time the runner sees it. At TRIM_HORIZON
 * nothing is recorded (everything is read). At LATEST the closed shards count as read and
 * the open ones start at their newest record.
 */
export function initialCheckpoints(shards: readonly ShardInfo[], position: StartingPosition): Record<string, ShardCheckpoint> {
  const out: Record<string, ShardCheckpoint> = {};
  if (position === 'TRIM_HORIZON') return out;
  for (const s of shards) out[s.shardId] = s.closed ? { finished: true } : { latest: true };
  return out;
}

/** Makes the rename itself durable; not every filesystem allows it, and that is fine. */
async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // best effort
  }
}

export class CheckpointFileError extends Error {
  override name = 'CheckpointFileError';
}

export class CheckpointStore {
  readonly file: string;
  private data: CheckpointFile;
  private saving: Promise<void> = Promise.resolve();
  private dirty = false;

  private constructor(file: string, data: CheckpointFile) {
    this.file = file;
    this.data = data;
  }

  static async open(file: string): Promise<CheckpointStore> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new CheckpointStore(file, { version: 1, streams: {} });
      throw err;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      // Never start over silently: that would hand every record to the handler again.
      throw new CheckpointFileError(`${file}: not valid JSON (${(err as Error).message}); fix it, or delete it to read the stream again from --starting-position`);
    }
    const p = parsed as Partial<CheckpointFile> | null;
    if (!p || p.version !== 1 || typeof p.streams !== 'object' || p.streams === null) {
      throw new CheckpointFileError(`${file}: expected {"version":1,"streams":{...}}; fix it, or delete it to read the stream again from --starting-position`);
    }
    return new CheckpointStore(file, p as CheckpointFile);
  }

  hasStream(streamArn: string): boolean {
    return streamArn in this.data.streams;
  }

  /** Records a stream seen for the first time, with its initial shard checkpoints. */
  addStream(streamArn: string, table: string, startingPosition: StartingPosition, shards: Record<string, ShardCheckpoint>, now = new Date()): void {
    if (this.hasStream(streamArn)) throw new Error(`stream ${streamArn} already has checkpoints`);
    const stamped: Record<string, ShardCheckpoint> = {};
    for (const [id, cp] of Object.entries(shards)) stamped[id] = { ...cp, updatedAt: now.toISOString() };
    this.data.streams[streamArn] = { table, startingPosition, createdAt: now.toISOString(), shards: stamped };
    this.dirty = true;
  }

  get(streamArn: string, shardId: string): ShardCheckpoint | undefined {
    const cp = this.data.streams[streamArn]?.shards[shardId];
    return cp ? { ...cp } : undefined;
  }

  isFinished(streamArn: string, shardId: string): boolean {
    return this.data.streams[streamArn]?.shards[shardId]?.finished === true;
  }

  advance(streamArn: string, shardId: string, sequenceNumber: string, now = new Date()): void {
    this.put(streamArn, shardId, { sequenceNumber, updatedAt: now.toISOString() });
  }

  finish(streamArn: string, shardId: string, now = new Date()): void {
    const old = this.data.streams[streamArn]?.shards[shardId];
    this.put(streamArn, shardId, { ...(old?.sequenceNumber ? { sequenceNumber: old.sequenceNumber } : {}), finished: true, updatedAt: now.toISOString() });
  }

  private put(streamArn: string, shardId: string, cp: ShardCheckpoint): void {
    const stream = this.data.streams[streamArn];
    if (!stream) throw new Error(`no checkpoints for stream ${streamArn}`);
    stream.shards[shardId] = cp;
    this.dirty = true;
  }

  /** Writes the current state; saves are serialised, and a save with nothing new is free. */
  save(): Promise<void> {
    const next = this.saving.then(() => this.writeNow());
    this.saving = next.catch(() => undefined);
    return next;
  }

  private async writeNow(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    const text = JSON.stringify(this.data, null, 2) + '\n';
    await mkdir(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      const fh = await open(tmp, 'w');
      try {
        await fh.writeFile(text, 'utf8');
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.file);
      await syncDir(path.dirname(this.file));
    } catch (err) {
      this.dirty = true;
      await rm(tmp, { force: true }).catch(() => undefined);
      throw err;
    }
  }
}
