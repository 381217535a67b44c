import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { BLOCKING_READ_MAX, BufferPool, FileChangedError, readSmallFile } from '../../src/transfer.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'animal-sync-transfer-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function fileOf(name: string, size: number, seed: number): { file: string; bytes: Buffer; before: { size: number; mtimeMs: number } } {
  const file = path.join(dir, name);
  const bytes = Buffer.alloc(size, seed);
  for (let i = 0; i < size; i += 997) bytes[i] = (i * 31 + seed) & 0xff;
  writeFileSync(file, bytes);
  const st = statSync(file);
  return { file, bytes, before: { size: st.size, mtimeMs: st.mtimeMs } };
}

// Both ways of reading: blocking calls up to BLOCKING_READ_MAX, the threadpool above it.
for (const [label, size] of [['small (blocking read)', 70_000], ['larger (async read)', BLOCKING_READ_MAX + 12_345]] as const) {
  describe(`readSmallFile, ${label}`, () => {
    it('returns exactly the bytes of the file, in a pooled buffer', async () => {
      const { file, bytes, before } = fileOf(`same-${size}.bin`, size, 7);
      const pool = new BufferPool({ maxPerClass: 2, maxBytes: 16 * 1024 * 1024 });
      const read = await readSmallFile(file, before, pool);
      assert.ok(read.body.equals(bytes));
      assert.equal(read.buffer.byteLength, BufferPool.sizeClass(size));
      assert.equal(read.body.buffer, read.buffer.buffer);
    });

    it('refuses a file that grew, shrank or was rewritten since it was looked at', async () => {
      const grown = fileOf(`grown-${size}.bin`, size, 1);
      appendFileSync(grown.file, 'more');
      await assert.rejects(readSmallFile(grown.file, grown.before), FileChangedError);

      const shrunk = fileOf(`shrunk-${size}.bin`, size, 2);
      writeFileSync(shrunk.file, shrunk.bytes.subarray(0, size - 10));
      await assert.rejects(readSmallFile(shrunk.file, shrunk.before), FileChangedError);

      const rewritten = fileOf(`rewritten-${size}.bin`, size, 3);
      writeFileSync(rewritten.file, Buffer.alloc(size, 9));
      utimesSync(rewritten.file, new Date(), new Date(rewritten.before.mtimeMs + 5000));
      await assert.rejects(readSmallFile(rewritten.file, rewritten.before), FileChangedError);
    });

    it('passes ENOENT through for a file that is gone', async () => {
      const gone = fileOf(`gone-${size}.bin`, size, 4);
      rmSync(gone.file);
      await assert.rejects(readSmallFile(gone.file, gone.before), { code: 'ENOENT' });
    });
  });
}

describe('BufferPool', () => {
  it('hands a returned buffer out again for the same size class, and a fresh one otherwise', () => {
    const pool = new BufferPool({ maxPerClass: 1, maxBytes: 1024 * 1024 });
    const a = pool.take(65_536);
    assert.equal(a.byteLength, 65_536);
    pool.give(a);
    assert.equal(pool.take(40_000), a);
    assert.notEqual(pool.take(40_000), a);
    assert.equal(pool.take(10).byteLength, 4096);
  });

  it('keeps no more than maxPerClass buffers of a class and no more than maxBytes in all', () => {
    const pool = new BufferPool({ maxPerClass: 2, maxBytes: 3 * 65_536 });
    const [a, b, c] = [pool.take(65_536), pool.take(65_536), pool.take(65_536)];
    pool.give(a);
    pool.give(b);
    pool.give(c); // over maxPerClass: dropped
    const back = new Set([pool.take(65_536), pool.take(65_536), pool.take(65_536)]);
    assert.ok(back.has(a) && back.has(b) && !back.has(c));
    const big = pool.take(256 * 1024);
    pool.give(big); // over maxBytes: dropped
    assert.notEqual(pool.take(256 * 1024), big);
  });

  it('does not take in a buffer that is not one of its own sizes', () => {
    const pool = new BufferPool({ maxPerClass: 4, maxBytes: 1024 * 1024 });
    const odd = Buffer.alloc(5000);
    pool.give(odd);
    assert.notEqual(pool.take(5000), odd);
  });
});
