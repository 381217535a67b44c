// The status strip: files synced, pending and failed, and the last pass. In `local` it comes
// from the daemon in the same process; for `serve`, from the sync index in the state dir (read
// only, as `animal-sync status` does) and the daemon's health address when one is configured.
import type { Config } from '../config.ts';
import { fetchDaemonStatus, readIndexStatus } from '../commands/status.ts';
import { errorMessage } from '../errors.ts';
import type { IndexCounts, LastReconcile } from '../sync/index-db.ts';
import { formatInstant } from './view.ts';

export interface StatusStrip {
  level: 'ok' | 'busy' | 'error' | 'off';
  text: string;
}

export type StatusSource = () => Promise<StatusStrip>;

export interface DaemonView {
  counts: IndexCounts;
  lastReconcile: LastReconcile | null;
  /** From the health address: null = not configured; a string = why it did not answer. */
  health?: { ok: boolean; queueDepth?: number } | string | null;
}

export function describeStatus(d: DaemonView | null): StatusStrip {
  if (!d) return { level: 'off', text: 'no sync daemon status here (read-only view of the catalogue)' };
  const { counts: c, lastReconcile: r } = d;
  const parts = [`${c.synced} synced`, `${c.pending} pending`, `${c.failed} failed`];
  parts.push(r ? `last pass ${formatInstant(r.finishedAt.replace(/\.\d+Z$/, 'Z'))}${r.ok ? '' : ' (not ok)'}` : 'no pass yet');
  if (typeof d.health === 'string') parts.push(`daemon not answering (${d.health})`);
  else if (d.health) parts.push(d.health.ok ? `daemon healthy${d.health.queueDepth ? `, ${d.health.queueDepth} queued` : ''}` : 'daemon UNHEALTHY');
  const bad = c.failed > 0 || (r !== null && !r.ok) || typeof d.health === 'string' || (d.health !== null && d.health !== undefined && !d.health.ok);
  return { level: bad ? 'error' : c.pending > 0 ? 'busy' : 'ok', text: parts.join(' · ') };
}

/** `local`: the daemon's own index, in the same process. */
export function inProcessStatus(daemon: { index: { counts(): IndexCounts; getMeta<T>(key: string): T | undefined } }, metaKey: string): StatusSource {
  return async () => describeStatus({ counts: daemon.index.counts(), lastReconcile: daemon.index.getMeta<LastReconcile>(metaKey) ?? null });
}

/** `serve`: whatever a daemon with this config left in its state dir, and its health address. */
export function sharedStatus(config: Config): StatusSource {
  return async () => {
    let fromIndex: ReturnType<typeof readIndexStatus>;
    try {
      fromIndex = readIndexStatus(config.stateDir);
    } catch (err) {
      if ((err as Error).name === 'IndexMissingError') return describeStatus(null);
      return { level: 'error', text: `cannot read the sync index: ${errorMessage(err)}` };
    }
    let health: DaemonView['health'] = null;
    if (config.healthAddress) {
      const h = await fetchDaemonStatus(config.healthAddress, 1000);
      health = h.answered ? { ok: h.ok === true, queueDepth: typeof h.stats?.queueDepth === 'number' ? h.stats.queueDepth : undefined } : (h.error ?? 'no answer');
    }
    return describeStatus({ counts: fromIndex.counts, lastReconcile: fromIndex.lastReconcile, health });
  };
}
