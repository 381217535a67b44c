// The local index (node:sqlite in the state dir): one row per synced file, and the journal of
// intents. The keys of an upload or a delete are written here BEFORE the S3 call, so a
// restart repeats an unfinished step with the same keys: no duplicate item, no orphan object.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';

/**
 * uploading: the keys are fixed and the object (and maybe the item) may exist; the upload
 *            must be finished or repeated with the same keys.
 * synced:    object and item match `sha256`/`size`/`mtime_ms` at `version`.
 * deleting:  the item and object must be deleted (item first); the row goes when both are.
 */
export type RowState = 'uploading' | 'synced' | 'deleting';

export interface IndexRow {
  source_path: string;
  animal: string;
  filename: string;
  image_id: string;
  uploaded_at: string;
  s3_key: string;
  /** What the catalogue holds (for synced rows) — null before the first upload finished. */
  size: number | null;
  mtime_ms: number | null;
  sha256: string | null;
  width: number | null;
  height: number | null;
  /** Version of the item in the table; 0 = no item written yet. */
  version: number;
  state: RowState;
  attempts: number;
  last_error: string | null;
  last_error_at: string | null;
  updated_at: string;
}

/** A row as put() takes it: updated_at is set there, the failure fields default to none. */
export type PutRow = Omit<IndexRow, 'updated_at' | 'attempts' | 'last_error' | 'last_error_at'> & Partial<Pick<IndexRow, 'attempts' | 'last_error' | 'last_error_at'>>;

export interface FailureRow {
  source_path: string;
  attempts: number;
  last_error: string;
  last_error_at: string;
}

