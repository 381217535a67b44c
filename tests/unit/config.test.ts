import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { defaultStateDir, envName, flagName, loadDefaults, resolveConfig, SETTINGS } from '../../src/config.ts';
import { ConfigError } from '../../src/errors.ts';
import { tempDir } from '../helpers/stack.ts';

describe('config', () => {
  it('config/default.json lists every setting, and only those', () => {
    const defaults = loadDefaults();
    assert.deepEqual(Object.keys(defaults).sort(), SETTINGS.map((s) => s.key).sort());
  });

  it('spells each setting three ways', () => {
    assert.equal(envName('stateDir'), 'ANIMAL_SYNC_STATE_DIR');
    assert.equal(flagName('stateDir'), 'state-dir');
    assert.equal(envName('requestTimeoutMs'), 'ANIMAL_SYNC_REQUEST_TIMEOUT_MS');
  });

  it('applies defaults < file < environment < flags, and freezes the result', () => {
    const dir = tempDir();
    const file = path.join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ bucket: 'from-file', table: 'from-file', concurrency: 3, inbox: 'pics' }));
    const c = resolveConfig({
      configFile: file,
      env: { ANIMAL_SYNC_TABLE: 'from-env', ANIMAL_SYNC_CONCURRENCY: '5' },
      flags: { concurrency: '7' },
      cwd: dir,
      hostname: 'box-1',
    });
    assert.equal(c.bucket, 'from-file');
    assert.equal(c.table, 'from-env');
    assert.equal(c.concurrency, 7);
    assert.equal(c.inbox, path.join(dir, 'pics'));
    assert.equal(c.hostId, 'box-1');
    assert.equal(c.stateDir, defaultStateDir({ inbox: c.inbox, bucket: c.bucket, table: c.table }));
    assert.ok(!c.stateDir.startsWith(dir), 'the default state dir does not depend on the current directory');
    assert.ok(Object.isFrozen(c));
    assert.throws(() => { (c as { bucket: string }).bucket = 'x'; }, TypeError);
  });

  it('reads ANIMAL_SYNC_CONFIG when --config is not given', () => {
    const dir = tempDir();
    const file = path.join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ bucket: 'via-env-file' }));
    assert.equal(resolveConfig({ env: { ANIMAL_SYNC_CONFIG: file }, cwd: dir }).bucket, 'via-env-file');
  });

  it('names the setting, the expectation and the value for a bad value', () => {
    assert.throws(() => resolveConfig({ flags: { concurrency: '-3' }, env: {} }), {
      name: 'ConfigError',
      message: 'concurrency: expected an integer between 1 and 256, got "-3" (from flag --concurrency)',
    });
    assert.throws(() => resolveConfig({ env: { ANIMAL_SYNC_PART_SIZE_MIB: 'big' } }), /partSizeMib: expected an integer between 5 and 5120, got "big" \(from environment ANIMAL_SYNC_PART_SIZE_MIB\)/);
    assert.throws(() => resolveConfig({ env: { ANIMAL_SYNC_S3_PATH_STYLE: 'maybe' } }), /s3PathStyle: expected one of auto, true, false/);
    assert.throws(() => resolveConfig({ env: { ANIMAL_SYNC_HOST_ID: 'has space' } }), /hostId: expected/);
    assert.throws(() => resolveConfig({ env: { ANIMAL_SYNC_TABLE: 'X1' } }), /table: expected a DynamoDB table name/);
    assert.throws(() => resolveConfig({ env: { ANIMAL_SYNC_BUCKET: 'Upper_Case' } }), /bucket: expected an S3 bucket name/);
  });

  it('refuses unknown keys in the file and suggests the right one', () => {
    const dir = tempDir();
    const file = path.join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ Bucket: 'x' }));
    assert.throws(() => resolveConfig({ configFile: file, env: {} }), (err: Error) => err instanceof ConfigError && /Bucket: unknown setting/.test(err.message) && /did you mean "bucket"/.test(err.message));
    writeFileSync(file, '{ not json');
    assert.throws(() => resolveConfig({ configFile: file, env: {} }), /not valid JSON/);
    assert.throws(() => resolveConfig({ configFile: path.join(dir, 'missing.json'), env: {} }), /cannot read it \(ENOENT\)/);
  });

  it('derives S3 settings for a custom endpoint', () => {
    const custom = resolveConfig({ env: { AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4569' } });
    assert.equal(custom.forcePathStyle, true);
    assert.equal(custom.requestChecksumCalculation, 'WHEN_REQUIRED');
    const aws = resolveConfig({ env: {} });
    assert.equal(aws.forcePathStyle, false);
    assert.equal(aws.requestChecksumCalculation, 'WHEN_SUPPORTED');
    assert.equal(resolveConfig({ env: { ANIMAL_SYNC_S3_PATH_STYLE: 'true' } }).forcePathStyle, true);
    assert.equal(resolveConfig({ env: { AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8000' } }).itemWriteMode, 'transact');
    assert.equal(resolveConfig({ env: {} }).itemWriteMode, 'batch');
    assert.equal(resolveConfig({ env: { AWS_ENDPOINT_URL_DYNAMODB: 'http://x', ANIMAL_SYNC_ITEM_WRITES: 'batch' } }).itemWriteMode, 'batch');
    // auto on a custom endpoint may fall back to batch (a store without transactions); explicit settings never do.
    assert.equal(resolveConfig({ env: { AWS_ENDPOINT_URL_DYNAMODB: 'http://x' } }).itemWritesFallback, true);
    assert.equal(resolveConfig({ env: { AWS_ENDPOINT_URL_DYNAMODB: 'http://x', ANIMAL_SYNC_ITEM_WRITES: 'transact' } }).itemWritesFallback, false);
    assert.equal(resolveConfig({ env: {} }).itemWritesFallback, false);
  });

  it('derives the region once: the SDK chain for AWS, us-east-1 for any custom endpoint, AWS_REGION first', () => {
    assert.equal(resolveConfig({ env: {} }).region, undefined);
    for (const name of ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL_DYNAMODB', 'AWS_ENDPOINT_URL_DYNAMODB_STREAMS']) {
      assert.equal(resolveConfig({ env: { [name]: 'http://127.0.0.1:1' } }).region, 'us-east-1', name);
    }
    assert.equal(resolveConfig({ env: { AWS_ENDPOINT_URL_S3: 'http://x', AWS_REGION: 'eu-west-1' } }).region, 'eu-west-1');
    assert.equal(resolveConfig({ env: { AWS_DEFAULT_REGION: 'eu-north-1' } }).region, 'eu-north-1');
  });

  it('logFormat has all three spellings and refuses other values', () => {
    assert.equal(resolveConfig({ env: {} }).logFormat, 'auto');
    assert.equal(resolveConfig({ env: { ANIMAL_SYNC_LOG_FORMAT: 'json' } }).logFormat, 'json');
    assert.equal(resolveConfig({ env: { ANIMAL_SYNC_LOG_FORMAT: 'json' }, flags: { logFormat: 'pretty' } }).logFormat, 'pretty');
    assert.throws(() => resolveConfig({ env: { ANIMAL_SYNC_LOG_FORMAT: 'xml' } }), /logFormat: expected one of auto, json, pretty, got "xml" \(from environment ANIMAL_SYNC_LOG_FORMAT\)/);
  });

  it('defaults the state dir under XDG_STATE_HOME (else ~/.local/state), the same from any directory, one per inbox+bucket+table', () => {
    const env = { XDG_STATE_HOME: '/var/xdg', ANIMAL_SYNC_INBOX: '/data/pics' };
    const a = resolveConfig({ env, cwd: '/tmp' }).stateDir;
    assert.equal(resolveConfig({ env, cwd: '/home' }).stateDir, a);
    assert.match(a, /^\/var\/xdg\/animal-sync\/pics-[0-9a-f]{12}$/);
    assert.notEqual(resolveConfig({ env: { ...env, ANIMAL_SYNC_TABLE: 'Other' } }).stateDir, a);
    assert.notEqual(resolveConfig({ env: { ...env, ANIMAL_SYNC_BUCKET: 'other-bucket' } }).stateDir, a);
    assert.notEqual(resolveConfig({ env: { ...env, ANIMAL_SYNC_INBOX: '/data/other' } }).stateDir, a);
    assert.match(resolveConfig({ env: { HOME: '/home/ann', ANIMAL_SYNC_INBOX: '/data/pics' } }).stateDir, /^\/home\/ann\/\.local\/state\/animal-sync\/pics-/);
    assert.equal(resolveConfig({ env: { ...env, ANIMAL_SYNC_STATE_DIR: 'rel/state' }, cwd: '/srv' }).stateDir, '/srv/rel/state');
  });

  it('checkIntervalSec takes 0 (off) and refuses negatives', () => {
    assert.equal(resolveConfig({ env: {} }).checkIntervalSec, 86400);
    assert.equal(resolveConfig({ env: { ANIMAL_SYNC_CHECK_INTERVAL_SEC: '0' } }).checkIntervalSec, 0);
    assert.throws(() => resolveConfig({ flags: { checkIntervalSec: '-1' }, env: {} }), /checkIntervalSec: expected an integer >= 0/);
  });
});
