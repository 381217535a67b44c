// The DynamoDB Streams client, built like the project's other SDK clients (src/stores/aws.ts):
// bounded connect and request timeouts, endpoint from AWS_ENDPOINT_URL_DYNAMODB_STREAMS.
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { requestHandler, type AwsSettings } from '../stores/aws.ts';
import { Sha256 } from '../stores/sha256.ts';

export function makeStreamsClient(s: AwsSettings): DynamoDBStreamsClient {
  return new DynamoDBStreamsClient({ region: s.region, maxAttempts: s.maxAttempts, requestHandler: requestHandler(s), sha256: Sha256 });
}
