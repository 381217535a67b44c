// What `sync --once --dry-run` says of files without index rows: a real pass would first adopt
// those this host's items already hold (adopt.ts), so the dry run reads the catalogue the same
// way (read-only: no index row, no meta, nothing sent) and plans adopt / update / upload again
// instead of "upload (new)" for each.
import type { Config } from '../config.ts';
import { errorMessage } from '../errors.ts';
import type { ItemStore } from '../stores/dynamodb.ts';
import type { ObjectStore } from '../stores/s3.ts';
import { inspectSourcePath, type LocalFile } from '../sync/scanner.ts';
import { adoptionOutcome, matchCatalogue } from './adopt.ts';

export interface PlannedChange {
  path: string;
  action: { kind: string; reason?: string };
}

export interface DryRunAdoption {
  plan: PlannedChange[];
  /** Same bytes: the row only, nothing sent. */
  adopt: number;
  /** Other bytes: a MODIFY of that item (same image_id, version + 1). */
  update: number;
  /** The item's object is missing or differs in size: sent again under its key. */
  resend: number;
  /** The catalogue could not be read: a real pass would hold these files back, not upload them. */
  error: string | null;
}

const isNew = (p: PlannedChange): boolean => p.action.kind === 'upload' && p.action.reason === 'new';

export async function planAdoption(
  plan: readonly PlannedChange[],
  d: { config: Pick<Config, 'inbox' | 'hostId'>; items: ItemStore; objects: ObjectStore; adoptedAlready: boolean },
): Promise<DryRunAdoption> {
  const out: DryRunAdoption = { plan: [...plan], adopt: 0, update: 0, resend: 0, error: null };
  // Once a full pass adopted everything it met, a file without a row is new (reconciler.ts).
  if (d.adoptedAlready || !plan.some(isNew)) return out;
  const files: LocalFile[] = [];
  for (const p of plan.filter(isNew)) {
    const state = await inspectSourcePath(d.config.inbox, p.path);
    if (state.kind === 'file') files.push(state.file);
  }
  let seeds;
  try {
    seeds = await matchCatalogue({ items: d.items, objects: d.objects, hostId: d.config.hostId, config: d.config }, files);
  } catch (err) {
    out.error = `the catalogue could not be read (${errorMessage(err)}): a real pass would hold the new files back until it can`;
    return out;
  }
  const byPath = new Map(seeds.map((s) => [s.source_path, s]));
  out.plan = plan.map((p) => {
    const seed = isNew(p) ? byPath.get(p.path) : undefined;
    if (!seed) return p;
    const outcome = adoptionOutcome(seed);
    out[outcome]++;
    const id = seed.image_id;
    if (outcome === 'adopt') return { path: p.path, action: { kind: 'adopt', reason: `image ${id}, same bytes: nothing is sent` } };
    if (outcome === 'update') return { path: p.path, action: { kind: 'update', reason: `image ${id} holds other bytes: updated in place` } };
    return { path: p.path, action: { kind: 'upload', reason: `image ${id}'s object is missing: sent again under its key` } };
  });
  return out;
}