export interface IndexCounts {
  synced: number;
  pending: number;
  failed: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS files (
  source_path   TEXT PRIMARY KEY,
  animal        TEXT NOT NULL,
  filename      TEXT NOT NULL,
  image_id      TEXT NOT NULL,
  uploaded_at   TEXT NOT NULL,
  s3_key        TEXT NOT NULL,
  size          INTEGER,
  mtime_ms      REAL,
  sha256        TEXT,
  width         INTEGER,
  height        INTEGER,
  version       INTEGER NOT NULL DEFAULT 0,
  state         TEXT NOT NULL CHECK (state IN ('uploading', 'synced', 'deleting')),
  attempts      INTEGER NOT NULL DEFAULT 0,
  last_error    TEXT,
  last_error_at TEXT,
  updated_at    TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
`;

export const INDEX_FILE = 'index.sqlite';

/**
 * What the scan's skip rule reads of a row (unchangedAtScan). A full pass holds one per
 * row: 100,000 of them take ~12 MiB and 0.2 s, full rows ~135 MiB and 1.9 s (bench/README).
 */
export type ScanRow = Pick<IndexRow, 'state' | 'size' | 'mtime_ms' | 'last_error'>;

export class SyncIndex {
  readonly file: string;
  private readonly db: DatabaseSync;
  private readonly stmts: Record<'get' | 'upsert' | 'remove' | 'all' | 'scanRows' | 'scanRowsUnder' | 'folderFrom' | 'pathsUnder' | 'rowsUnder' | 'fail' | 'clearError' | 'getMeta' | 'setMeta', StatementSync>;
  private readonly now: () => string;
  /** Rows waiting for the commit of putSoon(). */
  private soon: { row: PutRow; resolve: (row: IndexRow) => void; reject: (err: unknown) => void }[] = [];

  private constructor(file: string, db: DatabaseSync, now: () => string) {
    this.file = file;
    this.db = db;
    this.now = now;
    this.stmts = {
      get: db.prepare('SELECT * FROM files WHERE source_path = ?'),
      upsert: db.prepare(`INSERT INTO files (source_path, animal, filename, image_id, uploaded_at, s3_key, size, mtime_ms, sha256, width, height, version, state, attempts, last_error, last_error_at, updated_at)
        VALUES (:source_path, :animal, :filename, :image_id, :uploaded_at, :s3_key, :size, :mtime_ms, :sha256, :width, :height, :version, :state, :attempts, :last_error, :last_error_at, :updated_at)
        ON CONFLICT (source_path) DO UPDATE SET animal = excluded.animal, filename = excluded.filename, image_id = excluded.image_id,
          uploaded_at = excluded.uploaded_at, s3_key = excluded.s3_key, size = excluded.size, mtime_ms = excluded.mtime_ms, sha256 = excluded.sha256,
          width = excluded.width, height = excluded.height, version = excluded.version, state = excluded.state, attempts = excluded.attempts,
          last_error = excluded.last_error, last_error_at = excluded.last_error_at, updated_at = excluded.updated_at`),
      remove: db.prepare('DELETE FROM files WHERE source_path = ?'),
      all: db.prepare('SELECT * FROM files ORDER BY source_path'),
      scanRows: db.prepare('SELECT source_path, state, size, mtime_ms, last_error FROM files'),
      // A range on the primary key: '0' is the character after '/'.
      scanRowsUnder: db.prepare("SELECT source_path, state, size, mtime_ms, last_error FROM files WHERE source_path >= ? || '/' AND source_path < ? || '0'"),
      folderFrom: db.prepare('SELECT source_path FROM files WHERE source_path >= ? ORDER BY source_path LIMIT 1'),
      pathsUnder: db.prepare("SELECT source_path FROM files WHERE source_path >= ? || '/' AND source_path < ? || '0'"),
      rowsUnder: db.prepare("SELECT * FROM files WHERE source_path >= ? || '/' AND source_path < ? || '0' ORDER BY source_path"),
      fail: db.prepare('UPDATE files SET attempts = attempts + 1, last_error = ?, last_error_at = ? WHERE source_path = ?'),
      clearError: db.prepare('UPDATE files SET attempts = 0, last_error = NULL, last_error_at = NULL WHERE source_path = ?'),
      getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
      setMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
    };
    // Arrays, not objects: a fraction of the allocation for the rows of a whole inbox.
    this.stmts.scanRows.setReturnArrays(true);
    this.stmts.scanRowsUnder.setReturnArrays(true);
    this.stmts.folderFrom.setReturnArrays(true);
    this.stmts.pathsUnder.setReturnArrays(true);
  }

  static open(stateDir: string, opts: { now?: () => string; readOnly?: boolean } = {}): SyncIndex {
    mkdirSync(stateDir, { recursive: true });
    const file = path.join(stateDir, INDEX_FILE);
    const db = new DatabaseSync(file, { readOnly: opts.readOnly ?? false, timeout: 5000 });
    if (!opts.readOnly) {
      // WAL + synchronous=NORMAL: every commit survives a crash of this process (kill -9);
      // only a power loss can drop the last few commits.
      db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
      db.exec(SCHEMA);
    }
    return new SyncIndex(file, db, opts.now ?? (() => new Date().toISOString()));
  }

  get(sourcePath: string): IndexRow | undefined {
    return this.stmts.get.get(sourcePath) as IndexRow | undefined;
  }

  all(): IndexRow[] {
    return this.stmts.all.all() as unknown as IndexRow[];
  }

  /** The skip rule's view of every row (or of the rows under one top-level folder), by source path. */
  scanRows(folder?: string): Map<string, ScanRow> {
    const out = new Map<string, ScanRow>();
    const rows = folder === undefined ? this.stmts.scanRows.iterate() : this.stmts.scanRowsUnder.iterate(folder, folder);
    for (const r of rows as Iterable<[string, RowState, number | null, number | null, string | null]>) {
      out.set(r[0], { state: r[1], size: r[2], mtime_ms: r[3], last_error: r[4] });
    }
    return out;
  }

  /** The top-level folders the rows are under, in path order (`dog-2` before `dog`): one primary-key seek per folder, not a walk over every row. */
  folders(): string[] {
    const out: string[] = [];
    for (let from = ''; ;) {
      const r = this.stmts.folderFrom.get(from) as unknown as [string] | undefined;
      if (!r) return out;
      const slash = r[0].indexOf('/');
      if (slash < 0) {
        // Not of the form <folder>/<name> (never written so): step past it.
        from = r[0] + '\0';
        continue;
      }
      const folder = r[0].slice(0, slash);
      out.push(folder);
      from = folder + '0';
    }
  }

  /** The whole rows under a top-level folder (`<folder>/...`), in path order. */
  rowsUnder(folder: string): IndexRow[] {
    return this.stmts.rowsUnder.all(folder, folder) as unknown as IndexRow[];
  }

  /** The object keys of the rows in `state` (a pass in the middle of an upload or a delete). */
  keysInState(state: RowState): string[] {
    return (this.db.prepare('SELECT s3_key FROM files WHERE state = ?').all(state) as unknown as { s3_key: string }[]).map((r) => r.s3_key);
  }

  /** Source paths of the rows under a top-level folder (`<folder>/...`). */
  pathsUnder(folder: string): string[] {
    return (this.stmts.pathsUnder.all(folder, folder) as unknown as [string][]).map((r) => r[0]);
  }

  /** Writes the whole row (insert or replace). */
  put(row: PutRow): IndexRow {
    const full: IndexRow = { attempts: 0, last_error: null, last_error_at: null, ...row, updated_at: this.now() };
    this.stmts.upsert.run(full as unknown as Record<string, string | number | null>);
    return full;
  }

  /**
   * Writes the row with the others asked for in this turn of the event loop, in one commit
   * (setImmediate: after the I/O callbacks that ran in this turn). Resolves once the row is
   * committed, so a caller that waits for it may act on it as after put(). The journal of an
   * upload: its own commit per file cost ~2x the CPU of a row in a shared one (WAL frames and
   * the shm index written each time). A batch that fails is retried row by row, so one bad
   * row fails only its own caller.
   */
  putSoon(row: PutRow): Promise<IndexRow> {
    return new Promise((resolve, reject) => {
      this.soon.push({ row, resolve, reject });
      if (this.soon.length === 1) setImmediate(() => this.flushSoon());
    });
  }

  private flushSoon(): void {
    const batch = this.soon;
    if (batch.length === 0) return;
    this.soon = [];
    let written: IndexRow[] | undefined;
    try {
      written = this.transaction(() => batch.map((b) => this.put(b.row)));
    } catch {
      // Row by row below.
    }
    batch.forEach((b, i) => {
      if (written) return b.resolve(written[i]!);
      try {
        b.resolve(this.put(b.row));
      } catch (err) {
        b.reject(err);
      }
    });
  }

  remove(sourcePath: string): void {
    this.stmts.remove.run(sourcePath);
  }

  recordFailure(sourcePath: string, error: string): void {
    this.stmts.fail.run(error.slice(0, 2000), this.now(), sourcePath);
  }

  clearFailure(sourcePath: string): void {
    this.stmts.clearError.run(sourcePath);
  }

  failures(): FailureRow[] {
    return this.db.prepare('SELECT source_path, attempts, last_error, last_error_at FROM files WHERE last_error IS NOT NULL ORDER BY last_error_at DESC').all() as unknown as FailureRow[];
  }

  counts(): IndexCounts {
    const r = this.db.prepare(`SELECT
      SUM(CASE WHEN state = 'synced' AND last_error IS NULL THEN 1 ELSE 0 END) AS synced,
      SUM(CASE WHEN state <> 'synced' THEN 1 ELSE 0 END) AS pending,
      SUM(CASE WHEN last_error IS NOT NULL THEN 1 ELSE 0 END) AS failed
      FROM files`).get() as { synced: number | null; pending: number | null; failed: number | null };
    return { synced: r.synced ?? 0, pending: r.pending ?? 0, failed: r.failed ?? 0 };
  }

  /** Number of items this host has (or is about to have) in the catalogue. */
  itemCount(): number {
    return (this.db.prepare("SELECT COUNT(*) AS n FROM files WHERE version > 0 OR state = 'uploading'").get() as { n: number }).n;
  }

  getMeta<T>(key: string): T | undefined {
    const r = this.stmts.getMeta.get(key) as { value: string } | undefined;
    return r ? (JSON.parse(r.value) as T) : undefined;
  }

  setMeta(key: string, value: unknown): void {
    this.stmts.setMeta.run(key, JSON.stringify(value));
  }

  /** Runs `fn` in one transaction (one commit for many rows). */
  transaction<T>(fn: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const out = fn();
      this.db.exec('COMMIT');
      return out;
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
  }

  close(): void {
    // Rows still waiting for their commit are written first (or their callers told why not).
    if (this.db.isOpen) this.flushSoon();
    for (const b of this.soon.splice(0)) b.reject(new Error('the index was closed before this row was written'));
    if (this.db.isOpen) this.db.close();
  }
}

/** Meta key under which the last finished reconcile pass is kept (see LastReconcile). */
export const META_LAST_RECONCILE = 'last_reconcile';

/** What one reconcile pass did, file by file. */
export interface PassCounts {
  uploaded: number;
  updated: number;
  deleted: number;
  unchanged: number;
  skipped: number;
  failed: number;
}

export interface LastReconcile extends PassCounts {
  finishedAt: string;
  durationMs: number;
  ok: boolean;
}

/** Meta key of the last finished pass of any kind (watch passes included). */
export const META_LAST_PASS = 'last_pass';

export interface LastPass extends LastReconcile {
  kind: 'full' | 'watch' | 'retry';
}
