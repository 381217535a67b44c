// `npm start` runs `local` as npm's child. npm passes SIGTERM and SIGINT on, but when npm itself
// dies without doing so (SIGKILL, a crash, a process manager that kills only the pid it knows),
// the stack would live on as an orphan holding its ports. Under npm, the stack's life is npm's:
// once the parent is gone (this process was re-parented), stop as on SIGTERM.
// Outside npm nothing is watched, so `nohup animal-sync local &` keeps running on purpose.

export interface ParentWatch {
  stop(): void;
}

export function stopWhenParentExits(onExit: () => void, opts: { env?: NodeJS.ProcessEnv; intervalMs?: number } = {}): ParentWatch {
  const env = opts.env ?? process.env;
  if (!env.npm_lifecycle_event) return { stop: () => undefined };
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      onExit();
    }
  }, opts.intervalMs ?? 500);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
