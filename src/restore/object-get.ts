// GetObject for restore, without the SDK's per-request middleware stack (src/stores/s3-signed.ts
// says why and what stays the SDK's). Retries are the caller's (fetch.ts retries a failed or
// cut-off body as a whole).
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../config.ts';
import { makeS3Client } from '../stores/aws.ts';
import type { ObjectBody } from '../stores/catalogue-reader.ts';
import { keyPath, RequestTimeoutError, s3ErrorFrom, SignedTargets } from '../stores/s3-signed.ts';
import type { ObjectSource } from './fetch.ts';

export class ObjectGetter implements ObjectSource {
  readonly bucket: string;
  private readonly s3: S3Client;
  private readonly targets: SignedTargets;
  private readonly agent: http.Agent;
  private readonly tlsAgent: https.Agent;
  private readonly config: Config;
  private readonly fallback: ObjectSource;

  /** `fallback` serves the buckets whose endpoint wants more than plain SigV4 (the SDK's GetObject). */
  constructor(config: Config, fallback: ObjectSource) {
    this.config = config;
    this.fallback = fallback;
    this.bucket = fallback.bucket;
    this.s3 = makeS3Client(config);
    this.targets = new SignedTargets(this.s3, GetObjectCommand);
    const maxSockets = Math.max(16, config.concurrency * 2);
    this.agent = new http.Agent({ keepAlive: true, maxSockets });
    this.tlsAgent = new https.Agent({ keepAlive: true, maxSockets });
  }

  /** The object's body, or null when the object (or its bucket) does not exist. */
  async getObject(bucket: string, key: string, signal?: AbortSignal): Promise<ObjectBody | null> {
    const target = await this.targets.of(bucket);
    if (target === null) return this.fallback.getObject(bucket, key, signal);
    // The signal is checked, not handed to the request: an abort listener per request costs
    // CPU, and a small GET under way when the run stops (full disk) ends by itself soon.
    signal?.throwIfAborted();
    const url = target.url;
    const signed = await target.signer.sign({
      method: 'GET', protocol: url.protocol, hostname: url.hostname, port: url.port ? Number(url.port) : undefined,
      path: keyPath(target, key), query: {}, headers: { host: url.host },
    }, { signingRegion: target.signingRegion, signingService: 's3' });
    const where = `s3://${bucket}/${key}`;
    const tls = url.protocol === 'https:';
    return new Promise((resolve, reject) => {
      const req = (tls ? https : http).request({
        agent: tls ? this.tlsAgent : this.agent, method: 'GET', hostname: url.hostname, port: url.port || undefined,
        path: signed.path, headers: signed.headers, timeout: this.config.requestTimeoutMs,
      });
      // The socket timeout covers the connection, the wait for headers and every pause in the body.
      req.on('timeout', () => req.destroy(new RequestTimeoutError(`GetObject ${where}: no data for ${this.config.requestTimeoutMs} ms`)));
      req.on('error', reject);
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        if (status === 200) return resolve({ body: res as Readable, size: res.headers['content-length'] === undefined ? undefined : Number(res.headers['content-length']), etag: res.headers.etag });
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => { if (text.length < 64 * 1024) text += d; });
        res.on('error', reject);
        res.on('end', () => (status === 404 ? resolve(null) : reject(s3ErrorFrom('GetObject', status, text, where, res.headers))));
      });
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
    this.tlsAgent.destroy();
    this.s3.destroy();
  }
}
