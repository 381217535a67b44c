// The daemon's full passes and audits, one at a time: the periodic scan, the audit after
// start-up and every checkIntervalSec, and the passes `sync --once` asks for (control.ts).
import { auditSummary, type AuditResult, type AuditSummary } from '../catalogue/audit.ts';
import { errorMessage } from '../errors.ts';
import { runFullPassWithAudit, type FullPassDeps, type FullPassRequest, type FullPassResponse } from './full-pass.ts';
import type { PassResult } from './pass.ts';

export interface FullPassesDeps extends FullPassDeps {
  force: boolean;
  onPass(result: PassResult): void;
  onAudit?: (audit: AuditResult) => void;
  /** Keeps a started audit in the daemon's set of running work (stop() waits for it). */
  track(p: Promise<unknown>): void;
  /** Awaited before each animal of an audit (the daemon's live work goes first). */
  beforeAuditAnimal?: () => Promise<void>;
}

export class FullPasses {
  lastAudit: AuditSummary | null = null;
  private readonly d: FullPassesDeps;
  private chain: Promise<unknown> = Promise.resolve();
  private queued = 0;
  private auditTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(deps: FullPassesDeps) {
    this.d = deps;
  }

  get busy(): boolean {
    return this.queued > 0;
  }

  /** A periodic full pass; dropped while another waits or runs (that one looks at everything too). */
  async scan(): Promise<void> {
    if (this.queued > 0) return;
    await this.serial(() => this.run({ check: false, force: this.d.force, dryRun: false }, 'full scan')).catch(() => undefined);
  }

  /** Check and repair of what this host owns; a pass follows only when something was found. */
  async audit(): Promise<void> {
    await this.serial(() => this.run({ check: true, force: this.d.force, dryRun: false }, 'audit', { passOnlyIfFound: true })).catch(() => undefined);
    this.scheduleAudit();
  }

  /** A pass another command asked for: runs after what is running, and is never dropped. */
  request(req: FullPassRequest): Promise<FullPassResponse> {
    return this.serial(() => this.run(req, 'requested pass'));
  }

  stop(): void {
    this.stopped = true;
    if (this.auditTimer) clearTimeout(this.auditTimer);
  }

  private scheduleAudit(): void {
    const every = this.d.config.checkIntervalSec;
    if (this.stopped || every === 0) return;
    if (this.auditTimer) clearTimeout(this.auditTimer);
    this.auditTimer = setTimeout(() => this.d.track(this.audit()), every * 1000);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    this.queued++;
    const run = this.chain.then(fn).finally(() => void this.queued--);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async run(req: FullPassRequest, what: string, opts: { passOnlyIfFound?: boolean } = {}): Promise<FullPassResponse> {
    try {
      const res = await runFullPassWithAudit(this.d, req, { retryRounds: 1, passOnlyIfFound: opts.passOnlyIfFound, beforeAnimal: this.d.beforeAuditAnimal });
      if (res.audit) {
        this.lastAudit = auditSummary(res.audit);
        this.d.onAudit?.(res.audit);
      }
      if (res.result && !req.dryRun) this.d.onPass(res.result);
      return res;
    } catch (err) {
      this.d.log.error({ err: errorMessage(err), inbox: this.d.config.inbox }, `${what} failed: ${errorMessage(err)}; retrying at the next scan`);
      throw err;
    }
  }
}
