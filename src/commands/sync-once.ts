// `animal-sync sync --once [--check] [--dry-run]`: one full pass, a summary, exit 0 only when
// nothing failed. While a daemon holds the state dir, the daemon runs the pass (control.ts)
// and this process prints its result: one daemon per state dir, never a second index.
import type { Stores } from '../context.ts';
import type { Config } from '../config.ts';
import { LockedError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { printJson } from '../output.ts';
import { countByKind } from '../catalogue/differences.ts';
import { auditSummary } from '../catalogue/audit.ts';
import { META_CATALOGUE_ADOPTED } from '../catalogue/adopt.ts';
import { planAdoption, type DryRunAdoption } from '../catalogue/dry-run.ts';
import { askDaemon } from '../sync/control.ts';
import { runFullPassWithAudit, type FullPassRequest, type FullPassResponse } from '../sync/full-pass.ts';
import { SyncIndex, META_LAST_PASS, META_LAST_RECONCILE } from '../sync/index-db.ts';
import { acquireStateLock, type StateLock } from '../sync/lock.ts';
import type { Progress } from '../progress.ts';
import { lastReconcileOf, Reconciler, type PassResult } from '../sync/reconciler.ts';
import { formatDifferences } from './check.ts';

export class SyncFailedError extends Error {
  override name = 'SyncFailedError';
}

export interface OnceOptions {
  dryRun: boolean;
  force: boolean;
  json: boolean;
  check: boolean;
  deep: boolean;
  /** A progress bar (terminal) or plain lines; the caller made it so that the logger writes above it. */
  progress?: Progress;
}

function dryRunText(r: PassResult, a: DryRunAdoption): string[] {
  const changes = a.plan.length - a.adopt;
  const adopted = a.adopt > 0 ? `, ${a.adopt} file(s) would be adopted from the catalogue (nothing sent)` : '';
  const lines = [a.plan.length === 0 ? 'dry run: nothing to do' : `dry run: ${changes} change(s) planned${adopted}, nothing was changed`];
  for (const p of a.plan) lines.push(`  ${p.action.kind.padEnd(7)} ${p.path}${p.action.reason ? ` (${p.action.reason})` : ''}`);
  if (a.error) lines.push(`  ${a.error}`);
  if (r.deleteBlockReason) lines.push(`  deletes would be blocked: ${r.deleteBlockReason}`);
  return lines;
}

function passText(r: PassResult, adoption: DryRunAdoption | null): string[] {
  const lines: string[] = [];
  if (adoption) return dryRunText(r, adoption);
  lines.push(`uploaded ${r.uploaded}, updated ${r.updated}, deleted ${r.deleted}, unchanged ${r.unchanged}, skipped ${r.skipped}, failed ${r.failed} (${(r.durationMs / 1000).toFixed(2)} s)`);
  if (r.heldDeletes.length) lines.push(`${r.heldDeletes.length} delete(s) not made: ${r.deleteBlockReason}`);
  for (const f of r.failures) lines.push(`  failed ${f.path}: ${f.error}`);
  return lines;
}

function auditText(res: FullPassResponse): string[] {
  const a = res.audit;
  if (!a) return [];
  if (!a.ok) return [`check failed: ${a.error}`];
  const kinds = Object.entries(countByKind(a.differences)).map(([k, n]) => `${k} ${n}`).join(', ');
  const repaired = Object.entries(a.repaired).map(([k, n]) => `${k} ${n}`).join(', ');
  return [
    ...formatDifferences(a.differences),
    a.differences.length === 0 ? 'check: everything matches' : `check: ${a.differences.length} difference(s) (${kinds}); repaired or handed to the pass: ${repaired || 'none'}${a.left ? `; ${a.left} left alone (see the log)` : ''}`,
  ];
}

/** A dry run's plan with the adoption a real pass would make first (read-only; catalogue/dry-run.ts). */
async function dryRunAdoption(res: FullPassResponse, config: Config, stores: Stores, adoptedAlready: boolean): Promise<DryRunAdoption | null> {
  if (!res.result) return null;
  return planAdoption(res.result.plan, { config, items: stores.items, objects: stores.objects, adoptedAlready });
}

/** Prints the response and turns it into the exit code (by throwing). */
function report(res: FullPassResponse, opts: OnceOptions, via: string | null, adoption: DryRunAdoption | null): void {
  const r = res.result;
  if (opts.json) {
    const dry = adoption ? { plan: adoption.plan, adoption: { adopt: adoption.adopt, update: adoption.update, resend: adoption.resend, error: adoption.error } } : {};
    printJson({
      dryRun: opts.dryRun, ...(via ? { via } : {}), ...(r ? { ...r, deletesBlocked: r.heldDeletes.length, ...dry } : {}),
      ...(res.audit ? { check: { ...auditSummary(res.audit), differences: res.audit.differences.map(({ kind, path, detail }) => ({ kind, path, detail })) } } : {}),
    });
  } else {
    const lines = [...(via ? [`(pass run by ${via})`] : []), ...auditText(res), ...(r ? passText(r, adoption) : [])];
    process.stdout.write(lines.join('\n') + '\n');
  }
  if (res.audit && !res.audit.ok) throw new SyncFailedError(`${res.audit.error}`);
  if (!r) return;
  if (r.failed > 0) throw new SyncFailedError(`${r.failed} file(s) failed; they are retried on the next run`);
  if (r.heldDeletes.length > 0 && !opts.dryRun) throw new SyncFailedError(`${r.heldDeletes.length} delete(s) were held back: ${r.deleteBlockReason}`);
}

/** Whether the running daemon's index has adopted already (then a file without a row is new). */
function adoptedBesideDaemon(stateDir: string): boolean {
  const index = SyncIndex.open(stateDir, { readOnly: true });
  try {
    return Boolean(index.getMeta(META_CATALOGUE_ADOPTED));
  } finally {
    index.close();
  }
}

export async function runOnce(config: Config, log: Logger, stores: Stores, opts: OnceOptions): Promise<void> {
  const request: FullPassRequest = { check: opts.check, force: opts.force, dryRun: opts.dryRun, deep: opts.deep };
  // Even a dry run takes the lock: it must not read a half-updated index of a running daemon.
  let lock: StateLock;
  try {
    lock = acquireStateLock(config.stateDir);
  } catch (err) {
    if (!(err instanceof LockedError)) throw err;
    const res = (await askDaemon(config.stateDir, { op: 'pass', ...request })) as FullPassResponse | null;
    if (res === null) throw err; // a holder that is not a daemon (another sync --once)
    const adoption = opts.dryRun ? await dryRunAdoption(res, config, stores, adoptedBesideDaemon(config.stateDir)) : null;
    report(res, opts, 'the running daemon', adoption);
    return;
  }
  const index = SyncIndex.open(config.stateDir);
  const progress = opts.progress;
  try {
    const reconciler = new Reconciler({ config, index, objects: stores.objects, items: stores.items, log, hooks: { onProgress: (e) => progress?.update(e) } });
    const res = await runFullPassWithAudit({ config, index, items: stores.items, objects: stores.objects, log, reconciler }, request);
    progress?.finish();
    if (res.result && !opts.dryRun) {
      const last = lastReconcileOf(res.result);
      index.setMeta(META_LAST_RECONCILE, last);
      index.setMeta(META_LAST_PASS, { ...last, kind: 'full' });
    }
    const adoption = opts.dryRun ? await dryRunAdoption(res, config, stores, Boolean(index.getMeta(META_CATALOGUE_ADOPTED))) : null;
    report(res, opts, null, adoption);
  } finally {
    index.close();
    lock.release();
  }
}
