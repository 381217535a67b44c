// The small-file PUT without the SDK's middleware (src/stores/s3-put.ts), against an s3rver that
// checks every signature (the test stack's s3rver lets mismatched ones through): keys with
// characters S3 escapes arrive byte for byte with their type and metadata, a wrong secret is a
// clear 403 that is not retried, a transient error is retried, and an abort ends a hung request.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { resolveConfig } from '../../src/config.ts';
import { makeStores } from '../../src/context.ts';
import { makeS3Client } from '../../src/stores/aws.ts';
import { S3ObjectStore } from '../../src/stores/s3.ts';
import { s3Error, startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.ts';
import { tempDir } from '../helpers/stack.ts';
import { bytesOf, startStrictS3 } from '../helpers/strict-s3.ts';
const BUCKET = 'strict-put';
const KEYS = ['animals/dog/2026-01-01/plain.png', "animals/dog/2026-01-01/a b+c&d'e(f)g*h!i~j.png", 'animals/cat/2026-01-01/ünï cødé %41.png', 'animals/cat/2026-01-01/x=1;y,z@$.png'];
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('the signed PUT of a small file, signatures checked', () => {
  const work = tempDir('animal-sync-signed-put-');
  const saved = { ...process.env };
  let server: { close(): Promise<void> } | undefined;
  let endpoint = '';
  const clients: S3Client[] = [];
  const stores: S3ObjectStore[] = [];
  const storeAt = (url: string, env: Record<string, string> = {}): S3ObjectStore => {
    Object.assign(process.env, { AWS_ENDPOINT_URL_S3: url, AWS_SECRET_ACCESS_KEY: 'S3RVER', ...env });
    const config = resolveConfig({ env: { ...process.env, ANIMAL_SYNC_BUCKET: BUCKET, ANIMAL_SYNC_REQUEST_TIMEOUT_MS: '1500' }, flags: {} });
    const s3 = makeS3Client(config);
    clients.push(s3);
    const store = new S3ObjectStore(s3, BUCKET, { partSizeBytes: config.partSizeBytes, signedPut: { requestTimeoutMs: config.requestTimeoutMs, maxAttempts: 3, maxSockets: 8 } });
    stores.push(store);
    return store;
  };

  before(async () => {
    const s = await startStrictS3(work, BUCKET);
    server = s;
    endpoint = s.endpoint;
    Object.assign(process.env, { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' });
  });
  after(async () => {
    for (const st of stores) st.close();
    for (const c of clients) c.destroy();
    await server?.close();
    process.env = saved;
    rmSync(work, { recursive: true, force: true });
  });

  it('stores every key byte for byte, as image/png, with its sha256 and source host', async () => {
    const store = storeAt(endpoint);
    const reader = makeS3Client(resolveConfig({ env: { ...process.env, ANIMAL_SYNC_BUCKET: BUCKET }, flags: {} }));
    clients.push(reader);
    for (const [i, key] of KEYS.entries()) {
      const body = randomBytes(500 + i * 40_000);
      assert.deepEqual(await store.put({ key, body, contentLength: body.length, sha256: sha256(body), metadata: { 'source-host': 'host-a' } }), { parts: 1 });
      const head = await reader.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
      assert.equal(head.ContentType, 'image/png');
      assert.equal(head.ContentLength, body.length);
      assert.deepEqual(head.Metadata, { sha256: sha256(body), 'source-host': 'host-a' });
      const got = await reader.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      assert.ok((await bytesOf(got.Body as Readable)).equals(body), `${key}: same bytes`);
    }
  });

  it('a wrong secret is refused with S3\'s code and the object named, after one attempt', async () => {
    const proxy: FaultProxy = await startFaultProxy(endpoint);
    try {
      const store = storeAt(proxy.url, { AWS_SECRET_ACCESS_KEY: 'WRONG' });
      const body = randomBytes(100);
      await assert.rejects(store.put({ key: KEYS[0]!, body, sha256: sha256(body) }), (err: Error & { $metadata?: { httpStatusCode?: number } }) => {
        assert.equal(err.name, 'SignatureDoesNotMatch');
        assert.equal(err.$metadata?.httpStatusCode, 403);
        assert.match(err.message, new RegExp(`^PutObject s3://${BUCKET}/${KEYS[0]}: HTTP 403 SignatureDoesNotMatch`));
        return true;
      });
      assert.equal(proxy.events.filter((e) => e.op === 'PutObject').length, 1, 'not retried');
    } finally {
      await proxy.stop();
    }
  });

  it('a 503 and a reset are retried; a request that hangs ends at the request timeout, or at once on abort', async () => {
    const proxy: FaultProxy = await startFaultProxy(endpoint);
    try {
      const store = storeAt(proxy.url);
      const body = randomBytes(2000);
      let n = 0;
      proxy.setDecide((r) => {
        if (r.op !== 'PutObject') return { kind: 'forward' };
        n++;
        return n === 1 ? s3Error(503, 'SlowDown', 'injected') : n === 2 ? { kind: 'reset' } : { kind: 'forward' };
      });
      await store.put({ key: 'animals/dog/2026-01-01/retried.png', body, sha256: sha256(body) });
      assert.equal(n, 3, 'two failures, then through');

      proxy.setDecide((r) => (r.op === 'PutObject' ? { kind: 'hang' } : { kind: 'forward' }));
      const started = Date.now();
      await assert.rejects(store.put({ key: 'animals/dog/2026-01-01/hung.png', body, sha256: sha256(body) }), { name: 'TimeoutError' });
      assert.ok(Date.now() - started >= 3 * 1500, 'three attempts of 1.5 s each');
      const abort = new AbortController();
      const hung = store.put({ key: 'animals/dog/2026-01-01/aborted.png', body, sha256: sha256(body), signal: abort.signal });
      setTimeout(() => abort.abort(), 200);
      const t0 = Date.now();
      await assert.rejects(hung, { name: 'AbortError' });
      assert.ok(Date.now() - t0 < 1000, 'ended by the abort, not the timeout');
    } finally {
      await proxy.stop();
    }
  });

  it('signedPuts (the setting) chooses: on, a PUT without the SDK\'s user agent; off, the SDK\'s PutObject; the same object either way', async () => {
    const proxy: FaultProxy = await startFaultProxy(endpoint);
    try {
      const agents: string[] = [];
      proxy.setDecide((r) => {
        if (r.op === 'PutObject') agents.push(String(r.headers['x-amz-user-agent'] ?? r.headers['user-agent'] ?? ''));
        return { kind: 'forward' };
      });
      Object.assign(process.env, { AWS_ENDPOINT_URL_S3: proxy.url, AWS_SECRET_ACCESS_KEY: 'S3RVER' });
      for (const signed of ['true', 'false']) {
        const stores = makeStores(resolveConfig({ env: { ...process.env, ANIMAL_SYNC_BUCKET: BUCKET, ANIMAL_SYNC_SIGNED_PUTS: signed }, flags: {} }));
        try {
          const body = randomBytes(3000);
          await stores.objects.put({ key: `animals/dog/2026-01-01/setting-${signed}.png`, body, contentLength: body.length, sha256: sha256(body) });
          assert.ok((await bytesOf(await stores.objects.get(`animals/dog/2026-01-01/setting-${signed}.png`))).equals(body));
        } finally {
          stores.close();
        }
      }
      assert.equal(agents.length, 2);
      assert.doesNotMatch(agents[0]!, /aws-sdk-js/, 'signedPuts true');
      assert.match(agents[1]!, /aws-sdk-js/, 'signedPuts false');
    } finally {
      await proxy.stop();
    }
  });
});
