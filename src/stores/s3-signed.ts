// Plain SigV4 requests to S3 for the hot paths (the PUT of a small file, restore's GET),
// without the SDK's per-request middleware stack. Thousands of small objects per run: on this
// 2-core machine the SDK's serialisation, endpoint, retry, user-agent and checksum middleware
// cost more CPU per object than hashing and moving its bytes, and that CPU is taken from the
// S3 server as well. What must be right is still the SDK's: the endpoint of each bucket comes
// from its endpoint resolution (once per bucket), each request is signed by its SigV4 signer
// with its credential chain. A bucket whose endpoint wants more than plain SigV4 (S3 Express,
// multi-region access points, endpoint headers) gets `null` here and goes through the SDK.
import type http from 'node:http';
import type { S3Client } from '@aws-sdk/client-s3';
import { getEndpointFromInstructions } from '@smithy/core/endpoints';
import { SignatureV4 } from '@smithy/signature-v4';

/** S3 answered with an error: `name` is its error code, `$metadata` as the SDK has it (isTransient reads it). */
export class S3ResponseError extends Error {
  readonly $metadata: { httpStatusCode: number };
  constructor(code: string, status: number, message: string) {
    super(message);
    this.name = code;
    this.$metadata = { httpStatusCode: status };
  }
}

/** No data for the request timeout (isTransient: retried). */
export class RequestTimeoutError extends Error {
  override name = 'TimeoutError';
}

export interface SignedTarget {
  url: URL;
  signer: SignatureV4;
  signingRegion: string;
}

/** Per RFC 3986, as S3 wants each segment of a key: encodeURIComponent leaves !'()* alone. */
const encodeSegment = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The request path of `key` under the target's URL (path style or virtual host, as resolved). */
export function keyPath(target: SignedTarget, key: string): string {
  return `${target.url.pathname.replace(/\/$/, '')}/${key.split('/').map(encodeSegment).join('/')}`;
}

/** The error S3 answered with, from its XML body; a redirect or a region mismatch names AWS_REGION. */
export function s3ErrorFrom(op: string, status: number, body: string, where: string, headers: http.IncomingHttpHeaders): S3ResponseError {
  const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1] ?? `Http${status}`;
  const message = /<Message>([^<]*)<\/Message>/.exec(body)?.[1] ?? '';
  const region = headers['x-amz-bucket-region'];
  const hint = status === 301 || (status === 400 && code === 'AuthorizationHeaderMalformed') ? `; the bucket is in ${region ?? 'another region'}: set AWS_REGION` : '';
  return new S3ResponseError(code, status, `${op} ${where}: HTTP ${status} ${code}${message ? `: ${message}` : ''}${hint}`);
}

/** Each bucket's endpoint and signer, as the SDK client `s3` resolves them, once per bucket. */
export class SignedTargets {
  private readonly s3: S3Client;
  /** A command of the operation the endpoint is resolved for (its endpoint parameters). */
  private readonly command: unknown;
  private readonly targets = new Map<string, Promise<SignedTarget | null>>();

  constructor(s3: S3Client, command: unknown) {
    this.s3 = s3;
    this.command = command;
  }

  /** The bucket's endpoint and signer, or null when its auth is not plain SigV4 (use the SDK). */
  of(bucket: string): Promise<SignedTarget | null> {
    let t = this.targets.get(bucket);
    if (!t) {
      t = (async () => {
        const config = this.s3.config;
        const ep = await getEndpointFromInstructions({ Bucket: bucket, Key: 'x' }, this.command as never, config as never);
        const schemes = (ep.properties?.authSchemes ?? []) as { name?: string; signingRegion?: string; signingName?: string }[];
        const scheme = schemes[0];
        if (scheme?.name !== 'sigv4' || (scheme.signingName ?? 's3') !== 's3' || Object.keys(ep.headers ?? {}).length > 0) return null;
        const region = scheme.signingRegion ?? (await config.region());
        const signer = new SignatureV4({ credentials: config.credentials, region, service: 's3', sha256: config.sha256, uriEscapePath: false, applyChecksum: true });
        return { url: new URL(ep.url.href), signer, signingRegion: region };
      })();
      // A failed resolution (no credentials yet, say) is tried again next time.
      t.catch(() => this.targets.delete(bucket));
      this.targets.set(bucket, t);
    }
    return t;
  }
}
