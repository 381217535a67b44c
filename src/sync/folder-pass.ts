// A full pass, one animal folder at a time: scan the folder, read its index rows (a range of
// the primary key), adopt what the catalogue already holds, choose the candidates and stream
// them to the pass's workers; then the next folder. What is held for the whole pass is the
// tally (pass.ts), not a record per file: memory follows the largest folder, not the inbox.
// The next folder is scanned while the last transfers of the one before are still running.
import { chooseCandidates, PassRun, type PassDeps, type PassOptions, type PassResult, type PathWorker, type Work } from './pass.ts';
import { listInbox, scanFolder, type ScanResult } from './scanner.ts';

export async function runFolderPass(worker: PathWorker, d: PassDeps, opts: Omit<PassOptions, 'skipped' | 'seen' | 'waiting'>): Promise<PassResult> {
  const { config, index } = d;
  const run = new PassRun(worker, d, opts);
  const listed = await listInbox(config.inbox);
  run.noteSkipped(listed.skipped);
  const inInbox = new Set(listed.folders);
  // Folders the index knows and the inbox no longer has: their rows are deletes to decide.
  const folders = [...new Set([...listed.folders, ...index.folders()])].sort();
  let waited = false;
  async function* work(): AsyncGenerator<Work> {
    for (const folder of folders) {
      const scan: ScanResult = inInbox.has(folder) ? await scanFolder(config.inbox, folder) : { files: [], skipped: [] };
      run.noteSkipped(scan.skipped);
      let rows = index.scanRows(folder);
      // Adoption before the candidates (one read of this animal's partition): adopted files
      // with unchanged bytes take the fast path.
      const rowless = scan.files.filter((f) => !rows.has(f.sourcePath));
      const waiting = opts.dryRun ? new Map<string, string>() : await worker.adopt(rowless.map((f) => f.sourcePath), new Map(rowless.map((f) => [f.sourcePath, f])), { complete: false });
      if (waiting.size > 0) waited = true;
      if (rowless.length > 0) rows = index.scanRows(folder);
      const chosen = chooseCandidates(scan, rows, d.now(), config.stabilityMs);
      run.noteUnchanged(chosen.unchanged);
      run.expect(chosen.paths.length);
      run.wait(waiting);
      for (const p of chosen.paths) if (!waiting.has(p)) yield { path: p, seen: chosen.seen.get(p) };
    }
  }
  await run.feed(work());
  // Every folder was adopted: from now on a file without a row is new.
  if (!opts.dryRun && !waited) await worker.adopt([], undefined, { complete: true });
  return run.finish();
}
