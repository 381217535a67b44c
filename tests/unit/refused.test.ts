// Which store errors mean "this endpoint does not implement that operation" (src/stores/refused.ts),
// and what the user is told. The real refusal (dynalite's answer) is in tests/backends/sync.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isRefusedOperation, OperationRefusedError, translateRefusal } from '../../src/stores/refused.ts';

const sdkError = (name: string, status: number, message = 'UnknownError'): Error =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });

describe('refused operations', () => {
  it('UnknownOperationException, or an unnamed 4xx (UnknownError), is a refusal; 5xx, 429 and named errors are not', () => {
    assert.equal(isRefusedOperation(sdkError('UnknownOperationException', 400)), true);
    assert.equal(isRefusedOperation(sdkError('UnknownError', 400)), true);
    assert.equal(isRefusedOperation(sdkError('SomeError', 404, 'UnknownError')), true);
    assert.equal(isRefusedOperation(sdkError('UnknownError', 500)), false, 'a 5xx stays transient');
    assert.equal(isRefusedOperation(sdkError('UnknownError', 429)), false, 'a throttle stays transient');
    assert.equal(isRefusedOperation(sdkError('ValidationException', 400, 'One or more parameter values were invalid')), false);
    assert.equal(isRefusedOperation(new Error('UnknownError')), false, 'no status: not an SDK answer');
    assert.equal(isRefusedOperation(undefined), false);
  });

  it('a refused TransactWriteItems names the endpoint, the operation and itemWrites batch; other errors pass unchanged', () => {
    const cause = sdkError('UnknownOperationException', 400);
    const err = translateRefusal(cause, 'TransactWriteItems', 'http://127.0.0.1:4567');
    assert.ok(err instanceof OperationRefusedError);
    assert.equal(err.operation, 'TransactWriteItems');
    assert.equal(err.cause, cause);
    assert.match(err.message, /^the DynamoDB endpoint http:\/\/127\.0\.0\.1:4567 does not implement TransactWriteItems .*set itemWrites to batch \(--item-writes batch/);
    assert.match((translateRefusal(cause, 'GetRecords', undefined) as Error).message, /no DynamoDB Streams/);
    assert.match((translateRefusal(cause, 'Query', undefined) as Error).message, /does not implement Query .*AWS_ENDPOINT_URL_DYNAMODB/);
    const other = sdkError('ConditionalCheckFailedException', 400, 'The conditional request failed');
    assert.equal(translateRefusal(other, 'PutItem', undefined), other);
  });
});
