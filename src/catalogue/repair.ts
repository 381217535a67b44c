// Repair: makes right what this host owns, from a check's differences. Most repairs are
// index rows that make the next pass do the work with its usual guards (an upload under the
// same keys, a MODIFY, a delete behind the marker and the caps); the extra items of a
// duplicated file and this host's orphan objects are deleted here, journaled first.
import type { Config } from '../config.ts';
import { isConditionalFailure } from '../errors.ts';
import { hasMarker } from '../inbox.ts';
import type { Logger } from '../log.ts';
import { keyOf, type ImageKey } from '../model.ts';
import type { ItemStore } from '../stores/dynamodb.ts';
import type { ObjectStore } from '../stores/s3.ts';
import type { IndexRow, SyncIndex } from '../sync/index-db.ts';
import { objectMatches, rowForItem } from './adopt.ts';
import type { CheckReport, Difference, DifferenceKind } from './differences.ts';
import type { HostItem } from './items.ts';
import type { CatalogueView } from './read.ts';

/** Meta key of the repair journal: deletes decided but maybe not made yet (a rerun makes them). */
export const META_REPAIR_DELETES = 'repair_deletes';

/** Another host may be between its S3 step and its DynamoDB step: an orphan this young is left alone. */
export const ORPHAN_MIN_AGE_MS = 60 * 60 * 1000;

interface JournaledDelete {
  /** The item to delete first (absent for an orphan object). */
  item?: ImageKey;
  /** The object to delete after it (absent when the kept item shares it). */
  s3Key?: string;
}

export interface RepairDeps {
  config: Config;
  index: SyncIndex;
  items: ItemStore;
  objects: ObjectStore;
  log: Logger;
  /** Runs `fn` with the path locked against the reconciler's own work on it. */
  exclusive<T>(path: string, fn: () => Promise<T>): Promise<T>;
  now?: () => number;
}

export interface RepairSummary {
  /** What this repair did or handed to the pass, by kind. */
  repaired: Partial<Record<DifferenceKind, number>>;
  /** What it left alone, and why (another host's, too young, guard). */
  left: { kind: DifferenceKind; path: string; why: string }[];
}

function journal(index: SyncIndex): JournaledDelete[] {
  return index.getMeta<JournaledDelete[]>(META_REPAIR_DELETES) ?? [];
}

/** Makes the journaled deletes, item before object; each leaves the journal once made. */
async function drainJournal(d: RepairDeps): Promise<number> {
  let made = 0;
  for (const entry of journal(d.index)) {
    if (entry.item) {
      try {
        await d.items.delete(entry.item, { onlyIfSourceHost: d.config.hostId });
      } catch (err) {
        if (!isConditionalFailure(err)) throw err; // another host's now: its object is not ours either
        entry.s3Key = undefined;
      }
    }
    if (entry.s3Key) await d.objects.delete(entry.s3Key);
    d.index.setMeta(META_REPAIR_DELETES, journal(d.index).filter((e) => JSON.stringify(e) !== JSON.stringify(entry)));
    made++;
  }
  return made;
}

function addJournal(index: SyncIndex, entries: JournaledDelete[]): void {
  if (entries.length > 0) index.setMeta(META_REPAIR_DELETES, [...journal(index), ...entries]);
}

/** Points the path's row at `item`, unless the reconciler is in the middle of something there. */
function seedRow(index: SyncIndex, row: IndexRow | undefined, seed: ReturnType<typeof rowForItem>): boolean {
  const current = index.get(seed.source_path);
  if (current && current.state !== 'synced') return false;
  if (current && row && current.updated_at !== row.updated_at) return false; // changed since the check read it
  index.put(seed);
  return true;
}

