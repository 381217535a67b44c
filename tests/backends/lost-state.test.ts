// Lost state on every DynamoDB implementation in tests/helpers/backends.ts: the index is gone
// (a new machine, a wiped state folder), and what the catalogue already holds must be adopted,
// not uploaded again (DESIGN.md invariant 7).
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describeBackends } from '../helpers/backends.ts';
import { assertConverged, setupSync } from '../helpers/sync.ts';

describeBackends('lost state', (test) => {
  test('after the index is deleted, sync --once adopts the catalogue: same items, no second upload', {}, async (_t, stack) => {
    const s = await setupSync(stack);
    for (const p of ['dog/a.png', 'dog/b.png', 'cat/c.png']) s.put(p);
    assert.equal((await s.once()).code, 0);
    const before = (await s.items(['dog', 'cat'])).map((i) => `${i.source_path} ${i.image_id}`).sort();
    const objects = (await s.objectKeys()).sort();

    // The test's inbox lives inside its state folder: everything else there goes.
    for (const name of readdirSync(s.config.stateDir)) {
      const p = path.join(s.config.stateDir, name);
      if (p !== s.config.inbox) rmSync(p, { recursive: true, force: true });
    }
    const res = await s.once('--json');
    assert.equal(res.code, 0, res.stderr);
    assert.equal((JSON.parse(res.stdout) as { uploaded: number }).uploaded, 0, 'nothing uploaded again');
    await assertConverged(s, { animals: ['dog', 'cat'] });
    assert.deepEqual((await s.items(['dog', 'cat'])).map((i) => `${i.source_path} ${i.image_id}`).sort(), before, 'the same items');
    assert.deepEqual((await s.objectKeys()).sort(), objects, 'the same objects');
  });
});
