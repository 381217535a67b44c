// kill -9 of the real daemon at many points during a burst of 100 new files (six of them
// multipart) and 30 deletes, restarting it each time. Most kill points are exact: a fault
// proxy holds one chosen request (a multipart part, a CompleteMultipartUpload, a PutObject,
// the item write of objects already in S3, a DeleteItem, the DeleteObject after it) and
// the daemon is killed while it waits. The held request is then dropped or, just as often,
// applied after the crash (the write landed, its answer never did). The rest are random
// moments. Ten files synced before the burst change during it (conditional MODIFYs). After a
// last fault-free run: invariant 3, exactly one INSERT per new file, one version per change.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../helpers/cli.ts';
import { forward, Gate, startFaultProxy, type Decide, type FaultProxy, type ProxiedRequest } from '../helpers/fault-proxy.ts';
import { assertConvergedAfterFaults, daemonThrough, fullReconcile, seededRandom, setupFaultSync, startLambdaLog, waitConverged } from '../helpers/faults.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

const MiB = 1024 * 1024;
const ANIMALS = ['dog', 'cat', 'bird', 'fox', 'owl'];
const WAVES = 26;
const MIN_EXACT_KILLS = 20;

/** New items go out as TransactWriteItems (DynamoDB Local) or BatchWriteItem (AWS). */
const isItemBatch = (r: ProxiedRequest): boolean => r.op === 'BatchWriteItem' || r.op === 'TransactWriteItems';

interface KillPoint {
  name: string;
  store: 's3' | 'dynamodb' | null;
  /** The request to hold; null = a random moment. */
  match: ((r: ProxiedRequest) => boolean) | null;
  /** What happens to the held request once the daemon is dead. */
  afterKill: 'apply' | 'drop';
}

const KILL_POINTS: Record<string, KillPoint> = {
  midMultipart: { name: 'in the middle of a multipart upload (part 2 held)', store: 's3', match: (r) => r.op === 'UploadPart' && r.query.get('partNumber') === '2', afterKill: 'drop' },
  completeApplied: { name: 'CompleteMultipartUpload held, applied after the crash', store: 's3', match: (r) => r.op === 'CompleteMultipartUpload', afterKill: 'apply' },
  putDropped: { name: 'PutObject held, dropped', store: 's3', match: (r) => r.op === 'PutObject', afterKill: 'drop' },
  putApplied: { name: 'PutObject held, applied after the crash', store: 's3', match: (r) => r.op === 'PutObject', afterKill: 'apply' },
  batchDropped: { name: 'between S3 and DynamoDB: the new items\' write held, dropped', store: 'dynamodb', match: (r) => isItemBatch(r), afterKill: 'drop' },
  batchApplied: { name: 'between S3 and DynamoDB: the new items\' write held, applied after the crash', store: 'dynamodb', match: (r) => isItemBatch(r), afterKill: 'apply' },
  deleteItemDropped: { name: 'delete journaled, DeleteItem held, dropped', store: 'dynamodb', match: (r) => r.op === 'DeleteItem', afterKill: 'drop' },
  deleteItemApplied: { name: 'DeleteItem held, applied after the crash', store: 'dynamodb', match: (r) => r.op === 'DeleteItem', afterKill: 'apply' },
  changeApplied: { name: 'between S3 and DynamoDB on a change: conditional PutItem held, applied after the crash', store: 'dynamodb', match: (r) => r.op === 'PutItem', afterKill: 'apply' },
  changeDropped: { name: 'between S3 and DynamoDB on a change: conditional PutItem held, dropped', store: 'dynamodb', match: (r) => r.op === 'PutItem', afterKill: 'drop' },
  deleteObjectDropped: { name: 'between DynamoDB and S3 on delete: DeleteObject held, dropped', store: 's3', match: (r) => r.op === 'DeleteObject', afterKill: 'drop' },
  random: { name: 'a random moment', store: null, match: null, afterKill: 'drop' },
};

interface Wave {
  writes: { path: string; padTo: number }[];
  deletes: string[];
  /** Files synced before the burst whose content changes (MODIFY). */
  changes: string[];
}

