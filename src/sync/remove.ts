// The delete steps of one path: the planner re-checks the file first (a file that came back
// is never deleted), the row turns `deleting`, then the item goes, then the object.
import type { Config } from '../config.ts';
import { isConditionalFailure } from '../errors.ts';
import type { Logger } from '../log.ts';
import { partitionKey, sortKey } from '../model.ts';
import type { ItemStore } from '../stores/dynamodb.ts';
import type { ObjectStore } from '../stores/s3.ts';
import type { SyncIndex } from './index-db.ts';
import type { PathOutcome } from './outcome.ts';
import { planAction } from './planner.ts';
import { localStateOf } from './reconcile-path.ts';
import { inspectSourcePath } from './scanner.ts';
import type { SkipLog } from './skip-log.ts';

export interface RemoveDeps {
  config: Config;
  index: SyncIndex;
  objects: ObjectStore;
  items: ItemStore;
  log: Logger;
  skips: SkipLog;
  hooks?: { onDeleted?(sourcePath: string): void };
}

/** Deletes one path's item and object, if the planner (looking at the file now) still says delete. Throws on store errors. */
export async function removePath(d: RemoveDeps, sourcePath: string): Promise<PathOutcome> {
  const { index, items, objects, config, log } = d;
  const row = index.get(sourcePath);
  if (!row) return { kind: 'nothing' };
  const action = planAction(localStateOf(await inspectSourcePath(config.inbox, sourcePath)), row);
  if (action.kind !== 'delete') return { kind: 'unchanged' };
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
  d.skips.forget(sourcePath);
  d.hooks?.onDeleted?.(sourcePath);
  return { kind: 'deleted' };
}
