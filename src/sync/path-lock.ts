// Work on one path is serialized: runs for the same key never overlap, and a run that is
// still waiting absorbs later requests (they would look at the same file anyway).
export class PathLock {
  private readonly tails = new Map<string, Promise<unknown>>();
  private readonly waiting = new Map<string, Promise<unknown>>();

  /** `op` names the kind of work: only a waiting run of the same kind absorbs a new request. */
  run<T>(key: string, fn: () => Promise<T>, op = ''): Promise<T> {
    const waitKey = `${key}\0${op}`;
    const pending = this.waiting.get(waitKey);
    if (pending) return pending as Promise<T>;
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(
      () => {
        this.waiting.delete(waitKey);
        return fn();
      },
      () => {
        this.waiting.delete(waitKey);
        return fn();
      },
    );
    this.waiting.set(waitKey, next);
    this.tails.set(key, next);
    const cleanup = (): void => {
      if (this.tails.get(key) === next) this.tails.delete(key);
    };
    next.then(cleanup, cleanup);
    return next;
  }

  get size(): number {
    return this.tails.size;
  }
}
