import path from 'node:path';
import type { CommandModule } from './types.ts';
import { makeContext } from '../context.ts';
import type { Config } from '../config.ts';
import { UsageError } from '../errors.ts';
import { ensureInbox } from '../inbox.ts';
import { assertAnimal } from '../model.ts';
import { formatBytes, printJson } from '../output.ts';
import { acquirePidLock, type PidLock } from '../pid-lock.ts';
import type { ObjectGetter } from '../restore/object-get.ts';
import type { RestoreEntry, RestorePlan, Unplaceable } from '../restore/plan.ts';
import { plannedBatches, type Selection } from '../restore/select.ts';
import { createProgress } from '../progress.ts';
import { localStateOf } from '../restore/place-file.ts';
import { runRestore, type RunResult } from '../restore/run.ts';
import { openReader } from './lookup.ts';

export class RestoreIncompleteError extends Error {
  override name = 'RestoreIncompleteError';
}

function lockDestination(dir: string): PidLock {
  try {
    return acquirePidLock(path.join(dir, '.animal-sync-restore.lock'), (pid) => `another restore (pid ${pid}) is writing into ${dir}; wait for it to finish`);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === undefined) throw err;
    throw new UsageError(`cannot write to ${dir} (${code}: ${(err as Error).message.replace(/^[A-Z]+: /, '')}); give --to a folder you can write to; nothing was written`);
  }
}

async function dryRun(plan: RestorePlan, dir: string, json: boolean): Promise<void> {
  const lines = await Promise.all(plan.entries.map(async (e) => {
    const now = await localStateOf(path.join(dir, ...e.relPath.split('/')));
    const sha = e.item.sha256?.toLowerCase();
    const action = now.kind === 'absent' ? 'restore' : now.kind === 'other' ? 'conflict' : sha === undefined ? 'compare' : now.sha256 === sha ? 'present' : 'conflict';
    return { action, path: e.relPath, renamed: e.renamed };
  }));
  if (json) return printJson({ dryRun: true, dir, entries: lines, unplaceable: plan.unplaceable.map((u) => ({ sort_key: u.item.sort_key, reason: u.reason })) });
  const todo = lines.filter((l) => l.action !== 'present');
  process.stdout.write(`dry run: ${todo.length} of ${lines.length} file(s) to restore into ${dir}, nothing was written\n`);
  for (const l of todo) process.stdout.write(`  ${l.action.padEnd(8)} ${l.path}${l.renamed ? ' (name clash: image_id added)' : ''}\n`);
  for (const u of plan.unplaceable) process.stdout.write(`  skip     ${u.item.sort_key}: ${u.reason}\n`);
}

function summarize(result: RunResult, unplaceable: readonly Unplaceable[], dir: string, ms: number, json: boolean): number {
  const count = (k: string) => result.reports.filter((r) => r.outcome.kind === k).length;
  const bytes = result.reports.reduce((n, r) => n + ('bytes' in r.outcome ? r.outcome.bytes : 0), 0);
  const unverified = result.reports.filter((r) => 'verified' in r.outcome && !r.outcome.verified).length;
  const problems = result.reports.filter((r) => r.outcome.kind === 'conflict' || r.outcome.kind === 'failed');
  const totals = {
    restored: count('restored'), replaced: count('replaced'), present: count('present'), renamed: result.reports.filter((r) => r.entry.renamed).length,
    unverified, conflicts: count('conflict'), failed: count('failed'), notStarted: count('not-started'), unplaceable: unplaceable.length,
  };
  if (json) {
    printJson({ dir, ...totals, bytes, durationMs: Math.round(ms), diskFull: result.diskFull ?? null, problems: problems.map((p) => ({ path: p.entry.relPath, ...p.outcome })) });
  } else {
    const out: string[] = [`restored ${totals.restored}${totals.replaced ? `, replaced ${totals.replaced}` : ''}, already there ${totals.present}, conflicts ${totals.conflicts}, failed ${totals.failed}` +
      ` (${formatBytes(bytes)} into ${dir} in ${(ms / 1000).toFixed(2)} s)`];
    if (totals.renamed) out.push(`${totals.renamed} name clash(es): the image_id was added to the later file's name`);
    if (totals.unverified) out.push(`${totals.unverified} file(s) not verified: their items have no sha256 (size checked, and the MD5 where the ETag is one)`);
    for (const p of problems) out.push(p.outcome.kind === 'conflict' ? `  conflict ${p.entry.relPath}: ${p.outcome.why}; left as it is (--overwrite replaces it)` : `  failed   ${p.entry.relPath}: ${'error' in p.outcome ? p.outcome.error : ''}`);
    for (const u of unplaceable) out.push(`  skipped  ${u.item.sort_key}: ${u.reason}`);
    if (result.diskFull) out.push(`stopped: ${result.diskFull}; ${totals.notStarted} file(s) not restored yet. Free some space and run restore again: files already restored are skipped`);
    process.stdout.write(out.join('\n') + '\n');
  }
  return problems.length + totals.unplaceable + totals.notStarted;
}

