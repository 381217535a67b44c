// A file that cannot be synced is logged once, not on every scan: a path is logged again only
// when its reason changes, or after it was synced (or deleted) in between.
import type { Logger } from '../log.ts';
import type { Skipped } from './scanner.ts';

export class SkipLog {
  private readonly lastReason = new Map<string, string>();
  private readonly log: Logger;

  constructor(log: Logger) {
    this.log = log;
  }

  note(s: Skipped): void {
    if (this.lastReason.get(s.path) === s.reason) return;
    this.lastReason.set(s.path, s.reason);
    // A temporary file is a download or an editor at work, not a problem: a quiet line.
    if (s.reason.startsWith('temporary file')) this.log.info({ path: s.path, reason: s.reason }, `skipped ${s.path} for now: waiting for it to finish (${s.reason})`);
    else this.log.warn({ path: s.path, reason: s.reason }, `skipped ${s.path}: ${s.reason}`);
  }

  forget(path: string): void {
    this.lastReason.delete(path);
  }
}
