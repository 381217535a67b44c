// restore under bad input and faults: each gets a clear message, nothing half-written stays
// under a final name, and a rerun finishes. S3 faults go through the fault proxy; the full
// disk is a real tmpfs; the crash is a real kill -9 of the CLI.
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BIN, runCli, waitFor } from '../helpers/cli.ts';
import { faultPlan, s3Error, startFaultProxy, type PlannedFault } from '../helpers/fault-proxy.ts';
import { startTestStack, tempDir, type TestStack } from '../helpers/stack.ts';
import { setupSync, type SyncSetup } from '../helpers/sync.ts';
import { treeOf } from './tree.ts';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const TEMP = /\.restore\.part$/;

function tryMount(dir: string, opts: string): string | undefined {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', opts, 'tmpfs', dir], { stdio: 'pipe' });
    return undefined;
  } catch (err) {
    return `cannot mount a tmpfs here (${(err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message})`;
  }
}

/** Files of `tree` that are not temp files must be byte-identical to the originals. */
function assertNoHalfFiles(tree: Record<string, string>, originals: Record<string, string>): void {
  for (const [p, h] of Object.entries(tree)) {
    // Temp files and the lock of a killed run are dotfiles the next run removes or takes over.
    if (TEMP.test(path.basename(p)) || p === '.animal-sync-restore.lock') continue;
    assert.equal(h, originals[p], `${p} is complete or absent, never half-written`);
  }
}

