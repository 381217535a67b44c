import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { Sha256Node } from '@smithy/core/checksum';
import { HttpRequest } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '../../src/stores/sha256.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('Sha256 (the SDK clients\' hash, with KeyObject HMAC keys)', () => {
  it('hashes and HMACs as node:crypto does, for string and byte keys, also when a key is used again', async () => {
    for (const data of ['', 'abc', 'ünïcode', Buffer.alloc(70_000, 7)]) {
      const plain = new Sha256();
      plain.update(data);
      assert.equal(hex(await plain.digest()), createHash('sha256').update(data).digest('hex'));
      for (const key of ['secret', Buffer.from('0123456789abcdef0123456789abcdef', 'hex'), new Uint8Array([1, 2, 3])]) {
        for (let round = 0; round < 2; round++) {
          const h = new Sha256(key);
          h.update(data);
          assert.equal(hex(await h.digest()), createHmac('sha256', key).update(data).digest('hex'), `key ${String(key)} round ${round}`);
        }
      }
    }
  });

  it('keeps the key it was first given even if the caller later changes its buffer', async () => {
    const key = Buffer.from('first key');
    const a = new Sha256(key);
    a.update('x');
    const before = hex(await a.digest());
    key.write('other');
    const b = new Sha256(key);
    b.update('x');
    // Same object, changed bytes: a cached KeyObject is of the bytes first seen (the SDK never changes a cached signing key).
    assert.equal(before, createHmac('sha256', 'first key').update('x').digest('hex'));
    assert.equal(hex(await b.digest()), before);
  });

  it('an empty secret is a plain hash, as in the SDK; a plain hash reads twice, an HMAC once; reset starts over', async () => {
    const e = new Sha256('');
    e.update('abc');
    assert.equal(hex(await e.digest()), createHash('sha256').update('abc').digest('hex'));
    assert.equal(hex(await e.digest()), createHash('sha256').update('abc').digest('hex'));
    const h = new Sha256('k');
    h.update('abc');
    await h.digest();
    assert.throws(() => h.update('more'), /already finished/);
    h.reset();
    h.update('abc');
    assert.equal(hex(await h.digest()), createHmac('sha256', 'k').update('abc').digest('hex'));
  });

  it('signs the AWS SigV4 test suite request get-vanilla as the SDK does', async () => {
    const request = new HttpRequest({ method: 'GET', protocol: 'https:', hostname: 'example.amazonaws.com', path: '/', headers: { host: 'example.amazonaws.com' } });
    const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
    const sign = async (sha256?: typeof Sha256 | typeof Sha256Node): Promise<string> => {
      const signer = new SignatureV4({ credentials, region: 'us-east-1', service: 'service', applyChecksum: false, sha256: sha256 ?? Sha256Node });
      const signed = await signer.sign(request.clone(), { signingDate: new Date('2015-08-30T12:36:00Z') });
      return String(signed.headers.authorization);
    };
    const ours = await sign(Sha256);
    assert.match(ours, /Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31$/);
    // Twice: the second request takes the cached signing key (a KeyObject by then).
    assert.equal(await sign(Sha256), ours);
    assert.equal(await sign(), ours);
  });
});
