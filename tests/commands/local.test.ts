// `animal-sync local`, the newcomer's first command: servers, daemon and stream runner on one
// machine; dropping a file shows an INSERT in lambda.log; no process outlives it.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { BIN, runCli, waitFor } from '../helpers/cli.ts';
import { makePng } from '../helpers/png.ts';
import { freePort, tempDir } from '../helpers/stack.ts';

function dynamoJvms(port: number): number[] {
  try {
    return execFileSync('pgrep', ['-f', `DynamoDBLocal.jar .*-port ${port}`], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function startLocal(cwd: string, extraArgs: string[] = []) {
  const s3Port = await freePort();
  const dynamodbPort = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, ANIMAL_SYNC_LOG_FORMAT: 'json', ANIMAL_SYNC_STABILITY_MS: '100' };
  for (const k of ['AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL_DYNAMODB', 'AWS_ENDPOINT_URL_DYNAMODB_STREAMS']) delete env[k];
  const child = spawn(BIN, ['local', '--s3-port', String(s3Port), '--dynamodb-port', String(dynamodbPort), '--gallery-port', '0', ...extraArgs], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.on('data', (d: Buffer) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  await waitFor('local stack up', () => /Press Ctrl-C to stop/.test(out), 60000).catch((err) => { throw new Error(`${err}\n${out}`); });
  return { child, exited, s3Port, dynamodbPort, output: () => out };
}

describe('animal-sync local', () => {
  it('prints the exports, catalogues a dropped file, logs its INSERT, and stops cleanly', async () => {
    const cwd = tempDir('animal-sync-local-');
    const local = await startLocal(cwd);
    try {
      const exports = Object.fromEntries([...local.output().matchAll(/^export (\w+)=(\S+)$/gm)].map((m) => [m[1], m[2]]));
      assert.equal(exports.AWS_ENDPOINT_URL_S3, `http://127.0.0.1:${local.s3Port}`);
      assert.equal(exports.AWS_ENDPOINT_URL_DYNAMODB, `http://127.0.0.1:${local.dynamodbPort}`);
      assert.ok(exports.AWS_ACCESS_KEY_ID && exports.AWS_REGION);
      // The newcomer's step: drop a file into ./inbox/dog.
      mkdirSync(path.join(cwd, 'inbox', 'dog'), { recursive: true });
      const src = path.join(cwd, 'rex-src.png');
      writeFileSync(src, makePng({ seed: 3 }));
      copyFileSync(src, path.join(cwd, 'inbox', 'dog', 'rex.png'));
      const env = { ...process.env, ...exports };
      const listed = await waitFor('the item', async () => {
        const r = await runCli(['list', '--animal', 'dog', '--json'], { env, cwd });
        const items = JSON.parse(r.stdout || '[]') as { image_id: string; source_path: string }[];
        return items.length === 1 ? items[0] : undefined;
      }, 30000);
      assert.equal(listed.source_path, 'dog/rex.png');
      const logFile = path.join(cwd, '.animal-sync', 'local', 'lambda.log');
      const insert = await waitFor('INSERT in lambda.log', () => {
        try {
          return readFileSync(logFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((l) => l.eventName === 'INSERT' && l.image_id === listed.image_id);
        } catch {
          return undefined;
        }
      }, 30000);
      assert.equal(insert.filename, 'rex.png');
      assert.ok(dynamoJvms(local.dynamodbPort).length > 0, 'DynamoDB Local runs while local is up');
    } finally {
      local.child.kill('SIGTERM');
    }
    assert.equal(await local.exited, 0);
    assert.deepEqual(dynamoJvms(local.dynamodbPort), [], 'no DynamoDB Local JVM after SIGTERM');
  });

  // Regression: local built its logger with level info whatever --log-level said.
  it('honours --log-level: at debug it shows DynamoDB Local\'s own lines', async () => {
    const local = await startLocal(tempDir('animal-sync-local-'), ['--no-sync', '--log-level', 'debug']);
    try {
      await waitFor('a DynamoDB Local line at debug', () => local.output().split('\n').some((l) => l.includes('"component":"dynamodb-local"') && l.includes('"level":"debug"')), 10000);
    } finally {
      local.child.kill('SIGTERM');
    }
    assert.equal(await local.exited, 0);
  });

  it('no DynamoDB Local JVM outlives a local that is killed with SIGKILL', async () => {
    const cwd = tempDir('animal-sync-local-');
    const local = await startLocal(cwd);
    assert.ok(dynamoJvms(local.dynamodbPort).length > 0);
    local.child.kill('SIGKILL');
    await local.exited;
    await waitFor('the JVM to be gone', () => dynamoJvms(local.dynamodbPort).length === 0, 10000);
  });

  it('says how to install Java when it is missing', async () => {
    const bin = tempDir('animal-sync-nojava-');
    for (const tool of ['sh', 'readlink', 'dirname', 'find', 'setpriv']) symlinkSync(execFileSync('which', [tool], { encoding: 'utf8' }).trim(), path.join(bin, tool));
    const res = await runCli(['local', '--s3-port', String(await freePort()), '--dynamodb-port', String(await freePort())], { env: { ...process.env, PATH: bin }, cwd: tempDir() });
    assert.equal(res.code, 1);
    assert.match(res.stderr, /Java 17 or newer is needed for DynamoDB Local but `java` was not found on PATH/);
    assert.match(res.stderr, /apt-get install -y openjdk-17-jre-headless/);
  });

  it('keeps its data across a restart (DynamoDB on disk)', async () => {
    const cwd = tempDir('animal-sync-local-');
    let local = await startLocal(cwd);
    const exports = Object.fromEntries([...local.output().matchAll(/^export (\w+)=(\S+)$/gm)].map((m) => [m[1], m[2]]));
    mkdirSync(path.join(cwd, 'inbox', 'cat'), { recursive: true });
    writeFileSync(path.join(cwd, 'inbox', 'cat', 'tom.png'), makePng({ seed: 11 }));
    const env = { ...process.env, ...exports };
    await waitFor('catalogued', async () => JSON.parse((await runCli(['list', '--animal', 'cat', '--json'], { env, cwd })).stdout || '[]').length === 1, 30000);
    local.child.kill('SIGTERM');
    assert.equal(await local.exited, 0);
    local = await startLocal(cwd);
    try {
      const env2 = { ...process.env, ...Object.fromEntries([...local.output().matchAll(/^export (\w+)=(\S+)$/gm)].map((m) => [m[1], m[2]])) };
      const items = JSON.parse((await runCli(['list', '--animal', 'cat', '--json'], { env: env2, cwd })).stdout);
      assert.equal(items.length, 1);
    } finally {
      local.child.kill('SIGTERM');
      await local.exited;
    }
  });
});
