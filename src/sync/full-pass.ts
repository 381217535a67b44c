// A full pass as `sync --once [--check]` asks for it: with --check, the audit (check and
// repair of what this host owns) first, then the pass that finishes the repairs. Run by the
// one-off command itself, or by the daemon when it holds the state dir (control.ts).
import { auditSummary, META_LAST_AUDIT, runAudit, type AuditResult } from '../catalogue/audit.ts';
import type { ItemStore } from '../stores/dynamodb.ts';
import type { ObjectStore } from '../stores/s3.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import type { SyncIndex } from './index-db.ts';
import type { PassResult } from './pass.ts';
import type { Reconciler } from './reconciler.ts';

export interface FullPassRequest {
  check: boolean;
  force: boolean;
  dryRun: boolean;
  /** With check: download and hash every object of this host. */
  deep?: boolean;
}

export interface FullPassResponse {
  /** null when the audit could not read the catalogue (then nothing ran). */
  result: PassResult | null;
  audit: AuditResult | null;
}

export interface FullPassDeps {
  config: Config;
  index: SyncIndex;
  items: ItemStore;
  objects: ObjectStore;
  log: Logger;
  reconciler: Reconciler;
  now?: () => number;
}

/** `passOnlyIfFound`: after an audit that found nothing, no pass (the daemon's own scans cover it). */
export async function runFullPassWithAudit(d: FullPassDeps, req: FullPassRequest, opts: { retryRounds?: number; passOnlyIfFound?: boolean; beforeAnimal?: () => Promise<void> } = {}): Promise<FullPassResponse> {
  let audit: AuditResult | null = null;
  if (req.check) {
    audit = await runAudit({ ...d, exclusive: (p, fn) => d.reconciler.exclusive(p, fn) }, { repair: !req.dryRun, deep: req.deep, beforeAnimal: opts.beforeAnimal });
    if (!req.dryRun) d.index.setMeta(META_LAST_AUDIT, auditSummary(audit));
    if (!audit.ok || (opts.passOnlyIfFound && audit.differences.length === 0)) return { result: null, audit };
  }
  const result = await d.reconciler.runFullPass({ dryRun: req.dryRun, force: req.force, retryRounds: opts.retryRounds });
  return { result, audit };
}
