// What a pass's outcomes come to, folded in as they arrive: counts, the failures, the
// planned changes of a dry run, and the deletes asked for (made later, if the guard allows).
// A streamed pass keeps this, not an outcome per path.
import type { PassCounts } from './index-db.ts';
import type { PathOutcome } from './outcome.ts';
import type { Action } from './planner.ts';

export interface Tally extends PassCounts {
  failures: { path: string; error: string }[];
  plan: { path: string; action: Action }[];
}

export class PassTally {
  readonly t: Tally = { uploaded: 0, updated: 0, deleted: 0, unchanged: 0, skipped: 0, failed: 0, failures: [], plan: [] };
  /** Paths whose outcome asks for a delete. */
  readonly deletes: string[] = [];

  /** One final outcome of `path` (a transient failure that will be retried is not final). */
  add(path: string, o: PathOutcome): void {
    const t = this.t;
    switch (o.kind) {
      case 'uploaded': case 'updated': case 'deleted': case 'unchanged': case 'skipped': t[o.kind]++; break;
      case 'failed':
        t.failed++;
        t.failures.push({ path, error: o.error });
        break;
      case 'delete-pending': this.deletes.push(path); break;
      case 'planned':
        if (o.action.kind === 'delete') this.deletes.push(path);
        if (o.action.kind !== 'nothing') t.plan.push({ path, action: o.action });
        break;
      default: break;
    }
  }
}

/** Counts what the outcomes came to. Pure. */
export function tally(outcomes: ReadonlyMap<string, PathOutcome>): Tally {
  const t = new PassTally();
  for (const [path, o] of outcomes) t.add(path, o);
  return t.t;
}
