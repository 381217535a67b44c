// Builds the SDK clients from the config: bounded timeouts on every request, endpoints and
// credentials from the SDK's own conventions (AWS_ENDPOINT_URL_*, AWS_PROFILE); the region as
// src/config.ts resolved it.
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { Config } from '../config.ts';
import { http, loadHttps } from '../node-http.ts';
import { Sha256 } from './sha256.ts';

export type AwsSettings = Pick<Config, 'requestTimeoutMs' | 'connectTimeoutMs' | 'maxAttempts' | 'forcePathStyle' | 'requestChecksumCalculation' | 'concurrency' | 'region'>;

export function requestHandler(s: AwsSettings): NodeHttpHandler {
  const maxSockets = Math.max(50, s.concurrency * 4);
  return new NodeHttpHandler({
    connectionTimeout: s.connectTimeoutMs,
    requestTimeout: s.requestTimeoutMs,
    // Without this the SDK only logs a warning and a hung endpoint hangs forever.
    throwOnRequestTimeout: true,
    httpAgent: new http.Agent({ keepAlive: true, maxSockets }),
    httpsAgent: new (loadHttps().Agent)({ keepAlive: true, maxSockets }),
  });
}

export function makeS3Client(s: AwsSettings): S3Client {
  return new S3Client({
    region: s.region,
    forcePathStyle: s.forcePathStyle,
    requestChecksumCalculation: s.requestChecksumCalculation,
    responseChecksumValidation: s.requestChecksumCalculation,
    maxAttempts: s.maxAttempts,
    requestHandler: requestHandler(s),
    sha256: Sha256,
  });
}

export function makeDynamoClient(s: AwsSettings): DynamoDBClient {
  return new DynamoDBClient({ region: s.region, maxAttempts: s.maxAttempts, requestHandler: requestHandler(s), sha256: Sha256 });
}

export function makeDocumentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}