async function restore(ctx: { config: Config; json: boolean }, argv: Record<string, unknown>): Promise<void> {
  const dir = path.resolve(argv.to === undefined ? ctx.config.inbox : String(argv.to));
  const sel: Selection = { animal: argv.animal === undefined ? undefined : assertAnimal(argv.animal), hostId: argv.allHosts ? null : ctx.config.hostId };
  const reader = await openReader(ctx.config);
  const unplaceable: Unplaceable[] = [];
  const batches = plannedBatches(reader, sel, unplaceable);
  let lock: PidLock | undefined;
  let objects: ObjectGetter | undefined;
  // The same bar as sync --once on a terminal, plain lines otherwise.
  const progress = ctx.json || argv.dryRun ? undefined : createProgress({ verb: 'files restored' });
  try {
    if (argv.dryRun) {
      const entries: RestoreEntry[] = [];
      for await (const batch of batches) entries.push(...batch);
      return await dryRun({ entries: entries.sort((x, y) => x.relPath.localeCompare(y.relPath)), unplaceable }, dir, ctx.json);
    }
    // Locked (and, for the configured inbox, made an inbox again; another folder becomes one by
    // `animal-sync init --inbox DIR`) only once there is something to write: a selection that
    // finds nothing leaves no trace.
    const locking = async function* (): AsyncGenerator<RestoreEntry[]> {
      for await (const batch of batches) {
        if (!lock) {
          lock = lockDestination(dir);
          if (dir === ctx.config.inbox) ensureInbox(dir);
        }
        yield batch;
      }
    };
    // Objects through the lean GET; loaded here, as the SDK is.
    objects = new (await import('../restore/object-get.ts')).ObjectGetter(ctx.config, reader);
    const started = performance.now();
    const result = await runRestore(objects, locking(), {
      dir, overwrite: Boolean(argv.overwrite), concurrency: ctx.config.concurrency, attempts: Math.max(3, ctx.config.maxAttempts),
      retryBaseMs: Math.min(ctx.config.retryBaseMs, 1000), onProgress: (done, total, bytes) => progress?.update({ done, total, bytes }),
    });
    progress?.finish();
    const problems = summarize(result, unplaceable, dir, performance.now() - started, ctx.json);
    if (problems > 0) throw new RestoreIncompleteError(`${problems} file(s) not restored; see above`);
  } finally {
    progress?.finish();
    objects?.close();
    lock?.release();
    reader.close();
  }
}

export const restoreCommand: CommandModule = {
  command: 'restore',
  describe: 'Bring pictures back from the catalogue into a folder laid out as an inbox (<animal>/<name>), verified, resumable',
  builder: (y) =>
    y
      .option('to', { type: 'string', describe: 'folder to restore into [default: the configured inbox]' })
      .option('animal', { type: 'string', describe: 'only this animal' })
      .option('all-hosts', { type: 'boolean', default: false, describe: 'every host\'s images (and those of other tools), not only this host\'s' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'say what would be restored; write nothing' })
      .option('overwrite', { type: 'boolean', default: false, describe: 'replace local files whose content differs' })
      .example('$0 restore', 'this host\'s pictures back into the inbox')
      .example('$0 restore --to /tmp/all --all-hosts', 'everything in the catalogue into /tmp/all'),
  async handler(argv) {
    await restore(makeContext(argv), argv);
  },
};
