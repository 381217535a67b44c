// restore's lean GetObject (src/restore/object-get.ts) against an s3rver that checks every
// signature (the test stack's s3rver lets mismatched ones through): keys with characters S3
// escapes are fetched byte for byte, a missing key is null, a wrong secret is a clear 403.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { resolveConfig } from '../../src/config.ts';
import { ObjectGetter } from '../../src/restore/object-get.ts';
import type { ObjectSource } from '../../src/restore/fetch.ts';
import { makeS3Client } from '../../src/stores/aws.ts';
import { tempDir } from '../helpers/stack.ts';
import { bytesOf, startStrictS3 } from '../helpers/strict-s3.ts';
const BUCKET = 'strict';
const KEYS = ['animals/dog/2026-01-01/plain.png', "animals/dog/2026-01-01/a b+c&d'e(f)g*h!i~j.png", 'animals/cat/2026-01-01/ünï cødé %41.png', 'animals/cat/2026-01-01/x=1;y,z@$.png'];

const noFallback: ObjectSource = { bucket: BUCKET, getObject: () => Promise.reject(new Error('the SDK fallback was used')) };

describe('restore: the lean GetObject, signatures checked', () => {
  const work = tempDir('animal-sync-object-get-');
  const saved = { ...process.env };
  const bodies = new Map(KEYS.map((k, i) => [k, randomBytes(1000 + i * 70_000)]));
  let server: { close(): Promise<void> } | undefined;
  const getter = (secret: string): ObjectGetter => {
    process.env.AWS_SECRET_ACCESS_KEY = secret;
    return new ObjectGetter(resolveConfig({ env: { ...process.env, ANIMAL_SYNC_BUCKET: BUCKET }, flags: {} }), noFallback);
  };
  before(async () => {
    const s = await startStrictS3(work, BUCKET);
    server = s;
    Object.assign(process.env, { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_ENDPOINT_URL_S3: s.endpoint });
    const s3 = makeS3Client(resolveConfig({ env: { ...process.env, ANIMAL_SYNC_BUCKET: BUCKET }, flags: {} }));
    for (const [Key, Body] of bodies) await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body }));
    s3.destroy();
  });
  after(async () => {
    await server?.close();
    process.env = saved;
    rmSync(work, { recursive: true, force: true });
  });

  it('fetches every key byte for byte, with its size and ETag; a missing key is null', async () => {
    const g = getter('S3RVER');
    try {
      for (const [key, body] of bodies) {
        const got = await g.getObject(BUCKET, key);
        assert.ok(got, `${key} found`);
        assert.equal(got.size, body.length);
        assert.match(got.etag ?? '', /^"[0-9a-f]{32}"$/);
        assert.ok((await bytesOf(got.body)).equals(body), `${key}: same bytes`);
      }
      assert.equal(await g.getObject(BUCKET, 'animals/dog/2026-01-01/absent.png'), null);
    } finally {
      g.close();
    }
  });

  it('a wrong secret is refused with S3\'s code, the status and the object named', async () => {
    const g = getter('WRONG');
    try {
      await assert.rejects(g.getObject(BUCKET, KEYS[0]!), (err: Error & { $metadata?: { httpStatusCode?: number } }) => {
        assert.equal(err.name, 'SignatureDoesNotMatch');
        assert.equal(err.$metadata?.httpStatusCode, 403);
        assert.match(err.message, new RegExp(`^GetObject s3://${BUCKET}/${KEYS[0]}: HTTP 403 SignatureDoesNotMatch: `));
        return true;
      });
    } finally {
      g.close();
    }
  });
});
