// The one place where settings are resolved: defaults < /etc/animal-sync/config.json < the user's
// config.json (XDG) < --config FILE < environment < flags.
// Everything else receives the frozen, validated `Config` this module returns.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from './errors.ts';

type SettingType =
  | { kind: 'string'; nonEmpty?: boolean }
  | { kind: 'int'; min: number; max?: number }
  | { kind: 'bool' }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'optionalString' };

export interface SettingSpec {
  /** camelCase key in the config file; kebab-case flag; ANIMAL_SYNC_ + UPPER_SNAKE env var. */
  readonly key: keyof ConfigValues;
  readonly type: SettingType;
  readonly description: string;
}

export interface ConfigValues {
  inbox: string;
  bucket: string;
  table: string;
  stateDir: string | null;
  hostId: string | null;
  concurrency: number;
  partSizeMib: number;
  memoryBudgetMib: number;
  s3PathStyle: 'auto' | 'true' | 'false';
  checksumMode: 'auto' | 'when_required' | 'when_supported';
  signedPuts: boolean;
  itemWrites: 'auto' | 'batch' | 'transact';
  requestTimeoutMs: number;
  connectTimeoutMs: number;
  maxAttempts: number;
  stabilityMs: number;
  scanIntervalSec: number;
  checkIntervalSec: number;
  maxDelete: number;
  maxDeleteRatio: number;
  graceMs: number;
  retryBaseMs: number;
  usePolling: boolean;
  healthAddress: string | null;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
  logFormat: 'auto' | 'json' | 'pretty';
}

export const SETTINGS: readonly SettingSpec[] = [
  { key: 'inbox', type: { kind: 'string', nonEmpty: true }, description: 'Folder watched for <animal>/<name>.png files.' },
  { key: 'bucket', type: { kind: 'string', nonEmpty: true }, description: 'S3 bucket that holds the images.' },
  { key: 'table', type: { kind: 'string', nonEmpty: true }, description: 'DynamoDB table that holds one item per image.' },
  { key: 'stateDir', type: { kind: 'optionalString' }, description: 'Folder for the index, the lock and stream checkpoints. null = $XDG_STATE_HOME/animal-sync/<inbox>-<hash of inbox, bucket, table> (else ~/.local/state/animal-sync/...), the same from any directory.' },
  { key: 'hostId', type: { kind: 'optionalString' }, description: 'Written as source_host; a daemon only deletes its own items. null = the machine hostname.' },
  { key: 'concurrency', type: { kind: 'int', min: 1, max: 256 }, description: 'Files transferred in parallel (small files: the transfer of one is mostly waiting for the server).' },
  { key: 'partSizeMib', type: { kind: 'int', min: 5, max: 5120 }, description: 'Multipart part size in MiB; larger files go up in parts.' },
  { key: 'memoryBudgetMib', type: { kind: 'int', min: 8, max: 65536 }, description: 'File bytes that transfers in flight may hold in memory: a small file holds its size, a multipart upload 5 parts. Fewer files run at once when they would not fit.' },
  { key: 's3PathStyle', type: { kind: 'enum', values: ['auto', 'true', 'false'] }, description: 'Path-style S3 addressing; auto = on when AWS_ENDPOINT_URL_S3 is set.' },
  { key: 'checksumMode', type: { kind: 'enum', values: ['auto', 'when_required', 'when_supported'] }, description: 'SDK request checksums; auto = when_required for a custom S3 endpoint (S3-compatible servers reject CRC32 trailers).' },
  { key: 'signedPuts', type: { kind: 'bool' }, description: 'Files up to the part size go up as one plain SigV4-signed PUT (the SDK\'s endpoint, signer and credentials; not its per-request middleware, about a third less client CPU per file); false = the SDK\'s PutObject.' },
  { key: 'itemWrites', type: { kind: 'enum', values: ['auto', 'batch', 'transact'] }, description: 'How new items are written: batch = BatchWriteItem of 25 (cheapest on AWS), transact = TransactWriteItems of 100 (one commit; ~3.5x faster on DynamoDB Local), auto = transact for a custom DynamoDB endpoint, batch where that endpoint has no transactions (asked by the first write).' },
  { key: 'requestTimeoutMs', type: { kind: 'int', min: 100 }, description: 'Longest time one AWS request (request and response) may take.' },
  { key: 'connectTimeoutMs', type: { kind: 'int', min: 100 }, description: 'Longest time to open a connection to an endpoint.' },
  { key: 'maxAttempts', type: { kind: 'int', min: 1, max: 20 }, description: 'SDK attempts per AWS request (retries + 1).' },
  { key: 'stabilityMs', type: { kind: 'int', min: 0 }, description: 'A file must keep its size and mtime this long before it is uploaded.' },
  { key: 'scanIntervalSec', type: { kind: 'int', min: 1 }, description: 'Full rescan interval of the daemon; repairs whatever the watcher missed.' },
  { key: 'checkIntervalSec', type: { kind: 'int', min: 0 }, description: 'How often the daemon audits the catalogue (check + repair of what this host owns), also once after start-up; 0 = never.' },
  { key: 'maxDelete', type: { kind: 'int', min: 0 }, description: 'Most deletes one pass may make without --force.' },
  { key: 'maxDeleteRatio', type: { kind: 'int', min: 0, max: 100 }, description: 'Most deletes one pass may make, in percent of this host\'s items, without --force.' },
  { key: 'graceMs', type: { kind: 'int', min: 0 }, description: 'On SIGTERM, how long in-flight transfers may take to finish.' },
  { key: 'retryBaseMs', type: { kind: 'int', min: 1 }, description: 'First retry delay of a failed file; doubles up to 5 minutes.' },
  { key: 'usePolling', type: { kind: 'bool' }, description: 'Watch by polling instead of inotify (network filesystems).' },
  { key: 'healthAddress', type: { kind: 'optionalString' }, description: 'host:port for /healthz and /metrics; null = off.' },
  { key: 'logLevel', type: { kind: 'enum', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] }, description: 'Least severe log level printed.' },
  { key: 'logFormat', type: { kind: 'enum', values: ['auto', 'json', 'pretty'] }, description: 'Log lines as JSON (journald, files) or readable; auto = readable only on a terminal.' },
];

