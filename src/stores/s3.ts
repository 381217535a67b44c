// The S3 side of the catalogue, behind a narrow surface: put, get, head, delete, ensureBucket.
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  paginateListObjectsV2,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Readable } from 'node:stream';
import { PART_QUEUE_SIZE, SOURCE_HOST_METADATA } from './s3-parts.ts';
import { SignedPut, type SignedPutOptions } from './s3-put.ts';

export interface PutObjectInput {
  key: string;
  body: Readable | Buffer;
  contentLength?: number;
  sha256?: string;
  metadata?: Record<string, string>;
  signal?: AbortSignal;
}

export interface ObjectHead {
  key: string;
  size: number;
  sha256: string | undefined;
  etag: string | undefined;
  /** The host that uploaded it (user metadata), when animal-sync did. */
  sourceHost?: string | undefined;
}

export interface ListedObject {
  key: string;
  size: number;
  lastModified: Date | undefined;
}

export interface ObjectStore {
  readonly bucket: string;
  put(input: PutObjectInput): Promise<{ parts: number }>;
  get(key: string): Promise<Readable>;
  head(key: string): Promise<ObjectHead | null>;
  /** Every object under `prefix`, all pages (ListObjectsV2). */
  list(prefix: string): Promise<ListedObject[]>;
  /** The folder names directly under `prefix` (ListObjectsV2 with a "/" delimiter), without the prefix. */
  listFolders(prefix: string): Promise<string[]>;
  delete(key: string): Promise<void>;
  ensureBucket(): Promise<'created' | 'exists'>;
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.name === 'NoSuchBucket' || e?.$metadata?.httpStatusCode === 404;
}

/**
 * The client, with `signal` on every request it sends. lib-storage's Upload.abort() only
 * rejects done(): its PutObject/UploadPart requests (and the SDK's retries of them) would run
 * on, and keep a stopping daemon alive long past its grace time. An incomplete multipart
 * upload left behind is invisible and removed by the bucket's lifecycle rule.
 */
function withAbortSignal(client: S3Client, signal: AbortSignal): S3Client {
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver);
      return (command: Parameters<S3Client['send']>[0], options?: object) => target.send(command, { ...options, abortSignal: signal });
    },
  });
}

export class S3ObjectStore implements ObjectStore {
  readonly bucket: string;
  private readonly client: S3Client;
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly signedPut: SignedPut | undefined;

  /** `signedPut`: small objects go up as plain signed PUTs (s3-put.ts), not through the SDK's middleware. */
  constructor(client: S3Client, bucket: string, opts: { partSizeBytes: number; partQueueSize?: number; signedPut?: SignedPutOptions }) {
    this.client = client;
    this.bucket = bucket;
    this.partSize = opts.partSizeBytes;
    this.queueSize = opts.partQueueSize ?? PART_QUEUE_SIZE;
    this.signedPut = opts.signedPut ? new SignedPut(client, opts.signedPut) : undefined;
  }

  /** Closes the sockets of the signed PUTs (the SDK client is its owner's to destroy). */
  close(): void {
    this.signedPut?.close();
  }

  /**
   * Single PUT up to the part size, multipart above it. A failed multipart upload is
   * aborted (leavePartsOnError: false) so it never becomes visible half-written.
   */
  async put(input: PutObjectInput): Promise<{ parts: number }> {
    if (Buffer.isBuffer(input.body) && input.body.length <= this.partSize) return this.putSingle(input, input.body);
    let parts = 0;
    const upload = new Upload({
      client: input.signal ? withAbortSignal(this.client, input.signal) : this.client,
      partSize: this.partSize,
      queueSize: this.queueSize,
      leavePartsOnError: false,
      params: {
        Bucket: this.bucket,
        Key: input.key,
        Body: input.body,
        ContentType: 'image/png',
        ...(input.contentLength !== undefined && input.contentLength <= this.partSize ? { ContentLength: input.contentLength } : {}),
        Metadata: { ...(input.sha256 ? { sha256: input.sha256 } : {}), ...input.metadata },
      },
    });
    upload.on('httpUploadProgress', (p) => {
      if (p.part !== undefined) parts = Math.max(parts, p.part);
    });
    const onAbort = (): void => void upload.abort().catch(() => undefined);
    input.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await upload.done();
    } finally {
      input.signal?.removeEventListener('abort', onAbort);
    }
    return { parts: Math.max(parts, 1) };
  }

  /**
   * One PutObject for a body already in memory. The sha256 we computed goes out as
   * x-amz-content-sha256: the signer uses it instead of hashing the body again, and S3
   * rejects the request if the bytes it received do not match it.
   */
  private async putSingle(input: PutObjectInput, body: Buffer): Promise<{ parts: number }> {
    const metadata = { ...(input.sha256 ? { sha256: input.sha256 } : {}), ...input.metadata };
    if (this.signedPut && input.sha256 && (await this.signedPut.put({ bucket: this.bucket, key: input.key, body, sha256: input.sha256, contentType: 'image/png', metadata, signal: input.signal }))) {
      return { parts: 1 };
    }
    const command = new PutObjectCommand({
      Bucket: this.bucket,
      Key: input.key,
      Body: body,
      ContentLength: body.length,
      ContentType: 'image/png',
      Metadata: metadata,
    });
    const sha256 = input.sha256;
    if (sha256) {
      command.middlewareStack.add(
        (next) => async (args) => {
          const request = args.request as { headers?: Record<string, string> };
          if (request.headers) request.headers['x-amz-content-sha256'] = sha256;
          return next(args);
        },
        { step: 'build', name: 'animalSyncPayloadSha256' },
      );
    }
    await this.client.send(command, { abortSignal: input.signal });
    return { parts: 1 };
  }

  async get(key: string): Promise<Readable> {
    const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    return res.Body as Readable;
  }

  async head(key: string): Promise<ObjectHead | null> {
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { key, size: res.ContentLength ?? 0, sha256: res.Metadata?.sha256, etag: res.ETag, sourceHost: res.Metadata?.[SOURCE_HOST_METADATA] };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async list(prefix: string): Promise<ListedObject[]> {
    const out: ListedObject[] = [];
    for await (const page of paginateListObjectsV2({ client: this.client, pageSize: 1000 }, { Bucket: this.bucket, Prefix: prefix })) {
      for (const o of page.Contents ?? []) if (o.Key) out.push({ key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified });
    }
    return out;
  }

  async listFolders(prefix: string): Promise<string[]> {
    const out: string[] = [];
    for await (const page of paginateListObjectsV2({ client: this.client, pageSize: 1000 }, { Bucket: this.bucket, Prefix: prefix, Delimiter: '/' })) {
      for (const p of page.CommonPrefixes ?? []) if (p.Prefix) out.push(p.Prefix.slice(prefix.length).replace(/\/$/, ''));
    }
    return out;
  }

  /** Deleting a missing key succeeds: a repeated delete after a crash is harmless. */
  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async ensureBucket(): Promise<'created' | 'exists'> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return 'exists';
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    try {
      await this.client.send(new CreateBucketCommand({ Bucket: this.bucket }));
      return 'created';
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name === 'BucketAlreadyOwnedByYou' || name === 'BucketAlreadyExists') return 'exists';
      throw err;
    }
  }
}
