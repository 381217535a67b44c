// Real PNG files for tests and benchmarks, built from scratch (zlib + CRC32), no image library.
import { deflateSync } from 'node:zlib';
import { crc32 } from '../../src/png.ts';

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/**
 * An RGB PNG of `width`x`height`. `seed` varies the pixels so files differ; `padTo` appends
 * a private ancillary chunk (before IEND) so the file reaches roughly that many bytes while
 * staying a valid PNG.
 */
export function makePng(opts: { width?: number; height?: number; seed?: number; padTo?: number } = {}): Buffer {
  const width = opts.width ?? 16;
  const height = opts.height ?? 16;
  const seed = opts.seed ?? 1;
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) {
      row[1 + x * 3] = (x * 7 + seed) & 0xff;
      row[2 + x * 3] = (y * 13 + seed * 3) & 0xff;
      row[3 + x * 3] = (seed * 31 + x + y) & 0xff;
    }
    rows.push(row);
  }
  const parts = [
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
  ];
  const iend = chunk('IEND', Buffer.alloc(0));
  const size = parts.reduce((n, b) => n + b.length, 0) + iend.length;
  if (opts.padTo && opts.padTo > size + 12) {
    const pad = Buffer.alloc(opts.padTo - size - 12);
    // Pseudo-random filler so that compressing transports cannot cheat.
    let s = (seed * 2654435761) >>> 0;
    for (let i = 0; i < pad.length; i += 4) {
      s = (s * 1664525 + 1013904223) >>> 0;
      pad.writeUInt32LE(s, Math.min(i, pad.length - 4));
    }
    parts.push(chunk('prVt', pad));
  }
  parts.push(iend);
  return Buffer.concat(parts);
}
