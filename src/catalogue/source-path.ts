// Where a file lies relative to the inbox, in the form the daemon writes as source_path
// (`<animal>/<name>.png`). `upload` uses it so that a file it catalogues from inside the inbox
// gets the daemon's source_path; the catalogue reader uses it so that an item an older `upload`
// wrote with an absolute source_path inside the inbox stands for that file (never a second item).
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { folderNameProblem, splitSourcePath } from '../sync/scanner.ts';

/** The inbox as written and as the file system resolves it (a symlinked inbox has two spellings). */
export function inboxRoots(inbox: string): string[] {
  const resolved = path.resolve(inbox);
  let real: string;
  try {
    real = realpathSync(resolved);
  } catch {
    return [resolved];
  }
  return real === resolved ? [resolved] : [resolved, real];
}

/**
 * `<animal>/<name>` when the absolute `file` lies directly in an animal folder of the inbox,
 * else null. Pure apart from the roots, which the caller resolves once.
 */
export function inboxSourcePath(roots: readonly string[], file: string): string | null {
  if (!path.isAbsolute(file)) return null;
  for (const root of roots) {
    const rel = path.relative(root, path.normalize(file));
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) continue;
    const sourcePath = rel.split(path.sep).join('/');
    const split = splitSourcePath(sourcePath);
    if (split && folderNameProblem(split.animal) === null) return sourcePath;
  }
  return null;
}
