import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { inspectPngFile, parsePngHeader } from '../../src/png.ts';
import { makePng } from '../helpers/png.ts';
import { tempDir } from '../helpers/stack.ts';

describe('png', () => {
  const dir = tempDir();
  const write = (name: string, data: Buffer | string): string => {
    const f = path.join(dir, name);
    writeFileSync(f, data);
    return f;
  };

  it('reads width and height from IHDR', async () => {
    const info = await inspectPngFile(write('ok.png', makePng({ width: 37, height: 12 })));
    assert.equal(info.width, 37);
    assert.equal(info.height, 12);
  });

  it('refuses a JPEG, text, an empty file and a truncated PNG with a reason', async () => {
    await assert.rejects(inspectPngFile(write('j.png', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46]))), /not a PNG: it is a JPEG/);
    await assert.rejects(inspectPngFile(write('t.png', 'hello world\n')), /not a PNG: it looks like text/);
    await assert.rejects(inspectPngFile(write('e.png', '')), /empty/);
    const full = makePng({ width: 20, height: 20 });
    await assert.rejects(inspectPngFile(write('trunc.png', full.subarray(0, full.length - 20))), /truncated/);
    await assert.rejects(inspectPngFile(write('head.png', full.subarray(0, 20))), /truncated/);
  });

  it('checks the IHDR CRC', () => {
    const bad = Buffer.from(makePng());
    bad[20] = bad[20]! ^ 0xff; // corrupt the height
    assert.throws(() => parsePngHeader(bad.subarray(0, 33), bad.length), /CRC/);
  });
});
