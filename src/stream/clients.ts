// The DynamoDB Streams client, built like the project's other SDK clients (src/stores/aws.ts):
// bounded connect and request timeouts, endpoint from AWS_ENDPOINT_URL_DYNAMODB_STREAMS.
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { requestHandler, type AwsSettings } from '../stores/aws.ts';

/** A custom endpoint (DynamoDB Local) needs no real region. */
function streamsRegion(env: NodeJS.ProcessEnv): string | undefined {
  const custom = Boolean(env.AWS_ENDPOINT_URL || env.AWS_ENDPOINT_URL_DYNAMODB_STREAMS || env.AWS_ENDPOINT_URL_DYNAMODB);
  return env.AWS_REGION || env.AWS_DEFAULT_REGION || (custom ? 'us-east-1' : undefined);
}

export function makeStreamsClient(s: AwsSettings, env: NodeJS.ProcessEnv = process.env): DynamoDBStreamsClient {
  return new DynamoDBStreamsClient({ region: streamsRegion(env), maxAttempts: s.maxAttempts, requestHandler: requestHandler(s) });
}