describe('restore: bad input and faults', () => {
  let stack: TestStack;
  let s: SyncSetup;
  const work = tempDir('animal-sync-restore-faults-');
  const originals: Record<string, string> = {};
  before(async () => {
    stack = await startTestStack();
    s = await setupSync(stack, { concurrency: '4' });
    for (let i = 0; i < 40; i++) originals[`fox/f${i}.png`] = sha(s.put(`fox/f${i}.png`, { padTo: 64 * 1024 }));
    const first = await s.once();
    assert.equal(first.code, 0, first.stderr);
  });
  after(async () => {
    await stack?.stop();
    rmSync(work, { recursive: true, force: true });
  });
  const restore = (args: string[], env: Record<string, string> = {}) => runCli(['restore', ...args], { env: { ...s.env, ...env }, timeoutMs: 120000 });

  it('an unknown animal: exit 1, says which animals there are, writes nothing', async () => {
    const dir = path.join(work, 'unknown');
    const res = await restore(['--to', dir, '--animal', 'unicorn']);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /no images for animal unicorn in table \S+ \(animals with images: fox\); nothing was written/);
    assert.ok(!existsSync(dir));
  });

  it('an empty catalogue: exit 1, writes nothing', async () => {
    const dir = path.join(work, 'empty');
    const empty = await setupSync(stack);
    const res = await runCli(['restore', '--to', dir], { env: empty.env });
    assert.equal(res.code, 1);
    assert.match(res.stderr, /the catalogue is empty: no objects under s3:\/\/\S+\/animals\/; nothing to restore/);
    assert.ok(!existsSync(dir));
  });

  it('a folder that cannot be written: exit 2 with the reason', async (t) => {
    const file = path.join(work, 'a-file');
    writeFileSync(file, 'x');
    const res = await restore(['--to', path.join(file, 'sub')]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /cannot write to .*a-file\/sub \(ENOTDIR.*give --to a folder you can write to; nothing was written/);
    const ro = path.join(work, 'read-only');
    mkdirSync(ro);
    const problem = tryMount(ro, 'ro,size=1m');
    if (problem) return t.skip(problem);
    try {
      const r = await restore(['--to', ro]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /cannot write to .*read-only \(EROFS/);
    } finally {
      execFileSync('umount', [ro]);
    }
  });

  it('an item whose object is missing is reported, the rest is restored, exit 1', async () => {
    const [victim] = (await s.items(['fox'])).filter((i) => i.source_path === 'fox/f7.png');
    const chunks: Buffer[] = [];
    for await (const c of await s.stores.objects.get(victim!.s3_key)) chunks.push(c as Buffer);
    await s.stores.objects.delete(victim!.s3_key);
    try {
      const dir = path.join(work, 'missing');
      const res = await restore(['--to', dir]);
      assert.equal(res.code, 1);
      assert.match(res.stdout, new RegExp(`failed   fox/f7\\.png: object s3://${s.config.bucket}/${victim!.s3_key} is missing`));
      const { 'fox/f7.png': _gone, ...rest } = originals;
      assert.deepEqual(treeOf(dir), rest);
    } finally {
      await s.stores.objects.put({ key: victim!.s3_key, body: Buffer.concat(chunks), sha256: victim!.sha256 });
    }
  });

  it('S3 failing mid-download (5xx, resets, a hang, lost and corrupted answers) is retried; a key that always fails is reported', async () => {
    const proxy = await startFaultProxy(stack.s3Endpoint);
    try {
      const corrupt = (_status: number, body: Buffer) => ({ status: 200, body: body.subarray(0, 1000).toString('latin1') });
      const plan: PlannedFault[] = [
        { op: 'GetObject', nth: 1, fault: s3Error(500, 'InternalError', 'injected') },
        { op: 'GetObject', nth: 2, fault: s3Error(503, 'SlowDown', 'injected') },
        { op: 'GetObject', nth: 3, fault: { kind: 'reset' } },
        { op: 'GetObject', nth: 4, fault: { kind: 'lose-response' } },
        { op: 'GetObject', nth: 5, fault: { kind: 'hang' } },
        { op: 'GetObject', nth: 6, fault: { kind: 'forward', answer: corrupt } },
      ];
      const base = faultPlan(plan);
      proxy.setDecide((req) => (req.op === 'GetObject' && req.path.includes('f13.png') ? s3Error(500, 'InternalError', 'always failing') : base(req)));
      const dir = path.join(work, 'flaky');
      const res = await restore(['--to', dir], { AWS_ENDPOINT_URL_S3: proxy.url, ANIMAL_SYNC_REQUEST_TIMEOUT_MS: '1500', ANIMAL_SYNC_MAX_ATTEMPTS: '1', ANIMAL_SYNC_RETRY_BASE_MS: '50' });
      assert.equal(res.code, 1, res.stderr);
      assert.ok(plan.every((f) => f.fired), 'every planned fault fired');
      assert.match(res.stdout, /failed {3}fox\/f13\.png: .*always failing.*\(after 3 attempts\)/);
      assert.match(res.stdout, /^restored 39, already there 0, conflicts 0, failed 1 /);
      const { 'fox/f13.png': _failed, ...rest } = originals;
      assert.deepEqual(treeOf(dir), rest, 'every other file byte for byte, no temp file left');
    } finally {
      await proxy.stop();
    }
  });

  it('the disk filling up mid-restore: stops with a clear message, no half file; a rerun finishes', async (t) => {
    const dir = path.join(work, 'tiny');
    mkdirSync(dir);
    const problem = tryMount(dir, 'size=1m');
    if (problem) return t.skip(problem);
    try {
      const res = await restore(['--to', dir]);
      assert.equal(res.code, 1);
      assert.match(res.stdout, /stopped: ENOSPC: no space left in .*tiny; \d+ file\(s\) not restored yet\. Free some space and run restore again/);
      const tree = treeOf(dir);
      assertNoHalfFiles(tree, originals);
      assert.ok(Object.keys(tree).length > 0 && Object.keys(tree).length < 40, `some files made it: ${Object.keys(tree).length}`);
      assert.deepEqual(Object.keys(tree).filter((p) => TEMP.test(p)), [], 'no temp file left');
      execFileSync('mount', ['-o', 'remount,size=8m', dir]);
      const rerun = await restore(['--to', dir]);
      assert.equal(rerun.code, 0, rerun.stdout + rerun.stderr);
      assert.deepEqual(treeOf(dir), originals);
    } finally {
      execFileSync('umount', [dir]);
    }
  });

  it('kill -9 mid-restore, then a rerun that finishes', async () => {
    // Slow answers keep the restore busy long enough to be killed halfway.
    const proxy = await startFaultProxy(stack.s3Endpoint, { decide: (req) => ({ kind: 'forward', delayMs: req.op === 'GetObject' ? 300 : 0 }) });
    const dir = path.join(work, 'killed');
    try {
      const child = spawn(BIN, ['restore', '--to', dir], { env: { ...s.env, AWS_ENDPOINT_URL_S3: proxy.url }, stdio: 'ignore' });
      const exited = new Promise((r) => child.on('exit', r));
      await waitFor('a few files restored', () => existsSync(path.join(dir, 'fox')) && readdirSync(path.join(dir, 'fox')).filter((n) => !n.startsWith('.')).length >= 8, 60000, 20);
      child.kill('SIGKILL');
      await exited;
      const partial = treeOf(dir);
      assertNoHalfFiles(partial, originals);
      assert.ok(Object.keys(partial).filter((p) => !p.startsWith('.') && !TEMP.test(p)).length < 40, 'killed before the end');
      const rerun = await restore(['--to', dir], { AWS_ENDPOINT_URL_S3: proxy.url });
      assert.equal(rerun.code, 0, rerun.stdout + rerun.stderr);
      assert.match(rerun.stdout, /already there [1-9]/);
      assert.deepEqual(treeOf(dir), originals, 'finished; stale temp files and the lock are gone');
    } finally {
      await proxy.stop();
    }
  });
});
