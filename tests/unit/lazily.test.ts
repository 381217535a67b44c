import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lazily } from '../../src/context.ts';

interface Greeter {
  readonly name: string;
  greet(who: string): Promise<string>;
  count(): Promise<number>;
}

describe('lazily (the stores before the SDK is loaded)', () => {
  it('loads on the first method call only, once, and forwards arguments and results', async () => {
    let loads = 0;
    let calls = 0;
    const g = lazily<Greeter>(async () => {
      loads++;
      return { name: 'real', greet: async (who) => `hello ${who}`, count: async () => ++calls };
    }, { name: 'lazy' });
    assert.equal(g.name, 'lazy');
    assert.equal(loads, 0, 'reading a field loads nothing');
    assert.equal(await g.greet('rex'), 'hello rex');
    assert.equal(await g.count(), 1);
    assert.equal(await g.count(), 2);
    assert.equal(loads, 1);
  });

  it('is not a thenable: awaiting it or returning it from an async function loads nothing', async () => {
    let loads = 0;
    const g = lazily<Greeter>(async () => {
      loads++;
      throw new Error('must not load');
    }, { name: 'lazy' });
    const same = await (async () => g)();
    assert.equal(same, g);
    assert.equal(loads, 0);
  });

  it('passes a failed load on to the caller', async () => {
    const g = lazily<Greeter>(async () => { throw new Error('no SDK'); }, { name: 'lazy' });
    await assert.rejects(g.greet('x'), /no SDK/);
  });
});
