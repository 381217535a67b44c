import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ByteBudget } from '../../src/sync/byte-budget.ts';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('ByteBudget', () => {
  it('grants what fits at once and holds the rest until bytes are released', async () => {
    const budget = new ByteBudget(100);
    const a = await budget.acquire(60);
    const b = await budget.acquire(40);
    assert.equal(budget.inUse, 100);
    let cGranted = false;
    const c = budget.acquire(30).then((release) => {
      cGranted = true;
      return release;
    });
    await tick();
    assert.equal(cGranted, false);
    b();
    await tick();
    assert.equal(cGranted, true);
    assert.equal(budget.inUse, 90);
    a();
    (await c)();
    assert.equal(budget.inUse, 0);
  });

  it('serves waiters first come first served: a small request does not overtake a waiting large one', async () => {
    const budget = new ByteBudget(100);
    const held = await budget.acquire(50);
    const order: string[] = [];
    const large = budget.acquire(80).then((r) => (order.push('large'), r));
    const small = budget.acquire(10).then((r) => (order.push('small'), r));
    await tick();
    assert.deepEqual(order, []);
    held();
    const releaseLarge = await large;
    await tick();
    assert.deepEqual(order, ['large', 'small']);
    releaseLarge();
    (await small)();
    assert.equal(budget.inUse, 0);
  });

  it('grants a reservation larger than the whole budget when nothing else is held, so it cannot deadlock', async () => {
    const budget = new ByteBudget(100);
    const small = await budget.acquire(10);
    let granted = false;
    const huge = budget.acquire(500).then((r) => ((granted = true), r));
    await tick();
    assert.equal(granted, false);
    small();
    (await huge)();
    assert.equal(granted, true);
    assert.equal(budget.inUse, 0);
  });

  it('ignores a second release of the same reservation', async () => {
    const budget = new ByteBudget(100);
    const a = await budget.acquire(70);
    const b = await budget.acquire(30);
    a();
    a();
    assert.equal(budget.inUse, 30);
    b();
    assert.equal(budget.inUse, 0);
  });
});
