// The daemon's Prometheus metrics: one registry per daemon (never prom-client's global one,
// so tests and several daemons in one process do not share counters).
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

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
}

export const METRIC_PREFIX = 'animal_sync_';

export function createMetrics(): SyncMetrics {
  const registry = new Registry();
  // process_* and nodejs_* keep their standard names, so stock dashboards work unchanged.
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const counter = (name: string, help: string): Counter => new Counter({ name: METRIC_PREFIX + name, help, registers });
  const gauge = (name: string, help: string): Gauge => new Gauge({ name: METRIC_PREFIX + name, help, registers });
  return {
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
