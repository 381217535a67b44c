// PNG recognition: the 8-byte signature followed by a well-formed IHDR chunk.
import { open } from 'node:fs/promises';
import { BadInputError, unreadableAsBadInput } from './errors.ts';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Signature (8) + IHDR length/type (8) + IHDR data (13) + CRC (4). */
export const PNG_HEADER_BYTES = 33;
/** The smallest complete PNG: header + an IDAT chunk of 12+ bytes + IEND (12). */
const MIN_PNG_BYTES = PNG_HEADER_BYTES + 12 + 12;
const IEND = Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);

export interface PngInfo {
  width: number;
  height: number;
}

let crcTable: Uint32Array | undefined;
export function crc32(buf: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const byte of buf) crc = crcTable[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function describeStart(head: Buffer): string {
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'it is a JPEG';
  if (head.length >= 6 && head.subarray(0, 6).toString('latin1').startsWith('GIF8')) return 'it is a GIF';
  if (head.length >= 4 && head.subarray(0, 4).toString('latin1') === '%PDF') return 'it is a PDF';
  if (head.length > 0 && head.subarray(0, Math.min(64, head.length)).every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127))) return 'it looks like text';
  return 'it does not start with the PNG signature';
}

/** Parses the header; `size` is the file's full length, `tail` its last 12 bytes. */
export function parsePngHeader(head: Buffer, size: number, tail?: Buffer): PngInfo {
  const reject = (why: string): never => {
    throw new BadInputError(`not a PNG: ${why}; only complete .png images are accepted`);
  };
  if (size === 0) reject('the file is empty (0 bytes)');
  if (head.length < 8 || !head.subarray(0, 8).equals(SIGNATURE)) reject(describeStart(head));
  if (head.length < PNG_HEADER_BYTES) reject(`truncated after ${size} bytes (no complete IHDR chunk)`);
  const length = head.readUInt32BE(8);
  const type = head.subarray(12, 16).toString('latin1');
  if (type !== 'IHDR' || length !== 13) reject('the first chunk is not a 13-byte IHDR');
  const crc = head.readUInt32BE(29);
  if (crc32(head.subarray(12, 29)) !== crc) reject('the IHDR chunk fails its CRC check');
  const width = head.readUInt32BE(16);
  const height = head.readUInt32BE(20);
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) reject(`impossible dimensions ${width}x${height}`);
  if (size < MIN_PNG_BYTES) reject(`truncated: ${size} bytes cannot hold image data`);
  if (tail && !tail.equals(IEND)) reject('truncated: it does not end with an IEND chunk (still being written, or cut short)');
  return { width, height };
}

/** Checks a whole file already in memory. */
export function parsePngBuffer(buf: Buffer): PngInfo {
  return parsePngHeader(buf.subarray(0, PNG_HEADER_BYTES), buf.length, buf.length >= MIN_PNG_BYTES ? buf.subarray(buf.length - 12) : undefined);
}

/** Reads only the first 33 and last 12 bytes of a file and checks that it is a complete PNG. */
export async function inspectPngFile(file: string): Promise<PngInfo & { size: number }> {
  const fh = await open(file, 'r').catch((err: unknown) => {
    throw unreadableAsBadInput(err);
  });
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new BadInputError(`${file} is not a regular file`);
    const head = Buffer.alloc(Math.min(PNG_HEADER_BYTES, st.size));
    if (head.length > 0) await fh.read(head, 0, head.length, 0);
    let tail: Buffer | undefined;
    if (st.size >= MIN_PNG_BYTES) {
      tail = Buffer.alloc(12);
      await fh.read(tail, 0, 12, st.size - 12);
    }
    return { ...parsePngHeader(head, st.size, tail), size: st.size };
  } finally {
    await fh.close();
  }
}
