// `animal-sync status`: what the index says (synced, pending, failed files with their last
// error, the last passes and audit) and, from a running daemon, its live state (over the
// state dir's control socket) and health (when its health address answers). Read-only: it
// never takes the state-dir lock, so it works next to a running daemon.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { CommandModule } from './types.ts';
import type { Config } from '../config.ts';
import { configFromArgs } from '../context.ts';
import { errorMessage, NotFoundError } from '../errors.ts';
import { formatTable, printJson } from '../output.ts';
import { parseListenAddress, reachableHost, type HealthReport } from '../service/health.ts';
import { META_LAST_AUDIT, type AuditSummary } from '../catalogue/audit.ts';
import { askDaemon } from '../sync/control.ts';
import type { LiveStatus } from '../sync/daemon.ts';
import { INDEX_FILE, META_LAST_PASS, META_LAST_RECONCILE, SyncIndex, type FailureRow, type IndexCounts, type LastPass, type LastReconcile } from '../sync/index-db.ts';

const HEALTH_TIMEOUT_MS = 2000;

export interface DaemonStatus {
  url: string;
  /** False when nothing answered at the health address (daemon stopped, or elsewhere). */
  answered: boolean;
  ok?: boolean;
  checks?: HealthReport['checks'];
  stats?: Record<string, unknown>;
  error?: string;
}

export interface SyncStatus {
  index: string;
  /** The config files that were read, lowest precedence first. */
  configFiles: readonly string[];
  counts: IndexCounts;
  failures: FailureRow[];
  lastReconcile: LastReconcile | null;
  /** The last pass of any kind (watch passes included): the running daemon's, else the index's. */
  lastPass: LastPass | null;
  lastAudit: AuditSummary | null;
  /** The running daemon's live state (control socket); null when no daemon holds this state dir. */
  live: LiveStatus | null;
  /** null when healthAddress is not set. */
  daemon: DaemonStatus | null;
  /** From the running daemon (control socket, else /healthz); null when none answered. */
  queueDepth: number | null;
  inFlight: number | null;
}

export class IndexMissingError extends NotFoundError {
  override name = 'IndexMissingError';
}

export function readIndexStatus(stateDir: string): Pick<SyncStatus, 'index' | 'counts' | 'failures' | 'lastReconcile' | 'lastPass' | 'lastAudit'> {
  const file = path.join(stateDir, INDEX_FILE);
  if (!existsSync(file)) {
    throw new IndexMissingError(`no sync index at ${file}: animal-sync sync has not run with this state dir yet (check --state-dir / ANIMAL_SYNC_STATE_DIR / --config)`);
  }
  let index: SyncIndex;
  try {
    index = SyncIndex.open(stateDir, { readOnly: true });
  } catch (err) {
    throw new Error(`cannot read the sync index ${file}: ${errorMessage(err)} (run status as the service user, e.g. sudo -u animal-sync)`, { cause: err });
  }
  try {
    return {
      index: file, counts: index.counts(), failures: index.failures(), lastReconcile: index.getMeta<LastReconcile>(META_LAST_RECONCILE) ?? null,
      lastPass: index.getMeta<LastPass>(META_LAST_PASS) ?? null, lastAudit: index.getMeta<AuditSummary>(META_LAST_AUDIT) ?? null,
    };
  } finally {
    index.close();
  }
}

export async function fetchDaemonStatus(healthAddress: string, timeoutMs = HEALTH_TIMEOUT_MS): Promise<DaemonStatus> {
  const { host, port } = parseListenAddress(healthAddress);
  const h = reachableHost(host);
  const url = `http://${h.includes(':') ? `[${h}]` : h}:${port}`;
  try {
    const res = await fetch(url + '/healthz', { signal: AbortSignal.timeout(timeoutMs) });
    const report = (await res.json()) as HealthReport;
    return { url, answered: true, ok: res.status === 200 && report.ok, checks: report.checks, stats: report.stats };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    return { url, answered: false, error: cause ?? errorMessage(err) };
  }
}

export async function collectStatus(config: Config): Promise<SyncStatus> {
  const fromIndex = readIndexStatus(config.stateDir);
  const [live, daemon] = await Promise.all([
    askDaemon(config.stateDir, { op: 'status' }, { timeoutMs: HEALTH_TIMEOUT_MS }).catch(() => null) as Promise<LiveStatus | null>,
    config.healthAddress ? fetchDaemonStatus(config.healthAddress) : null,
  ]);
  const stat = (name: string): number | null => (typeof daemon?.stats?.[name] === 'number' ? (daemon.stats[name] as number) : null);
  return {
    ...fromIndex, configFiles: config.configFiles, live, daemon,
    lastPass: live?.lastPass ?? fromIndex.lastPass, lastAudit: live?.lastAudit ?? fromIndex.lastAudit,
    queueDepth: live?.queueDepth ?? stat('queueDepth'), inFlight: live?.inFlight ?? stat('inFlight'),
  };
}

