// What the SDK says when it cannot start ("Region is missing", "Could not load credentials from
// any providers", "connect ECONNREFUSED 127.0.0.1:8000") is true but says nothing about what to
// do. These are the three a new user meets first; each becomes a sentence with the fix in it.
// Anything else is returned as undefined and shown as it is.

const ENDPOINT_VARS = [
  ['AWS_ENDPOINT_URL_DYNAMODB', 'DynamoDB'],
  ['AWS_ENDPOINT_URL_S3', 'S3'],
  ['AWS_ENDPOINT_URL_DYNAMODB_STREAMS', 'DynamoDB Streams'],
  ['AWS_ENDPOINT_URL', 'AWS'],
] as const;

const PASTE_EXPORTS = 'is `animal-sync local` (or `npm start`) running? In this shell, paste the `export` lines it printed';
const LOCAL_HINT = 'for the local stack, paste in this shell the `export` lines that `animal-sync local` (or `npm start`) printed';

interface ConnectError {
  code?: string;
  address?: string;
  port?: number;
  cause?: unknown;
  errors?: unknown[];
}

/** The connect error inside an SDK error (Node puts it in `cause`, or in `errors` for happy eyeballs). */
function connectFailure(err: unknown, depth = 0): ConnectError | undefined {
  if (!err || typeof err !== 'object' || depth > 4) return undefined;
  const e = err as ConnectError;
  if (e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return e;
  return connectFailure(e.cause, depth + 1) ?? (Array.isArray(e.errors) ? e.errors.map((x) => connectFailure(x, depth + 1)).find(Boolean) : undefined);
}

function endpointFor(address: string | undefined, port: number | undefined, env: NodeJS.ProcessEnv): { url: string; service: string } | undefined {
  for (const [name, service] of ENDPOINT_VARS) {
    const value = env[name];
    if (!value) continue;
    try {
      const u = new URL(value);
      const p = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
      if (port === undefined || p === port) return { url: value, service };
    } catch {
      // A malformed endpoint is the SDK's to report.
    }
  }
  return address ? { url: `${address}${port ? `:${port}` : ''}`, service: 'AWS' } : undefined;
}

const isLoopback = (url: string): boolean => /^(https?:\/\/)?(127\.|localhost|\[::1\])/.test(url);

/**
 * The message to show for `err`: the explanation, or, when `err` wraps the SDK's error with
 * context of ours ("cannot read the catalogue of dog: connect ECONNREFUSED …"), that context
 * with the SDK's words replaced by the explanation.
 */
export function explainAwsError(err: unknown, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const why = explainRoot(err, env);
  if (!why) return undefined;
  const root = rootMessage(err);
  return root && err.message !== root && err.message.includes(root) ? err.message.replace(root, why) : why;
}

/** The innermost message of the cause chain (the SDK's own words). */
function rootMessage(err: Error): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 5 && e instanceof Error && e.cause instanceof Error; i++) e = e.cause;
  return e instanceof Error ? e.message : undefined;
}

function explainRoot(err: Error, env: NodeJS.ProcessEnv): string | undefined {
  const conn = connectFailure(err);
  if (conn?.code === 'ECONNREFUSED') {
    const ep = endpointFor(conn.address, conn.port, env);
    const where = ep ? `${ep.url} (${ep.service})` : 'the endpoint';
    return ep && isLoopback(ep.url)
      ? `nothing answers at ${where}: ${PASTE_EXPORTS}`
      : `nothing answers at ${where}: check the endpoint variables (AWS_ENDPOINT_URL_*) and that the service is up`;
  }
  if (conn) return `cannot resolve the host of ${conn.address ?? 'the endpoint'} (${conn.code}): check AWS_REGION and any AWS_ENDPOINT_URL_* variables, and the network`;
  if (err.message === 'Region is missing' || rootMessage(err) === 'Region is missing') {
    return 'no AWS region is set: export AWS_REGION=<region of your bucket and table> (e.g. us-east-1), or set `region` in the profile AWS_PROFILE names ' +
      `(${LOCAL_HINT}); see the README, "Pointing it at real AWS"`;
  }
  if (err.name === 'CredentialsProviderError' || /Could not load credentials from any providers/.test(err.message)) {
    return 'no AWS credentials were found: export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE naming a profile in ~/.aws/credentials ' +
      `(${LOCAL_HINT}); see the README, "Pointing it at real AWS"`;
  }
  return undefined;
}
