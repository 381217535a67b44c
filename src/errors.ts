// Errors are classified here and turned into exit codes only in src/cli.ts.

/** The user gave something wrong (a flag, a file, a name): exit 2, nothing was written. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A setting has a bad value or an unknown key: exit 2 at start. */
export class ConfigError extends UsageError {
  override name = 'ConfigError';
}

/** The thing asked for does not exist: exit 1. */
export class NotFoundError extends Error {
  override name = 'NotFoundError';
}

/** A file is not an acceptable PNG; the daemon skips it with one log line. */
export class BadInputError extends UsageError {
  override name = 'BadInputError';
}

/** Bytes read back do not match what the catalogue says. */
export class IntegrityError extends Error {
  override name = 'IntegrityError';
}

/** Another process holds the state dir lock. */
export class LockedError extends Error {
  override name = 'LockedError';
}

/** A failure known to be worth retrying later (the store shed load, say). */
export class TransientError extends Error {
  override name = 'TransientError';
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError) return 2;
  if (err instanceof NotFoundError) return 1;
  if (err instanceof LockedError) return 3;
  return 1;
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE', 'EAI_AGAIN', 'ENETUNREACH']);

/** True for failures worth retrying later: network trouble, throttling, 5xx, timeouts. */
export function isTransient(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const e = err as Error & { code?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
  if (e instanceof TransientError) return true;
  if (e.code && NETWORK_CODES.has(e.code)) return true;
  if (e.name === 'TimeoutError' || e.name === 'RequestTimeout' || e.name === 'AbortError') return true;
  if (e.$retryable) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  if (/Throttl|ProvisionedThroughputExceeded|RequestLimitExceeded|SlowDown|InternalError|ServiceUnavailable/.test(e.name)) return true;
  return false;
}

/**
 * A file this process may not read is bad input (skipped with one log line, picked up again by
 * a later scan once it can be read), not a failure: retrying cannot help, and a failed upload
 * holds back every delete of the pass. Other errors are returned unchanged.
 */
export function unreadableAsBadInput(err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EACCES' || code === 'EPERM' ? new BadInputError(`cannot read it (${code}: permission denied)`) : err;
}

/** DynamoDB refused a conditional write (the condition did not hold). */
export function isConditionalFailure(err: unknown): boolean {
  return (err as { name?: string })?.name === 'ConditionalCheckFailedException';
}
