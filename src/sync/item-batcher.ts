// Collects new items (INSERTs) and writes them 25 at a time with BatchWriteItem. Safe
// because each new item has a fresh image_id key: a repeat after a crash writes the very
// same item again. Changes (MODIFY) never go through here; they need a condition.
import type { ImageItem } from '../model.ts';
import type { ItemStore } from '../stores/dynamodb.ts';

interface Waiter {
  item: ImageItem;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class ItemBatcher {
  private readonly items: ItemStore;
  private readonly delayMs: number;
  private buffer: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(items: ItemStore, opts: { delayMs?: number } = {}) {
    this.items = items;
    this.delayMs = opts.delayMs ?? 10;
  }

  put(item: ImageItem): Promise<void> {
    return new Promise((resolve, reject) => {
      this.buffer.push({ item, resolve, reject });
      if (this.buffer.length >= 25) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.delayMs);
    });
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.buffer.splice(0, 25);
    if (batch.length === 0) return;
    if (this.buffer.length > 0) this.timer = setTimeout(() => this.flush(), 0);
    this.items.batchPut(batch.map((w) => w.item)).then(
      () => batch.forEach((w) => w.resolve()),
      (err: unknown) => batch.forEach((w) => w.reject(err)),
    );
  }
}
