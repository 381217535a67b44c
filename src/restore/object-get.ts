// GetObject for restore, without the SDK's per-request middleware stack. A restore is thousands
// of small GETs; on this 2-core machine the SDK's serialisation, endpoint, retry, user-agent and
// checksum middleware cost more CPU per object than hashing and writing it, and that CPU is
// taken from the S3 server as well (bench/restore.ts). What must be right is still the SDK's:
// the endpoint of each bucket comes from the SDK's own endpoint resolution (once per bucket),
// the request is signed by its SigV4 signer with its credential chain. Anything but plain SigV4
// (S3 Express, multi-region access points, endpoint headers) goes through the SDK as before.
// Retries are the caller's (fetch.ts retries a failed or cut-off body as a whole).
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getEndpointFromInstructions } from '@smithy/core/endpoints';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Config } from '../config.ts';
import { makeS3Client } from '../stores/aws.ts';
import type { ObjectBody } from '../stores/catalogue-reader.ts';
import type { ObjectSource } from './fetch.ts';

/** S3 answered with an error: `name` is its error code, `$metadata` as the SDK has it (isTransient reads it). */
export class S3ResponseError extends Error {
  readonly $metadata: { httpStatusCode: number };
  constructor(code: string, status: number, message: string) {
    super(message);
    this.name = code;
    this.$metadata = { httpStatusCode: status };
  }
}

class RequestTimeoutError extends Error {
  override name = 'TimeoutError';
}

interface Target {
  url: URL;
  signer: SignatureV4;
  signingRegion: string;
}

/** Per RFC 3986, as S3 wants each segment of a key: encodeURIComponent leaves !'()* alone. */
const encodeSegment = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function errorFrom(status: number, body: string, where: string, headers: http.IncomingHttpHeaders): S3ResponseError {
  const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1] ?? `Http${status}`;
  const message = /<Message>([^<]*)<\/Message>/.exec(body)?.[1] ?? '';
  const region = headers['x-amz-bucket-region'];
  const hint = status === 301 || (status === 400 && code === 'AuthorizationHeaderMalformed') ? `; the bucket is in ${region ?? 'another region'}: set AWS_REGION` : '';
  return new S3ResponseError(code, status, `GetObject ${where}: HTTP ${status} ${code}${message ? `: ${message}` : ''}${hint}`);
}

export class ObjectGetter implements ObjectSource {
  readonly bucket: string;
  private readonly s3: S3Client;
  private readonly targets = new Map<string, Promise<Target | null>>();
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
    const maxSockets = Math.max(16, config.concurrency * 2);
    this.agent = new http.Agent({ keepAlive: true, maxSockets });
    this.tlsAgent = new https.Agent({ keepAlive: true, maxSockets });
  }

  /** The object's body, or null when the object (or its bucket) does not exist. */
  async getObject(bucket: string, key: string, signal?: AbortSignal): Promise<ObjectBody | null> {
    const target = await this.targetOf(bucket);
    if (target === null) return this.fallback.getObject(bucket, key, signal);
    // The signal is checked, not handed to the request: an abort listener per request costs
    // CPU, and a small GET under way when the run stops (full disk) ends by itself soon.
    signal?.throwIfAborted();
    const url = target.url;
    const signed = await target.signer.sign({
      method: 'GET', protocol: url.protocol, hostname: url.hostname, port: url.port ? Number(url.port) : undefined,
      path: `${url.pathname.replace(/\/$/, '')}/${key.split('/').map(encodeSegment).join('/')}`, query: {}, headers: { host: url.host },
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
        res.on('end', () => (status === 404 ? resolve(null) : reject(errorFrom(status, text, where, res.headers))));
      });
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
    this.tlsAgent.destroy();
    this.s3.destroy();
  }

  /** The bucket's endpoint as the SDK resolves it, or null when its auth is not plain SigV4. */
  private targetOf(bucket: string): Promise<Target | null> {
    let t = this.targets.get(bucket);
    if (!t) {
      t = (async () => {
        const config = this.s3.config;
        const ep = await getEndpointFromInstructions({ Bucket: bucket, Key: 'x' }, GetObjectCommand as never, config as never);
        const schemes = (ep.properties?.authSchemes ?? []) as { name?: string; signingRegion?: string; signingName?: string }[];
        const scheme = schemes[0];
        if (scheme?.name !== 'sigv4' || (scheme.signingName ?? 's3') !== 's3' || Object.keys(ep.headers ?? {}).length > 0) return null;
        const region = scheme.signingRegion ?? (await config.region());
        const signer = new SignatureV4({ credentials: config.credentials, region, service: 's3', sha256: config.sha256, uriEscapePath: false, applyChecksum: true });
        return { url: new URL(ep.url.href), signer, signingRegion: region };
      })();
      this.targets.set(bucket, t);
    }
    return t;
  }

}
