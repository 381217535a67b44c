// PutObject of a small body already in memory, as one plain signed PUT (s3-signed.ts says why
// and what stays the SDK's). The body is signed by its sha256, which we computed anyway: S3
// refuses the request if the bytes it received do not hash to it (XAmzContentSHA256Mismatch),
// so no further checksum header is needed. Retries follow the SDK's standard mode: up to
// maxAttempts, for what isTransient names (5xx, 429, throttling, resets, timeouts), with a full
// jitter backoff of 100 ms × 2^attempt capped at 20 s; an aborted signal ends them at once.
import type { S3Client } from '@aws-sdk/client-s3';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { isTransient } from '../errors.ts';
import { http as nodeHttp, loadHttps } from '../node-http.ts';
import { keyPath, RequestTimeoutError, s3ErrorFrom, SignedTargets, type SignedTarget } from './s3-signed.ts';

export interface SignedPutOptions {
  requestTimeoutMs: number;
  maxAttempts: number;
  maxSockets: number;
}

export interface SignedPutInput {
  bucket: string;
  key: string;
  body: Buffer;
  /** Hex sha256 of `body`: the signed payload hash. */
  sha256: string;
  contentType: string;
  /** User metadata (x-amz-meta-*), ASCII. */
  metadata: Record<string, string>;
  signal?: AbortSignal | undefined;
}

const MAX_BACKOFF_MS = 20_000;

export class SignedPut {
  private readonly targets: SignedTargets;
  private readonly opts: SignedPutOptions;
  private readonly agent: http.Agent;
  private tlsAgent: http.Agent | undefined;

  constructor(s3: S3Client, opts: SignedPutOptions) {
    this.targets = new SignedTargets(s3, PutObjectCommand);
    this.opts = opts;
    this.agent = new nodeHttp.Agent({ keepAlive: true, maxSockets: opts.maxSockets });
  }

  /** True once the object is stored; false when the bucket's endpoint wants more than plain SigV4 (the caller uses the SDK). */
  async put(input: SignedPutInput): Promise<boolean> {
    const target = await this.targets.of(input.bucket);
    if (target === null) return false;
    for (let attempt = 1; ; attempt++) {
      input.signal?.throwIfAborted();
      try {
        await this.once(target, input);
        return true;
      } catch (err) {
        if (input.signal?.aborted || attempt >= this.opts.maxAttempts || !isTransient(err)) throw err;
        await sleep(Math.random() * Math.min(MAX_BACKOFF_MS, 100 * 2 ** attempt), undefined, { signal: input.signal });
      }
    }
  }

  close(): void {
    this.agent.destroy();
    this.tlsAgent?.destroy();
  }

  private async once(target: SignedTarget, input: SignedPutInput): Promise<void> {
    const { url } = target;
    const headers: Record<string, string> = {
      host: url.host, 'content-type': input.contentType, 'content-length': String(input.body.length), 'x-amz-content-sha256': input.sha256,
    };
    for (const [k, v] of Object.entries(input.metadata)) headers[`x-amz-meta-${k.toLowerCase()}`] = v;
    const signed = await target.signer.sign({
      method: 'PUT', protocol: url.protocol, hostname: url.hostname, port: url.port ? Number(url.port) : undefined,
      path: keyPath(target, input.key), query: {}, headers,
    }, { signingRegion: target.signingRegion, signingService: 's3' });
    const where = `s3://${input.bucket}/${input.key}`;
    const tls = url.protocol === 'https:';
    const agent = tls ? (this.tlsAgent ??= new (loadHttps().Agent)({ keepAlive: true, maxSockets: this.opts.maxSockets })) : this.agent;
    const request = tls ? loadHttps().request : nodeHttp.request;
    await new Promise<void>((resolve, reject) => {
      const req = request({
        agent, method: 'PUT', hostname: url.hostname, port: url.port || undefined, path: signed.path, headers: signed.headers,
        timeout: this.opts.requestTimeoutMs, signal: input.signal,
      });
      // The socket timeout covers the connection, the upload and the wait for the answer.
      req.on('timeout', () => req.destroy(new RequestTimeoutError(`PutObject ${where}: no progress for ${this.opts.requestTimeoutMs} ms`)));
      req.on('error', reject);
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        if (status === 200) {
          res.on('error', reject);
          res.on('end', resolve);
          res.resume();
          return;
        }
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => { if (text.length < 64 * 1024) text += d; });
        res.on('error', reject);
        res.on('end', () => reject(s3ErrorFrom('PutObject', status, text, where, res.headers)));
      });
      req.end(input.body);
    });
  }
}
