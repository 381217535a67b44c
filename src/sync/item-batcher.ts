// Collects new items (INSERTs) and writes them together, as many per request as the store's
// putMany takes. Unconditional writes are safe here because each new item has a fresh image_id key:
// a repeat after a crash writes the very same item again. Changes (MODIFY) never go
// through here; they need a condition.
import type { ImageItem } from '../model.ts';
import type { ItemStore } from '../stores/dynamodb.ts';

interface Waiter {
  item: ImageItem;
  /** Runs once the item is written, with the rest of its batch (see `group`). */
  written: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

export class ItemBatcher {
  private readonly items: ItemStore;
  private readonly delayMs: number;
  private readonly maxInFlight: number;
  private buffer: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;

  /**
   * At most `maxInFlight` requests at a time: while they run, new items gather into full
   * batches (one BatchWriteItem of 25 costs DynamoDB Local about what 8 PutItems do).
   */
  private readonly size: number;

  /** Wraps the `written` callbacks of one batch (the reconciler: one index transaction). */
  private readonly group: (fn: () => void) => void;

  constructor(items: ItemStore, opts: { delayMs?: number; maxInFlight?: number; group?: (fn: () => void) => void } = {}) {
    this.items = items;
    this.group = opts.group ?? ((fn) => fn());
    this.delayMs = opts.delayMs ?? 10;
    this.maxInFlight = opts.maxInFlight ?? 2;
    this.size = items.putManyLimit;
  }

  /** Writes `item` with others; `written` runs right after its batch is written, and its result resolves the promise. */
  put<T>(item: ImageItem, written: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.buffer.push({ item, written, resolve: resolve as (value: unknown) => void, reject });
      if (this.buffer.length >= this.size) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.delayMs);
    });
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.buffer.length > 0 && this.inFlight < this.maxInFlight) {
      const batch = this.buffer.splice(0, this.size);
      this.inFlight++;
      const items = batch.map((w) => w.item);
      this.items.putMany(items).then(
        () => {
          // Settled only after the group as a whole went through (say, its commit).
          const settle: (() => void)[] = [];
          try {
            this.group(() => {
              for (const w of batch) {
                try {
                  const value = w.written();
                  settle.push(() => w.resolve(value));
                } catch (err) {
                  settle.push(() => w.reject(err));
                }
              }
            });
          } catch (err) {
            batch.forEach((w) => w.reject(err));
            return;
          }
          settle.forEach((f) => f());
        },
        (err: unknown) => batch.forEach((w) => w.reject(err)),
      ).finally(() => {
        this.inFlight--;
        if (this.buffer.length > 0) this.flush();
      });
    }
  }
}
