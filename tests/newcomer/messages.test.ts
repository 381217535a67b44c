// The messages a newcomer meets first: SDK errors that say what to do, argument errors that
// name the right flag, one rule for file names, and a second upload of the same bytes.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { explainAwsError } from '../../src/aws-errors.ts';
import { nearest } from '../../src/cli-checks.ts';
import { runCli } from '../helpers/cli.ts';
import { makePng } from '../helpers/png.ts';
import { freePort, startTestStack, tempDir, type TestStack } from '../helpers/stack.ts';

const work = tempDir('animal-sync-test-');
after(() => rmSync(work, { recursive: true, force: true }));

/** An environment with nothing of AWS in it but what a test gives. */
function bareEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: path.join(work, 'home'), AWS_EC2_METADATA_DISABLED: 'true', ANIMAL_SYNC_STATE_DIR: path.join(work, 'state') };
  return { ...env, ...extra };
}

describe('SDK errors say what they mean and what to do', () => {
  it('nothing listening at the DynamoDB endpoint: names it and says to start `local` and paste the exports', async () => {
    const port = await freePort();
    const res = await runCli(['list', '--animal', 'dog'], { env: bareEnv({ AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y', AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${port}`, ANIMAL_SYNC_MAX_ATTEMPTS: '1' }), cwd: work });
    assert.equal(res.code, 1);
    assert.match(res.stderr, new RegExp(`nothing answers at http://127\\.0\\.0\\.1:${port} \\(DynamoDB\\): is \`animal-sync local\``));
    assert.match(res.stderr, /paste the `export` lines/);
    assert.doesNotMatch(res.stderr, /ECONNREFUSED/);
  });

  it('no region: names AWS_REGION and the README section', async () => {
    const res = await runCli(['list', '--animal', 'dog'], { env: bareEnv({ AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y' }), cwd: work });
    assert.equal(res.code, 1);
    assert.match(res.stderr, /no AWS region is set: export AWS_REGION=/);
    assert.match(res.stderr, /AWS_PROFILE/);
    assert.match(res.stderr, /"Pointing it at real AWS"/);
  });

  it('no credentials: names the variables, the profile and the README section', async () => {
    const res = await runCli(['list', '--animal', 'dog'], { env: bareEnv({ AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${await freePort()}` }), cwd: work });
    assert.equal(res.code, 1);
    assert.match(res.stderr, /no AWS credentials were found: export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE/);
    assert.match(res.stderr, /"Pointing it at real AWS"/);
  });

  it('leaves other errors alone', () => {
    assert.equal(explainAwsError(new Error('AccessDenied')), undefined);
    assert.equal(explainAwsError('not an error'), undefined);
  });
});

describe('argument messages', () => {
  const cli = (...args: string[]) => runCli(args, { env: bareEnv({}), cwd: work });

  it('quotes the text given to a number flag', async () => {
    const res = await cli('list', '--animal', 'cat', '--limit', 'abc');
    assert.equal(res.code, 2);
    assert.match(res.stderr, /--limit: expected a number, got "abc"/);
  });

  it('reports a misspelt flag before the required one it hides, with a suggestion', async () => {
    const res = await cli('list', '--animl', 'dog');
    assert.equal(res.code, 2);
    assert.match(res.stderr, /unknown option --animl \(did you mean --animal\?\)/);
    assert.doesNotMatch(res.stderr, /Missing required argument/);
    const two = await cli('sync', '--once', '--dry-rn', '--limt', '3');
    assert.equal(two.code, 2);
    assert.match(two.stderr, /unknown options --dry-rn \(did you mean --dry-run\?\), --limt/);
  });

  it('suggests only near names', () => {
    assert.equal(nearest('animl', ['animal', 'inbox']), 'animal');
    assert.equal(nearest('zzzzzz', ['animal', 'inbox']), undefined);
  });
});

describe('upload: one name rule, and a second upload of the same bytes', () => {
  let stack: TestStack;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    stack = await startTestStack();
    env = stack.childEnv({ ANIMAL_SYNC_BUCKET: stack.bucket, ANIMAL_SYNC_TABLE: 'Newcomer' + Date.now(), ANIMAL_SYNC_INBOX: path.join(work, 'inbox'), ANIMAL_SYNC_STATE_DIR: path.join(work, 'state') });
    assert.equal((await runCli(['init'], { env, cwd: work })).code, 0);
  });
  after(async () => stack?.stop());
  const cli = (...args: string[]) => runCli(args, { env, cwd: work });

  it('refuses a PNG named .jpg with the reason the daemon gives for the same file', async () => {
    const file = path.join(work, 'rex.jpg');
    writeFileSync(file, makePng({ seed: 1 }));
    const res = await cli('upload', '--file', file, '--animal', 'dog');
    assert.equal(res.code, 2);
    assert.match(res.stderr, /rex\.jpg: not a \.png file name/);
    assert.equal(JSON.parse((await cli('list', '--animal', 'dog', '--json')).stdout).length, 0, 'nothing was written');
  });

  it('warns and shows the existing image instead of a second item; --force uploads anyway', async () => {
    const a = path.join(work, 'fido.png');
    const b = path.join(work, 'fido-copy.png');
    const bytes = makePng({ seed: 2 });
    writeFileSync(a, bytes);
    writeFileSync(b, bytes);
    const first = await cli('upload', '--file', a, '--animal', 'dog', '--json');
    assert.equal(first.code, 0, first.stderr);
    const original = JSON.parse(first.stdout) as { image_id: string };
    const again = await cli('upload', '--file', b, '--animal', 'dog');
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, new RegExp(`dog already has these bytes as image ${original.image_id} \\(fido\\.png, uploaded .*\\); nothing uploaded\\. Use --force`));
    assert.match(again.stdout, new RegExp(original.image_id));
    assert.equal(JSON.parse((await cli('list', '--animal', 'dog', '--json')).stdout).length, 1);
    const forced = await cli('upload', '--file', b, '--animal', 'dog', '--force');
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(JSON.parse((await cli('list', '--animal', 'dog', '--json')).stdout).length, 2);
  });
});