/** 100 new files over the waves (one large multipart file every fourth wave), 30 deletes, 10 changes. */
function planWaves(rand: () => number, existing: string[], kept: string[]): Wave[] {
  const waves: Wave[] = Array.from({ length: WAVES }, () => ({ writes: [], deletes: [], changes: [] }));
  for (let i = 0; i < kept.length; i++) waves[i * 2 + 3]!.changes.push(kept[i]!);
  const small = ['cat', 'bird', 'fox'];
  let n = 0;
  for (let i = 0; i < 6; i++) waves[i * 4 + 1]!.writes.push({ path: `owl/big-${i}.png`, padTo: 10 * MiB + Math.floor(rand() * 3 * MiB) });
  for (let i = 0; i < 94; i++) waves[i % WAVES]!.writes.push({ path: `${small[i % 3]}/f-${n++}.png`, padTo: 500 + Math.floor(rand() * 300_000) });
  // 20 files that were synced before the burst, and 10 of the burst's own files two waves after they were written.
  for (let i = 0; i < 20; i++) waves[(i + 2) % WAVES]!.deletes.push(existing[i]!);
  for (let i = 0; i < 10; i++) {
    const from = waves[i * 2]!.writes.find((w) => !w.path.startsWith('owl/'))!;
    waves[i * 2 + 2]!.deletes.push(from.path);
  }
  return waves;
}

/** Where to kill in a cycle: multipart points when the wave brings a large file, change points when it changes files, else the next in the rotation. */
function killPointPicker(): (cycle: number, wave: Wave | undefined) => KillPoint {
  const k = KILL_POINTS;
  const rotation = [k.batchDropped!, k.putApplied!, k.deleteItemDropped!, k.random!, k.batchApplied!, k.deleteObjectDropped!, k.putDropped!, k.deleteItemApplied!];
  let next = 0;
  let large = 0;
  let changes = 0;
  return (cycle, wave) => {
    if (wave?.writes.some((w) => w.path.startsWith('owl/'))) return large++ % 2 === 0 ? k.midMultipart! : k.completeApplied!;
    if (wave?.changes.length) return changes++ % 2 === 0 ? k.changeApplied! : k.changeDropped!;
    const p = rotation[next++ % rotation.length]!;
    // Delete kill points only where this wave brings deletes.
    if (p.match && /Delete/.test(p.name) && !wave?.deletes.length) return cycle % 2 ? k.batchApplied! : k.batchDropped!;
    return p;
  };
}

