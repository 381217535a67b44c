// What reconciling one path came to. Results only: how a step hands over its unfinished
// work (an item write still batched) stays inside reconcile-path.ts.
import type { Action } from './planner.ts';

export type PathOutcome =
  | { kind: 'uploaded' | 'updated' | 'unchanged' | 'deleted' | 'nothing' }
  | { kind: 'skipped'; reason: string }
  /** The file is gone (or its delete was interrupted): the pass decides whether the delete may be made. */
  | { kind: 'delete-pending' }
  /** Not started: the reconciler was closed (shutdown). */
  | { kind: 'cancelled' }
  | { kind: 'failed'; error: string; transient: boolean }
  /** A dry run's answer: what would be done. */
  | { kind: 'planned'; action: Action };
