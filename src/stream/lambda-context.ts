// The context object the local stream runner hands the handler, shaped like the one Lambda
// passes (aws-lambda's Context): the handler's Logger adds it to every line (function name,
// ARN, memory, request id), so lines written locally look like the ones in CloudWatch.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { STREAM_LOGGER } from '../../lambda/function-settings.ts';

/** One "execution environment" per process, like a warm Lambda container: one log stream name. */
const LOG_STREAM = `${new Date().toISOString().slice(0, 10).replaceAll('-', '/')}/[$LATEST]${randomBytes(16).toString('hex')}`;

/** Region and account of a stream ARN (arn:aws:dynamodb:REGION:ACCOUNT:table/T/stream/...). */
function regionAndAccount(streamArn: string): { region: string; account: string } {
  const [, , , region, account] = streamArn.split(':');
  return { region: region || 'local', account: account || '000000000000' };
}

export interface InvocationContextOptions {
  streamArn: string;
  /** When the invocation started; the deadline is the function's timeout after it. */
  startedAt: number;
  now?: () => number;
}

export function invocationContext(opts: InvocationContextOptions): Context {
  const { region, account } = regionAndAccount(opts.streamArn);
  const name = STREAM_LOGGER.localFunctionName;
  const now = opts.now ?? Date.now;
  const deadline = opts.startedAt + STREAM_LOGGER.timeoutSeconds * 1000;
  const unsupported = (what: string) => () => {
    throw new Error(`context.${what}() is the callback API, which Node 24 Lambda functions do not have`);
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${account}:function:${name}`,
    memoryLimitInMB: String(STREAM_LOGGER.memoryMB),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: LOG_STREAM,
    getRemainingTimeInMillis: () => Math.max(0, deadline - now()),
    done: unsupported('done'),
    fail: unsupported('fail'),
    succeed: unsupported('succeed'),
  };
}