export interface Config extends Readonly<Omit<ConfigValues, 'hostId' | 'stateDir'>> {
  readonly hostId: string;
  /** Absolute; derived from inbox, bucket and table when not set. */
  readonly stateDir: string;
  /** Derived: path style in effect. */
  readonly forcePathStyle: boolean;
  /** Derived: SDK checksum setting in effect. */
  readonly requestChecksumCalculation: 'WHEN_REQUIRED' | 'WHEN_SUPPORTED';
  readonly partSizeBytes: number;
  /** Derived: how new items are written in effect. */
  readonly itemWriteMode: 'batch' | 'transact';
  /** Derived: the SDK region; undefined = the SDK's own chain (profile, instance metadata). */
  readonly region: string | undefined;
  /** Derived: itemWrites auto chose transact, so a store without transactions falls back to batch. */
  readonly itemWritesFallback: boolean;
  /** The --config / ANIMAL_SYNC_CONFIG file, if any. */
  readonly configFile: string | null;
  /** Every config file read, in the order applied (for `status` and `--help`). */
  readonly configFiles: readonly string[];
}

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULTS_FILE = path.join(projectRoot, 'config', 'default.json');

export function envName(key: string): string {
  return 'ANIMAL_SYNC_' + key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

export function flagName(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

function describeGot(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(JSON.stringify(value));
}

/** Validates one raw value (string from env/flags, or JSON value from a file). */
export function parseSetting(spec: SettingSpec, raw: unknown, source: string): unknown {
  const fail = (expected: string): never => {
    throw new ConfigError(`${spec.key}: expected ${expected}, got ${describeGot(raw)} (from ${source})`);
  };
  const t = spec.type;
  switch (t.kind) {
    case 'string': {
      if (typeof raw !== 'string') return fail('a string');
      if (t.nonEmpty && raw.trim() === '') return fail('a non-empty string');
      return raw;
    }
    case 'optionalString': {
      if (raw === null || raw === '') return null;
      if (typeof raw !== 'string') return fail('a string or null');
      return raw;
    }
    case 'int': {
      const range = t.max === undefined ? `>= ${t.min}` : `between ${t.min} and ${t.max}`;
      let n: number;
      if (typeof raw === 'number') n = raw;
      else if (typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw)) n = Number(raw);
      else return fail(`an integer ${range}`);
      if (!Number.isSafeInteger(n) || n < t.min || (t.max !== undefined && n > t.max)) return fail(`an integer ${range}`);
      return n;
    }
    case 'bool': {
      if (typeof raw === 'boolean') return raw;
      if (typeof raw === 'string' && /^(true|1|yes|on)$/i.test(raw)) return true;
      if (typeof raw === 'string' && /^(false|0|no|off)$/i.test(raw)) return false;
      return fail('true or false');
    }
    case 'enum': {
      const v = typeof raw === 'boolean' ? String(raw) : raw;
      if (typeof v !== 'string' || !t.values.includes(v.toLowerCase())) return fail(`one of ${t.values.join(', ')}`);
      return v.toLowerCase();
    }
  }
}

function readJsonObject(file: string, what: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${what} ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)}); check the path and its permissions`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${what} ${file}: not valid JSON (${(err as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`${what} ${file}: expected a JSON object of settings, got ${Array.isArray(parsed) ? 'an array' : typeof parsed}`);
  }
  return parsed as Record<string, unknown>;
}

const KNOWN = new Map(SETTINGS.map((s) => [s.key as string, s]));

function applyObject(target: Record<string, unknown>, obj: Record<string, unknown>, source: string): void {
  for (const [key, raw] of Object.entries(obj)) {
    if (key === '$comment') continue;
    const spec = KNOWN.get(key);
    if (!spec) {
      const hint = [...KNOWN.keys()].find((k) => k.toLowerCase() === key.toLowerCase().replace(/[-_]/g, ''));
      throw new ConfigError(`${key}: unknown setting in ${source}${hint ? ` (did you mean "${hint}"?)` : ''}; known settings: ${[...KNOWN.keys()].join(', ')}`);
    }
    target[key] = parseSetting(spec, raw, source);
  }
}

export const SYSTEM_CONFIG_FILE = '/etc/animal-sync/config.json';

/** `$XDG_CONFIG_HOME/animal-sync/config.json`, else `~/.config/animal-sync/config.json`; null without either variable. */
export function userConfigFile(env: NodeJS.ProcessEnv): string | null {
  const base = env.XDG_CONFIG_HOME || (env.HOME ? path.join(env.HOME, '.config') : '');
  return base ? path.join(base, 'animal-sync', 'config.json') : null;
}

/** The config files that apply before --config, in order: those that exist. */
export function standardConfigFiles(env: NodeJS.ProcessEnv, systemFile = SYSTEM_CONFIG_FILE): string[] {
  return [systemFile, userConfigFile(env)].filter((f): f is string => f !== null && existsSync(f));
}

export interface ResolveInput {
  /** Flag values already parsed by yargs, keyed by camelCase setting name; undefined = not given. */
  flags?: Partial<Record<keyof ConfigValues, unknown>>;
  /** --config FILE (flags win over ANIMAL_SYNC_CONFIG). */
  configFile?: string;
  env?: NodeJS.ProcessEnv;
  /** Where relative paths are resolved from. */
  cwd?: string;
  /** The system-wide file (tests point it elsewhere). */
  systemConfigFile?: string;
  hostname?: string;
}

export function loadDefaults(): ConfigValues {
  const raw = readJsonObject(DEFAULTS_FILE, 'defaults file');
  const values: Record<string, unknown> = {};
  applyObject(values, raw, DEFAULTS_FILE);
  for (const spec of SETTINGS) {
    if (!(spec.key in values)) throw new ConfigError(`${spec.key}: missing from ${DEFAULTS_FILE}`);
  }
  return values as unknown as ConfigValues;
}

export function resolveConfig(input: ResolveInput = {}): Config {
  const env = input.env ?? process.env;
  const cwd = input.cwd ?? process.cwd();
  const values: Record<string, unknown> = { ...loadDefaults() };

  const configFile = input.configFile ?? (env.ANIMAL_SYNC_CONFIG || undefined);
  const files = standardConfigFiles(env, input.systemConfigFile);
  if (configFile) files.push(path.resolve(cwd, configFile));
  for (const file of files) applyObject(values, readJsonObject(file, 'config file'), `config file ${file}`);
  for (const spec of SETTINGS) {
    const name = envName(spec.key);
    const raw = env[name];
    if (raw !== undefined) values[spec.key] = parseSetting(spec, raw, `environment ${name}`);
  }
  for (const spec of SETTINGS) {
    const raw = input.flags?.[spec.key];
    if (raw !== undefined) values[spec.key] = parseSetting(spec, typeof raw === 'number' ? String(raw) : raw, `flag --${flagName(spec.key)}`);
  }
  return finalizeConfig(values as unknown as ConfigValues, { env, cwd, hostname: input.hostname, configFile: configFile ? path.resolve(cwd, configFile) : null, configFiles: files });
}

export interface EndpointFacts {
  /** S3 requests go to an S3-compatible server, not to AWS. */
  customS3: boolean;
  /** DynamoDB requests go to DynamoDB Local or the like, not to AWS. */
  customDynamo: boolean;
  region: string | undefined;
}

/**
 * Pure: what the SDK's own variables say about where requests go. The SDK reads the endpoint
 * variables itself; this only derives what depends on them, in one place.
 */
export function endpointFacts(env: NodeJS.ProcessEnv): EndpointFacts {
  const customS3 = Boolean(env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL);
  const customDynamo = Boolean(env.AWS_ENDPOINT_URL_DYNAMODB || env.AWS_ENDPOINT_URL_DYNAMODB_STREAMS || env.AWS_ENDPOINT_URL);
  // A custom endpoint (local stack, S3-compatible server) needs no real region, but the SDK
  // refuses to sign without one.
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || (customS3 || customDynamo ? 'us-east-1' : undefined);
  return { customS3, customDynamo, region };
}

/**
 * The state dir when none is set: never relative to the current directory (a `sync --once`
 * run from elsewhere would see an empty index), and one per (inbox, bucket, table), so two
 * configurations never share index rows.
 */
export function defaultStateDir(c: { inbox: string; bucket: string; table: string }, env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : path.join(env.HOME || os.homedir(), '.local', 'state');
  const id = createHash('sha256').update(JSON.stringify([c.inbox, c.bucket, c.table])).digest('hex').slice(0, 12);
  const name = path.basename(c.inbox).replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 40) || 'inbox';
  return path.join(base, 'animal-sync', `${name}-${id}`);
}

function finalizeConfig(v: ConfigValues, ctx: { env: NodeJS.ProcessEnv; cwd: string; hostname?: string; configFile: string | null; configFiles: string[] }): Config {
  const { customS3: customS3Endpoint, customDynamo: customDynamoEndpoint, region } = endpointFacts(ctx.env);
  const forcePathStyle = v.s3PathStyle === 'auto' ? customS3Endpoint : v.s3PathStyle === 'true';
  const checksum = v.checksumMode === 'auto' ? (customS3Endpoint ? 'when_required' : 'when_supported') : v.checksumMode;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(v.bucket) || v.bucket.includes('..')) {
    throw new ConfigError(`bucket: expected an S3 bucket name (3-63 lowercase letters, digits, "." and "-"), got ${JSON.stringify(v.bucket)}`);
  }
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(v.table)) {
    throw new ConfigError(`table: expected a DynamoDB table name (3-255 letters, digits, "_", "-" and "."), got ${JSON.stringify(v.table)}`);
  }
  const hostId = v.hostId ?? ctx.hostname ?? os.hostname();
  if (!/^[\w.-]{1,128}$/.test(hostId)) {
    throw new ConfigError(`hostId: expected 1-128 letters, digits, ".", "-" or "_", got ${JSON.stringify(hostId)}`);
  }
  const inbox = path.resolve(ctx.cwd, v.inbox);
  return Object.freeze({
    ...v,
    inbox,
    stateDir: v.stateDir === null ? defaultStateDir({ inbox, bucket: v.bucket, table: v.table }, ctx.env) : path.resolve(ctx.cwd, v.stateDir),
    hostId,
    forcePathStyle,
    requestChecksumCalculation: checksum === 'when_required' ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED',
    partSizeBytes: v.partSizeMib * 1024 * 1024,
    itemWriteMode: v.itemWrites === 'auto' ? (customDynamoEndpoint ? 'transact' : 'batch') : v.itemWrites,
    region,
    itemWritesFallback: v.itemWrites === 'auto' && customDynamoEndpoint,
    configFile: ctx.configFile,
    configFiles: Object.freeze([...ctx.configFiles]),
  });
}