describe('kill -9 during a burst', () => {
  let stack: TestStack;
  before(async () => { stack = await startTestStack(); });
  after(async () => stack?.stop());

  it('100 uploads (6 multipart) and 30 deletes, killed at 20+ points and restarted: converges, one INSERT per file', async (t) => {
    const seed = Number(process.env.FAULT_SEED ?? 20260601);
    const rand = seededRandom(seed);
    const s = await setupFaultSync(stack, { partSizeMib: '5', concurrency: '4', retryBaseMs: '200', requestTimeoutMs: '10000' });
    const lambda = await startLambdaLog(s);
    const proxies: Record<'s3' | 'dynamodb', FaultProxy> = {
      s3: await startFaultProxy(stack.s3Endpoint),
      dynamodb: await startFaultProxy(stack.dynamodbEndpoint),
    };
    const done: { cycle: number; point: string; exact: boolean; op?: string }[] = [];
    try {
      const existing = Array.from({ length: 20 }, (_, i) => `dog/old-${i}.png`);
      const kept = Array.from({ length: 10 }, (_, i) => `dog/keep-${i}.png`);
      for (const p of [...existing, ...kept]) s.put(p);
      assert.equal((await s.once()).code, 0);
      const waves = planWaves(rand, existing, kept);
      const killPointFor = killPointPicker();

      for (let cycle = 0; cycle < 60; cycle++) {
        const wave = waves[cycle];
        const exact = done.filter((k) => k.exact).length;
        if (!wave && exact >= MIN_EXACT_KILLS) break;
        const point = killPointFor(cycle, wave);
        const gate = new Gate();
        let held: ProxiedRequest | undefined;
        // Sometimes the second matching request rather than the first (there are many of these).
        const skip = point === KILL_POINTS.putDropped || point === KILL_POINTS.batchDropped ? Math.floor(rand() * 2) : 0;
        let matches = 0;
        const holding: Decide = async (req) => {
          if (held || !point.match?.(req) || matches++ < skip) return { kind: 'forward' };
          held = req;
          await gate.wait();
          return point.afterKill === 'apply' ? { kind: 'forward' } : { kind: 'reset' };
        };
        proxies.s3.setDecide(point.store === 's3' ? holding : forward);
        proxies.dynamodb.setDecide(point.store === 'dynamodb' ? holding : forward);

        const d = daemonThrough(s, proxies);
        await d.waitForLog(/watching/, 30000);
        for (const w of wave?.writes ?? []) s.put(w.path, { padTo: w.padTo });
        for (const p of wave?.deletes ?? []) rmSync(s.file(p), { force: true });
        for (const p of wave?.changes ?? []) s.put(p, { seed: 700_000 + cycle });
        if (point.match) {
          await waitFor(`kill point: ${point.name}`, () => gate.held > 0, 4000, 10).catch(() => undefined);
        } else {
          // A random moment of the burst (this wait picks the kill time; it proves nothing).
          await new Promise((r) => setTimeout(r, 50 + Math.floor(rand() * 1200)));
        }
        const wasHeld = gate.held > 0;
        d.child.kill('SIGKILL');
        await d.exited;
        gate.open();
        if (held) {
          const ev = proxies[point.store!].events.find((e) => e.seq === held!.seq);
          if (point.afterKill === 'apply') await waitFor('the held write to land after the crash', () => ev?.upstreamStatus !== undefined, 10000, 10);
        }
        const busy = [...proxies.s3.events, ...proxies.dynamodb.events].some((e) => e.at > Date.now() - 1000);
        done.push({ cycle, point: point.match ? point.name : `${point.name}${busy ? ' (requests in flight)' : ' (idle)'}`, exact: wasHeld || (!point.match && busy), op: held?.op });
      }

      // The last run: no faults, until everything is across.
      proxies.s3.setDecide(forward);
      proxies.dynamodb.setDecide(forward);
      const d = daemonThrough(s, proxies);
      try {
        await waitConverged(s, { animals: ANIMALS, timeoutMs: 120000 });
        await fullReconcile(d);
        const report = await assertConvergedAfterFaults(s, lambda, { animals: ANIMALS });
        assert.equal(report.items, 100, '100 new + 30 old - 30 deleted');
        const changed = (await s.items(['dog'])).filter((i) => i.source_path.startsWith('dog/keep-'));
        assert.deepEqual(changed.map((i) => i.version), kept.map(() => 2), 'each changed file is exactly one version further');
      } finally {
        assert.equal(await d.stop(), 0);
      }
      await assertConvergedAfterFaults(s, lambda, { animals: ANIMALS, stateDir: s.config.stateDir });

      const exact = done.filter((k) => k.exact);
      const byPoint = new Map<string, number>();
      for (const k of exact) byPoint.set(k.point, (byPoint.get(k.point) ?? 0) + 1);
      t.diagnostic(`seed ${seed}: ${done.length} kills, ${exact.length} while work was held or in flight`);
      if (process.env.FAULT_DEBUG) for (const k of done) t.diagnostic(JSON.stringify(k));
      for (const [p, n] of byPoint) t.diagnostic(`  ${n} x ${p}`);
      assert.ok(exact.length >= MIN_EXACT_KILLS, `at least ${MIN_EXACT_KILLS} kill points hit, got ${exact.length}`);
      assert.ok(exact.some((k) => k.op === 'UploadPart'), 'a kill in the middle of a multipart upload');
      assert.ok(exact.some((k) => k.op === 'BatchWriteItem' || k.op === 'TransactWriteItems'), 'a kill between the S3 and the DynamoDB step');
    } finally {
      await proxies.s3.stop();
      await proxies.dynamodb.stop();
      await lambda.stop();
    }
  });
});
