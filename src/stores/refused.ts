// A DynamoDB-compatible store that lacks an operation answers with UnknownOperationException,
// and the SDK, finding no message in the body, reports it as "UnknownError": true, and no help
// at all. Here such an answer becomes a sentence naming the operation the endpoint refused and
// the setting that avoids it. Pure: no SDK import, so the classification is unit-testable.

/** The endpoint does not implement an operation animal-sync sent it. Not worth a retry. */
export class OperationRefusedError extends Error {
  override name = 'OperationRefusedError';
  readonly operation: string;
  constructor(message: string, operation: string, opts?: { cause?: unknown }) {
    super(message, opts);
    this.operation = operation;
  }
}

interface SdkError {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/**
 * True for "this endpoint does not know that operation": UnknownOperationException by name, or
 * an unnamed client error (UnknownError) with a 4xx status. A 5xx or a throttle stays what it is
 * (transient), whatever its name.
 */
export function isRefusedOperation(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as SdkError;
  if (e.name === 'UnknownOperationException') return true;
  const status = e.$metadata?.httpStatusCode;
  const unnamed = e.name === 'UnknownError' || e.message === 'UnknownError';
  return unnamed && status !== undefined && status >= 400 && status < 500 && status !== 429;
}

const NO_STREAMS = 'this store has no DynamoDB Streams: `animal-sync stream` (the Lambda log) and the live gallery need DynamoDB Local or AWS';

/** What to set when `operation` is missing: the alternative that does without it. */
const REMEDY: Readonly<Record<string, string>> = {
  TransactWriteItems:
    'this store has no transactions; set itemWrites to batch (--item-writes batch, ANIMAL_SYNC_ITEM_WRITES=batch) or leave it at auto, which falls back to BatchWriteItem by itself',
  DescribeStream: NO_STREAMS,
  GetRecords: NO_STREAMS,
  GetShardIterator: NO_STREAMS,
  ListStreams: NO_STREAMS,
};

const GENERIC_REMEDY = 'animal-sync needs it; point AWS_ENDPOINT_URL_DYNAMODB at DynamoDB Local or AWS, or see the README, "Troubleshooting"';

export function refusalMessage(operation: string, endpoint: string | undefined): string {
  const where = endpoint ? `the DynamoDB endpoint ${endpoint}` : 'the DynamoDB endpoint';
  return `${where} does not implement ${operation} (it answered UnknownOperationException): ${REMEDY[operation] ?? GENERIC_REMEDY}`;
}

/** `err` as an OperationRefusedError when the endpoint refused `operation`, else unchanged. */
export function translateRefusal(err: unknown, operation: string, endpoint: string | undefined): unknown {
  return isRefusedOperation(err) ? new OperationRefusedError(refusalMessage(operation, endpoint), operation, { cause: err }) : err;
}
