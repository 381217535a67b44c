// The daemon's Prometheus metrics: one registry per daemon (never prom-client's global one,
// so tests and several daemons in one process do not share counters).
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AuditResult } from '../catalogue/audit.ts';

export interface SyncMetrics {
  registry: Registry;
  filesUploaded: Counter;
  filesUpdated: Counter;
  filesDeleted: Counter;
  filesFailed: Counter;
  bytesUploaded: Counter;
  queueDepth: Gauge;
  inFlight: Gauge;
  /** Seconds, one observation per reconcile pass. */
  reconcileDuration: Histogram;
  /** Seconds from file close (mtime) to item written. */
  catalogueLatency: Histogram;
  /** Unix seconds of the last pass with no failure. */
  lastGoodReconcile: Gauge;
  /** Differences audits found, by kind (label `kind`). */
  auditDifferences: Counter<'kind'>;
  /** Differences audits repaired or handed to the pass, by kind. */
  auditRepaired: Counter<'kind'>;
  /** Audits that could not read the catalogue (nothing repaired). */
  auditFailures: Counter;
  /** Unix seconds of the last audit that read the whole catalogue. */
  lastAudit: Gauge;
  recordAudit(audit: AuditResult): void;
}

export const METRIC_PREFIX = 'animal_sync_';

export function createMetrics(): SyncMetrics {
  const registry = new Registry();
  // process_* and nodejs_* keep their standard names, so stock dashboards work unchanged.
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const counter = (name: string, help: string): Counter => new Counter({ name: METRIC_PREFIX + name, help, registers });
  const gauge = (name: string, help: string): Gauge => new Gauge({ name: METRIC_PREFIX + name, help, registers });
  const auditDifferences = new Counter({ name: METRIC_PREFIX + 'audit_differences_total', help: 'Differences between the inbox and the catalogue found by audits, by kind.', labelNames: ['kind'] as const, registers });
  const auditRepaired = new Counter({ name: METRIC_PREFIX + 'audit_repaired_total', help: 'Differences audits repaired (or handed to the following pass), by kind.', labelNames: ['kind'] as const, registers });
  const auditFailures = counter('audit_failures_total', 'Audits that could not read the whole catalogue and repaired nothing.');
  const lastAudit = gauge('last_audit_timestamp_seconds', 'Unix time of the last audit that read the whole catalogue.');
  return {
    auditDifferences, auditRepaired, auditFailures, lastAudit,
    recordAudit(audit) {
      if (!audit.ok) {
        auditFailures.inc();
        return;
      }
      lastAudit.set(Date.parse(audit.finishedAt) / 1000);
      for (const [kind, n] of Object.entries(audit.found)) auditDifferences.inc({ kind }, n);
      for (const [kind, n] of Object.entries(audit.repaired)) auditRepaired.inc({ kind }, n);
    },
    registry,
    filesUploaded: counter('files_uploaded_total', 'New files uploaded (object + item written).'),
    filesUpdated: counter('files_updated_total', 'Files whose content changed in place and were rewritten.'),
    filesDeleted: counter('files_deleted_total', 'Files deleted locally whose item and object were deleted.'),
    filesFailed: counter('files_failed_total', 'Failed attempts to sync a file (each retry counts).'),
    bytesUploaded: counter('bytes_uploaded_total', 'Bytes sent to S3 by finished uploads and updates.'),
    queueDepth: gauge('queue_depth', 'Paths waiting to be reconciled.'),
    inFlight: gauge('in_flight', 'Paths being reconciled right now.'),
    reconcileDuration: new Histogram({
      name: METRIC_PREFIX + 'reconcile_duration_seconds',
      help: 'Duration of one full reconcile pass.',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
      registers,
    }),
    catalogueLatency: new Histogram({
      name: METRIC_PREFIX + 'catalogue_latency_seconds',
      help: 'Time from a file\'s last write (mtime) to its item being written to the table.',
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600],
      registers,
    }),
    lastGoodReconcile: gauge('last_good_reconcile_timestamp_seconds', 'Unix time of the last reconcile pass that had no failure.'),
  };
}
