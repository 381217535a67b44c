// The embedded default: an S3-compatible server and DynamoDB Local, with the bucket and the
// table created, and the environment another shell needs to reach them.
import path from 'node:path';
import { startDynamoLocal, type RunningDynamoLocal } from './dynamodb-local.ts';
import { startS3Server, type RunningS3Server } from './s3-server.ts';

export interface LocalStackOptions {
  dataDir: string;
  s3Port: number;
  dynamodbPort: number;
  bucket: string;
  /** Keep DynamoDB data in memory (tests); otherwise on disk under dataDir. */
  inMemory?: boolean;
  log?: (line: string) => void;
}

export interface LocalStack {
  s3Endpoint: string;
  dynamodbEndpoint: string;
  /** The variables that point the SDK (and so every animal-sync command) at this stack. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export const LOCAL_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' } as const;

export function localEnv(s3Endpoint: string, dynamodbEndpoint: string): Record<string, string> {
  return {
    AWS_REGION: 'us-east-1',
    ...LOCAL_CREDENTIALS,
    AWS_ENDPOINT_URL_S3: s3Endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: dynamodbEndpoint,
    AWS_ENDPOINT_URL_DYNAMODB_STREAMS: dynamodbEndpoint,
  };
}

export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const [dynamoResult, s3Result] = await Promise.allSettled([
    startDynamoLocal({
      port: opts.dynamodbPort, dataDir: opts.inMemory ? null : path.join(opts.dataDir, 'dynamodb'), scratchDir: path.join(opts.dataDir, 'jvm-tmp'), log: opts.log,
    }),
    startS3Server({ port: opts.s3Port, dataDir: path.join(opts.dataDir, 's3'), buckets: [opts.bucket] }),
  ]);
  if (dynamoResult.status === 'rejected' || s3Result.status === 'rejected') {
    // One came up and the other did not: never leave the first one running.
    await Promise.allSettled([
      dynamoResult.status === 'fulfilled' ? dynamoResult.value.stop() : undefined,
      s3Result.status === 'fulfilled' ? s3Result.value.stop() : undefined,
    ]);
    throw dynamoResult.status === 'rejected' ? dynamoResult.reason : (s3Result as PromiseRejectedResult).reason;
  }
  const dynamo: RunningDynamoLocal = dynamoResult.value;
  const s3: RunningS3Server = s3Result.value;
  const d = dynamo;
  const s = s3;
  return {
    s3Endpoint: s.endpoint,
    dynamodbEndpoint: d.endpoint,
    env: localEnv(s.endpoint, d.endpoint),
    async stop() {
      await Promise.allSettled([s.stop(), d.stop()]);
    },
  };
}