function ago(iso: string, now: number): string {
  const s = Math.round((now - Date.parse(iso)) / 1000);
  if (!Number.isFinite(s)) return '';
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  if (s < 172800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

function passLine(r: LastReconcile, now: number): string {
  return `${r.finishedAt} (${ago(r.finishedAt, now)}), ${(r.durationMs / 1000).toFixed(2)} s: ${r.uploaded} uploaded, ${r.updated} updated, ${r.deleted} deleted, ${r.failed} failed${r.ok ? '' : ' — NOT OK'}`;
}

function auditLine(a: AuditSummary, now: number): string {
  if (!a.ok) return `${a.finishedAt} (${ago(a.finishedAt, now)}): FAILED: ${a.error}`;
  const found = Object.entries(a.found).map(([k, n]) => `${k} ${n}`).join(', ');
  const repaired = Object.values(a.repaired).reduce((x, y) => x + y, 0);
  return `${a.finishedAt} (${ago(a.finishedAt, now)}): ${found ? `found ${found}; ${repaired} repaired` : 'everything matched'}${a.left ? `, ${a.left} left alone` : ''}`;
}

function daemonLine(d: DaemonStatus | null, live: LiveStatus | null): string {
  const running = live ? `running (pid ${live.pid}; watcher ${live.watcher}; ${live.passes} pass(es) so far${live.fullPassRunning ? '; a full pass is running' : ''})` : '';
  if (live && d) return `${daemonLine(d, null)}; ${running}`;
  if (live) return running;
  if (!d) return 'health address not set (healthAddress); no daemon answers on this state dir\'s control socket';
  if (!d.answered) return `not answering at ${d.url} (${d.error})`;
  if (d.ok) return `healthy (${d.url})`;
  const failing = Object.entries(d.checks ?? {}).filter(([, c]) => !c.ok).map(([name, c]) => `${name}: ${c.detail ?? 'failed'}`);
  return `UNHEALTHY (${d.url}): ${failing.join('; ') || 'no reason given'}`;
}

export function formatStatus(s: SyncStatus, now = Date.now()): string {
  const { counts, lastReconcile: r } = s;
  const rows: [string, string][] = [
    ['index', s.index],
    ['config files', s.configFiles.length > 0 ? s.configFiles.join(', ') : 'none (defaults, environment and flags only)'],
    ['files', `${counts.synced} synced, ${counts.pending} pending, ${counts.failed} failed`],
    ['last reconcile', r ? passLine(r, now) : 'none yet'],
    ['last pass', s.lastPass ? `${s.lastPass.kind}, ${passLine(s.lastPass, now)}` : 'none yet'],
    ['last audit', s.lastAudit ? auditLine(s.lastAudit, now) : 'none yet'],
    ['daemon', daemonLine(s.daemon, s.live)],
  ];
  if (s.queueDepth !== null) rows.push(['queue', `${s.queueDepth} queued, ${s.inFlight ?? 0} in flight${s.live ? `, ${s.live.dirty} dirty` : ''}`]);
  const lines = rows.map(([k, v]) => `${k.padEnd(15)} ${v}`);
  if (s.failures.length > 0) {
    lines.push('', `failed files (${s.failures.length}):`);
    lines.push(formatTable(['PATH', 'ATTEMPTS', 'LAST FAILURE', 'ERROR'], s.failures.map((f) => [f.source_path, String(f.attempts), f.last_error_at, f.last_error.replace(/\s+/g, ' ')])));
  }
  return lines.join('\n');
}

export const statusCommand: CommandModule = {
  command: 'status',
  describe: 'Show what is synced, pending and failed (from the index) and the daemon\'s health and queue',
  builder: (y) =>
    y
      .example('$0 status --config /etc/animal-sync/config.json', 'the service\'s state')
      .example('$0 status --json', 'the same for scripts'),
  async handler(argv) {
    const config = configFromArgs(argv);
    const status = await collectStatus(config);
    if (argv.json) printJson(status);
    else process.stdout.write(formatStatus(status) + '\n');
  },
};
