// An audit: a check and, when asked, the repair of what this host owns. It writes nothing when
// the catalogue cannot be read whole: a partial picture would make a present object look
// missing and an item look orphaned.
import type { Config } from '../config.ts';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { ItemStore } from '../stores/dynamodb.ts';
import type { ObjectStore } from '../stores/s3.ts';
import type { SyncIndex } from '../sync/index-db.ts';
import { checkCatalogue } from './check.ts';
import { countByKind, type CheckReport, type Difference, type DifferenceKind } from './differences.ts';
import { CatalogueUnreadableError } from './read.ts';
import { repairDifferences, type RepairDeps } from './repair.ts';

/** Meta key of the last audit (what `status` shows). */
export const META_LAST_AUDIT = 'last_audit';

export interface AuditSummary {
  finishedAt: string;
  /** False when the catalogue could not be read (then nothing was repaired). */
  ok: boolean;
  error: string | null;
  found: Partial<Record<DifferenceKind, number>>;
  repaired: Partial<Record<DifferenceKind, number>>;
  left: number;
  counts: CheckReport['counts'] | null;
}

export interface AuditResult extends AuditSummary {
  differences: Difference[];
}

export interface AuditDeps {
  config: Config;
  index: SyncIndex;
  items: ItemStore;
  objects: ObjectStore;
  log: Logger;
  exclusive: RepairDeps['exclusive'];
  now?: () => number;
}

/** `beforeAnimal`: awaited before each animal is read (see CheckInput). */
export async function runAudit(d: AuditDeps, opts: { repair: boolean; deep?: boolean; beforeAnimal?: () => Promise<void> }): Promise<AuditResult> {
  const at = (): string => new Date((d.now ?? Date.now)()).toISOString();
  let checked;
  try {
    checked = await checkCatalogue({ config: d.config, stores: d, rows: d.index, deep: opts.deep, beforeAnimal: opts.beforeAnimal });
  } catch (err) {
    if (!(err instanceof CatalogueUnreadableError)) throw err;
    const error = `${errorMessage(err)}; nothing was repaired`;
    d.log.error({ error }, `audit failed: ${error}`);
    return { finishedAt: at(), ok: false, error, found: {}, repaired: {}, left: 0, counts: null, differences: [] };
  }
  const { report, view, rows } = checked;
  const found = countByKind(report.differences);
  const repair = opts.repair && report.differences.length > 0 ? await repairDifferences(d, report, view, rows) : { repaired: {}, left: [] };
  const result: AuditResult = { finishedAt: at(), ok: true, error: null, found, repaired: repair.repaired, left: repair.left.length, counts: report.counts, differences: report.differences };
  d.log.info({ found, repaired: repair.repaired, left: repair.left.length, ...report.counts },
    `audit: ${report.differences.length} difference(s)${opts.repair ? `, ${Object.values(repair.repaired).reduce((a, b) => a + b, 0)} repaired or handed to the pass` : ''}`);
  return result;
}

export function auditSummary(r: AuditResult): AuditSummary {
  const { differences: _omitted, ...summary } = r;
  return summary;
}
