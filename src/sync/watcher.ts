// chokidar on the inbox, turned into hints: "this path may have changed". The reconciler
// looks at the file afresh; an event never carries the action.
import { watch, type FSWatcher } from 'chokidar';
import path from 'node:path';
import { MARKER_NAME } from '../inbox.ts';

export interface WatchHandlers {
  /** A file path relative to the inbox (`<animal>/<name>` or a stray top-level name). */
  onPath(sourcePath: string): void;
  /** A top-level folder appeared or vanished: everything under it needs a look. */
  onFolder(name: string): void;
  onError(err: Error): void;
}

export interface InboxWatcher {
  readonly backend: 'native' | 'polling';
  ready: Promise<void>;
  close(): Promise<void>;
}

export function watchInbox(inbox: string, opts: { stabilityMs: number; polling: boolean }, handlers: WatchHandlers): InboxWatcher {
  const rel = (p: string): string => path.relative(inbox, p).split(path.sep).join('/');
  const watcher: FSWatcher = watch(inbox, {
    depth: 1,
    ignoreInitial: true,
    followSymlinks: false,
    atomic: !opts.polling,
    backend: opts.polling ? 'polling' : 'native',
    pollingInterval: 250,
    // Write-settling: hold add/change until the size has been still for the window. It only
    // watches the size, so the reconciler re-checks size and mtime itself.
    awaitWriteFinish: opts.stabilityMs > 0 ? { stabilityThreshold: opts.stabilityMs, pollInterval: Math.max(25, Math.min(100, opts.stabilityMs / 4)) } : false,
    ignored: (p: string) => {
      const r = rel(p);
      return r === MARKER_NAME || r.split('/').length > 2;
    },
  });
  const onFile = (p: string): void => {
    const r = rel(p);
    if (r && !r.startsWith('..')) handlers.onPath(r);
  };
  watcher.on('add', onFile).on('change', onFile).on('unlink', onFile);
  const onDir = (p: string): void => {
    const r = rel(p);
    if (r && !r.includes('/') && !r.startsWith('..')) handlers.onFolder(r);
  };
  watcher.on('addDir', onDir).on('unlinkDir', onDir);
  watcher.on('error', (err: unknown) => handlers.onError(err instanceof Error ? err : new Error(String(err))));
  const ready = new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  return { backend: opts.polling ? 'polling' : 'native', ready, close: () => watcher.close() };
}