/** Why an orphan must stay, or null when it is this host's own to remove. */
async function orphanIsOurs(d: RepairDeps, diff: Difference, journaledKeys: Set<string>, uploading: Set<string>): Promise<string | null> {
  const key = diff.path;
  if (journaledKeys.has(key)) return null;
  if (uploading.has(key)) return 'an upload of this host is under way to it (the pass finishes it)';
  const head = await d.objects.head(key);
  if (!head) return null; // gone meanwhile: nothing to do
  if (head.sourceHost !== d.config.hostId) return `not this host's (${head.sourceHost ? `uploaded by ${head.sourceHost}` : 'no source-host metadata'})`;
  const modified = diff.object?.lastModified ? Date.parse(diff.object.lastModified) : Number.NaN;
  const age = (d.now ?? Date.now)() - modified;
  if (Number.isNaN(age) || age < ORPHAN_MIN_AGE_MS) return 'younger than an hour (an upload may be between its object and its item)';
  return null;
}

export async function repairDifferences(d: RepairDeps, report: CheckReport, view: CatalogueView, rows: ReadonlyMap<string, IndexRow>): Promise<RepairSummary> {
  const summary: RepairSummary = { repaired: {}, left: [] };
  const done = (kind: DifferenceKind): void => void (summary.repaired[kind] = (summary.repaired[kind] ?? 0) + 1);
  // What an earlier repair decided and did not finish (kill -9) comes first.
  await drainJournal(d);
  const markerPresent = await hasMarker(d.config.inbox);
  const deletes: JournaledDelete[] = [];
  const journaledKeys = new Set(d.index.keysInState('deleting'));
  const uploading = new Set(d.index.keysInState('uploading'));
  for (const diff of report.differences) {
    const row = rows.get(diff.path);
    const [primary, ...extras] = diff.items ?? [];
    switch (diff.kind) {
      case 'not-catalogued':
        done(diff.kind); // the pass uploads it
        break;
      case 'item-missing': {
        // Same image_id and keys; an unknown sha256 makes the pass send the file and write the item again.
        const ok = await d.exclusive(diff.path, async () => seedRow(d.index, row, { ...row!, sha256: null, mtime_ms: null }));
        if (ok) done(diff.kind);
        else summary.left.push({ kind: diff.kind, path: diff.path, why: 'the file is being synced right now' });
        break;
      }
      case 'object-missing': case 'object-differs': case 'item-differs': {
        const ok = await d.exclusive(diff.path, async () => seedRow(d.index, row, rowForItem(primary!, false)));
        if (ok) done(diff.kind);
        else summary.left.push({ kind: diff.kind, path: diff.path, why: 'the file is being synced right now' });
        break;
      }
      case 'file-gone': case 'duplicate-items': {
        if (extras.length > 0 && !markerPresent) {
          summary.left.push({ kind: diff.kind, path: diff.path, why: 'the inbox marker is missing: no deletes' });
          break;
        }
        for (const extra of extras) deletes.push(extraDelete(extra, primary!));
        // The kept item's row: the pass deletes it behind the usual guards when its file is gone.
        if (!row || row.image_id !== primary!.image_id) await d.exclusive(diff.path, async () => seedRow(d.index, row, rowForItem(primary!, objectMatches(view, primary!))));
        done(diff.kind);
        break;
      }
      case 'orphan-object': {
        const why = markerPresent ? await orphanIsOurs(d, diff, journaledKeys, uploading) : 'the inbox marker is missing: no deletes';
        if (why) summary.left.push({ kind: diff.kind, path: diff.path, why });
        else {
          deletes.push({ s3Key: diff.path });
          done(diff.kind);
        }
        break;
      }
    }
  }
  if (deletes.length > 0) {
    addJournal(d.index, deletes);
    await drainJournal(d);
  }
  for (const l of summary.left) d.log.warn({ kind: l.kind, path: l.path }, `not repaired: ${l.kind} ${l.path}: ${l.why}`);
  return summary;
}

function extraDelete(extra: HostItem, kept: HostItem): JournaledDelete {
  return { item: keyOf(extra), ...(extra.s3_key !== kept.s3_key ? { s3Key: extra.s3_key } : {}) };
}
