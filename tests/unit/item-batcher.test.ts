import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ImageItem } from '../../src/model.ts';
import type { ItemStore } from '../../src/stores/dynamodb.ts';
import { PUT_MANY_LIMIT } from '../../src/stores/item-writes.ts';
import { ItemBatcher } from '../../src/sync/item-batcher.ts';

// A pure unit: the store is a recorder (the batcher against DynamoDB Local is covered by the
// sync and fault suites).
function recorder(fail?: (items: ImageItem[]) => Error | undefined, putManyLimit = 25): { store: ItemStore; batches: string[][] } {
  const batches: string[][] = [];
  const write = async (items: ImageItem[]): Promise<void> => {
    await new Promise((r) => setTimeout(r, 5));
    const err = fail?.(items);
    if (err) throw err;
    batches.push(items.map((i) => i.image_id));
  };
  return { store: { putMany: write, putManyLimit } as unknown as ItemStore, batches };
}

const item = (n: number): ImageItem => ({ image_id: `id-${n}` }) as ImageItem;

describe('ItemBatcher', () => {
  it('writes items in batches of 25 (batch) or 100 (transact) and resolves each with its callback', async () => {
    for (const [mode, size] of [['batch', 25], ['transact', 100]] as const) {
      const { store, batches } = recorder(undefined, PUT_MANY_LIMIT[mode]);
      const b = new ItemBatcher(store);
      const results = await Promise.all(Array.from({ length: size + 3 }, (_, n) => b.put(item(n), () => `done-${n}`)));
      assert.deepEqual(results, Array.from({ length: size + 3 }, (_, n) => `done-${n}`));
      assert.deepEqual(batches.map((x) => x.length), [size, 3]);
    }
  });

  it('runs the callbacks of one batch inside one group, and settles only after the group', async () => {
    const { store } = recorder();
    const log: string[] = [];
    const b = new ItemBatcher(store, {
      group: (fn) => {
        log.push('begin');
        fn();
        log.push('commit');
      },
    });
    const settled = Array.from({ length: 3 }, (_, n) => b.put(item(n), () => log.push(`written-${n}`)).then(() => log.push(`settled-${n}`)));
    await Promise.all(settled);
    assert.deepEqual(log, ['begin', 'written-0', 'written-1', 'written-2', 'commit', 'settled-0', 'settled-1', 'settled-2']);
  });

  it('rejects every waiter of a batch whose group fails, even those whose callback ran', async () => {
    const { store } = recorder();
    const ran: number[] = [];
    const b = new ItemBatcher(store, {
      group: (fn) => {
        fn();
        throw new Error('commit failed: disk full');
      },
    });
    const outcomes = await Promise.allSettled(Array.from({ length: 3 }, (_, n) => b.put(item(n), () => ran.push(n))));
    assert.deepEqual(ran, [0, 1, 2]);
    assert.deepEqual(outcomes.map((o) => o.status), ['rejected', 'rejected', 'rejected']);
    assert.match(String((outcomes[0] as PromiseRejectedResult).reason), /disk full/);
  });

  it('rejects only the waiter whose callback threw, and every waiter of a failed write', async () => {
    const { store } = recorder((items) => (items.some((i) => i.image_id === 'id-9') ? new Error('throttled') : undefined));
    const b = new ItemBatcher(store);
    const first = await Promise.allSettled([0, 1].map((n) => b.put(item(n), () => {
      if (n === 1) throw new Error('index write failed');
      return n;
    })));
    assert.deepEqual(first.map((o) => o.status), ['fulfilled', 'rejected']);
    const second = await Promise.allSettled([8, 9].map((n) => b.put(item(n), () => n)));
    assert.deepEqual(second.map((o) => o.status), ['rejected', 'rejected']);
  });
});
