// Builds the SDK clients from the config: bounded timeouts on every request, endpoints and
// credentials from the SDK's own conventions (AWS_ENDPOINT_URL_*, AWS_REGION, AWS_PROFILE).
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import http from 'node:http';
import https from 'node:https';
import type { Config } from '../config.ts';

export type AwsSettings = Pick<Config, 'requestTimeoutMs' | 'connectTimeoutMs' | 'maxAttempts' | 'forcePathStyle' | 'requestChecksumCalculation' | 'concurrency'>;

function usesCustomEndpoint(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.AWS_ENDPOINT_URL || env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL_DYNAMODB);
}

/** A custom endpoint (local stack, S3-compatible server) needs no real region. */
function region(env: NodeJS.ProcessEnv): string | undefined {
  return env.AWS_REGION || env.AWS_DEFAULT_REGION || (usesCustomEndpoint(env) ? 'us-east-1' : undefined);
}

export function requestHandler(s: AwsSettings): NodeHttpHandler {
  const maxSockets = Math.max(50, s.concurrency * 4);
  return new NodeHttpHandler({
    connectionTimeout: s.connectTimeoutMs,
    requestTimeout: s.requestTimeoutMs,
    // Without this the SDK only logs a warning and a hung endpoint hangs forever.
    throwOnRequestTimeout: true,
    httpAgent: new http.Agent({ keepAlive: true, maxSockets }),
    httpsAgent: new https.Agent({ keepAlive: true, maxSockets }),
  });
}

export function makeS3Client(s: AwsSettings, env: NodeJS.ProcessEnv = process.env): S3Client {
  return new S3Client({
    region: region(env),
    forcePathStyle: s.forcePathStyle,
    requestChecksumCalculation: s.requestChecksumCalculation,
    responseChecksumValidation: s.requestChecksumCalculation,
    maxAttempts: s.maxAttempts,
    requestHandler: requestHandler(s),
  });
}

export function makeDynamoClient(s: AwsSettings, env: NodeJS.ProcessEnv = process.env): DynamoDBClient {
  return new DynamoDBClient({ region: region(env), maxAttempts: s.maxAttempts, requestHandler: requestHandler(s) });
}

export function makeDocumentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}
