// The catalogue commands end to end: the real CLI against the real local stack.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeS3Client } from '../../src/stores/aws.ts';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { ImageItem } from '../../src/model.ts';
import { runCli } from '../helpers/cli.ts';
import { makePng } from '../helpers/png.ts';
import { startTestStack, tempDir, type TestStack } from '../helpers/stack.ts';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('catalogue commands', () => {
  let stack: TestStack;
  let env: NodeJS.ProcessEnv;
  const work = tempDir();
  const table = 'Cmds' + Date.now();

  before(async () => {
    stack = await startTestStack();
    env = stack.childEnv({ ANIMAL_SYNC_BUCKET: stack.bucket, ANIMAL_SYNC_TABLE: table, ANIMAL_SYNC_INBOX: path.join(work, 'inbox'), ANIMAL_SYNC_STATE_DIR: path.join(work, 'state'), ANIMAL_SYNC_PART_SIZE_MIB: '5' });
  });
  after(async () => stack?.stop());

  const cli = (...args: string[]) => runCli(args, { env, cwd: work });
  const objectKeys = async (): Promise<string[]> => {
    const s3 = makeS3Client({ requestTimeoutMs: 5000, connectTimeoutMs: 2000, maxAttempts: 1, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', concurrency: 1, region: 'us-east-1' });
    const res = await s3.send(new ListObjectsV2Command({ Bucket: stack.bucket, Prefix: 'animals/' }));
    s3.destroy();
    return (res.Contents ?? []).map((o) => o.Key!);
  };

  it('init creates the table and the inbox marker, and is harmless twice', async () => {
    const first = await cli('init', '--json');
    assert.equal(first.code, 0, first.stderr);
    const r1 = JSON.parse(first.stdout);
    assert.equal(r1.table.status, 'created');
    assert.equal(r1.inbox.marker, 'created');
    assert.ok(existsSync(path.join(work, 'inbox', '.animal-sync-inbox')));
    const second = await cli('init', '--json');
    assert.equal(second.code, 0, second.stderr);
    const r2 = JSON.parse(second.stdout);
    assert.equal(r2.table.status, 'exists');
    assert.equal(r2.bucket.status, 'exists');
    assert.equal(r2.inbox.marker, 'exists');
  });

  let uploaded: ImageItem;
  const png = makePng({ width: 64, height: 48, seed: 7 });

  it('upload writes the object and an item with the data model\'s attributes', async () => {
    const file = path.join(work, 'rex.png');
    writeFileSync(file, png);
    const res = await cli('upload', '--file', file, '--animal', 'dog', '--json');
    assert.equal(res.code, 0, res.stderr);
    const { parts, ...item } = JSON.parse(res.stdout) as ImageItem & { parts: number };
    assert.equal(parts, 1);
    uploaded = item;
    assert.equal(uploaded.partition_key, 'ANIMAL#dog');
    assert.equal(uploaded.sort_key, `IMG#${uploaded.uploaded_at}#${uploaded.image_id}`);
    assert.equal(uploaded.s3_key, `animals/dog/${uploaded.uploaded_at.slice(0, 10)}/${uploaded.image_id}-rex.png`);
    assert.equal(uploaded.size_bytes, png.length);
    assert.equal(uploaded.sha256, sha(png));
    assert.equal(uploaded.width, 64);
    assert.equal(uploaded.height, 48);
    assert.equal(uploaded.content_type, 'image/png');
    assert.equal(uploaded.version, 1);
    assert.equal(uploaded.s3_bucket, stack.bucket);
    assert.ok((await objectKeys()).includes(uploaded.s3_key));
  });

  it('list is newest first and shows the columns', async () => {
    const file = path.join(work, 'fido.png');
    writeFileSync(file, makePng({ seed: 8 }));
    const second = JSON.parse((await cli('upload', '--file', file, '--animal', 'dog', '--json')).stdout) as ImageItem;
    const list = await cli('list', '--animal', 'dog', '--json');
    assert.equal(list.code, 0, list.stderr);
    const items = JSON.parse(list.stdout) as ImageItem[];
    assert.deepEqual(items.map((i) => i.image_id), [second.image_id, uploaded.image_id]);
    const limited = JSON.parse((await cli('list', '--animal', 'dog', '--limit', '1', '--json')).stdout) as ImageItem[];
    assert.deepEqual(limited.map((i) => i.image_id), [second.image_id]);
    const text = await cli('list', '--animal', 'dog');
    assert.match(text.stdout, /ANIMAL\s+IMAGE_ID\s+UPLOADED_AT\s+SIZE\s+S3_KEY/);
    assert.match(text.stdout, new RegExp(uploaded.image_id));
    const empty = await cli('list', '--animal', 'unicorn');
    assert.equal(empty.code, 0);
    assert.match(empty.stdout, /no images for animal unicorn/);
  });

  it('get finds an item by exact key (GetItem) and within the partition (Query)', async () => {
    const exact = await cli('get', '--animal', 'dog', '--image-id', uploaded.image_id, '--uploaded-at', uploaded.uploaded_at, '--json');
    assert.equal(exact.code, 0, exact.stderr);
    assert.deepEqual(JSON.parse(exact.stdout), uploaded);
    const byQuery = await cli('get', '--animal', 'dog', '--image-id', uploaded.image_id, '--json');
    assert.deepEqual(JSON.parse(byQuery.stdout), uploaded);
  });

  it('get of a missing image says so and exits 1', async () => {
    const res = await cli('get', '--animal', 'dog', '--image-id', '00000000-0000-4000-8000-000000000000');
    assert.equal(res.code, 1);
    assert.match(res.stderr, /no image 00000000-0000-4000-8000-000000000000 for animal dog/);
    const wrongTime = await cli('get', '--animal', 'dog', '--image-id', uploaded.image_id, '--uploaded-at', '2001-01-01T00:00:00.000Z');
    assert.equal(wrongTime.code, 1);
  });

  it('download is byte-identical and verified', async () => {
    const out = path.join(work, 'out');
    const res = await cli('download', '--animal', 'dog', '--image-id', uploaded.image_id, '--out', out);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /verified/);
    assert.equal(sha(readFileSync(path.join(out, 'rex.png'))), sha(png));
  });

  it('a file above the part size goes up in two or more parts and comes back intact', async () => {
    const big = makePng({ seed: 9, padTo: 11 * 1024 * 1024 });
    const file = path.join(work, 'big.png');
    writeFileSync(file, big);
    const res = await cli('upload', '--file', file, '--animal', 'whale', '--json');
    assert.equal(res.code, 0, res.stderr);
    const item = JSON.parse(res.stdout) as ImageItem & { parts: number };
    assert.ok(item.parts >= 3, `expected >= 3 parts of 5 MiB, got ${item.parts}`);
    const out = path.join(work, 'out-big');
    const dl = await cli('download', '--animal', 'whale', '--image-id', item.image_id, '--out', out);
    assert.equal(dl.code, 0, dl.stderr);
    assert.equal(sha(readFileSync(path.join(out, 'big.png'))), sha(big));
  });

  it('delete removes the item, then the object', async () => {
    const res = await cli('delete', '--animal', 'dog', '--image-id', uploaded.image_id, '--json');
    assert.equal(res.code, 0, res.stderr);
    assert.equal(JSON.parse(res.stdout).deleted.image_id, uploaded.image_id);
    assert.ok(!(await objectKeys()).includes(uploaded.s3_key));
    const again = await cli('get', '--animal', 'dog', '--image-id', uploaded.image_id);
    assert.equal(again.code, 1);
  });

  describe('bad input: a clear message, a non-zero exit, nothing written', () => {
    const cases: [string, () => string[], RegExp][] = [
      ['a bad animal name', () => ['upload', '--file', path.join(work, 'rex.png'), '--animal', 'Dog!'], /invalid animal "Dog!": an animal name is 1 to 64 characters/],
      ['a too long animal name', () => ['list', '--animal', 'a'.repeat(65)], /an animal name is 1 to 64 characters/],
      ['a missing file', () => ['upload', '--file', path.join(work, 'nope.png'), '--animal', 'dog'], /cannot read --file .*nope\.png: no such file/],
      ['a JPEG named .png', () => { writeFileSync(path.join(work, 'j.png'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 74, 70, 73, 70, 0])); return ['upload', '--file', path.join(work, 'j.png'), '--animal', 'dog']; }, /not a PNG: it is a JPEG/],
      ['a text file named .png', () => { writeFileSync(path.join(work, 't.png'), 'just text\n'); return ['upload', '--file', path.join(work, 't.png'), '--animal', 'dog']; }, /not a PNG: it looks like text/],
      ['a zero-byte file', () => { writeFileSync(path.join(work, 'z.png'), ''); return ['upload', '--file', path.join(work, 'z.png'), '--animal', 'dog']; }, /empty \(0 bytes\)/],
      ['a truncated PNG', () => { writeFileSync(path.join(work, 'cut.png'), png.subarray(0, png.length - 30)); return ['upload', '--file', path.join(work, 'cut.png'), '--animal', 'dog']; }, /truncated/],
      ['an invalid config value', () => ['sync', '--once', '--concurrency', '-3'], /concurrency: expected an integer between 1 and 256, got "-3"/],
      ['an unknown key in the config file', () => { writeFileSync(path.join(work, 'bad.json'), '{"tabel": "x"}'); return ['list', '--animal', 'dog', '--config', path.join(work, 'bad.json')]; }, /tabel: unknown setting/],
      ['a bad image id', () => ['get', '--animal', 'dog', '--image-id', 'xyz'], /invalid image id "xyz"/],
    ];
    for (const [name, args, message] of cases) {
      it(name, async () => {
        const before = await objectKeys();
        const res = await cli(...args());
        assert.equal(res.code, 2, `exit code for ${name}: ${res.stderr}`);
        assert.match(res.stderr, message);
        assert.deepEqual(await objectKeys(), before);
      });
    }
  });

  it('an unreachable endpoint fails within the timeout instead of hanging', async () => {
    // A server that accepts connections and never answers.
    const hung = net.createServer(() => undefined);
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', () => r()));
    const port = (hung.address() as net.AddressInfo).port;
    try {
      const res = await runCli(['list', '--animal', 'dog', '--request-timeout-ms', '1000', '--max-attempts', '1'], {
        env: { ...env, AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${port}` },
        cwd: work,
        timeoutMs: 20000,
      });
      assert.equal(res.code, 1);
      assert.match(res.stderr, /timeout|timed out/i);
      assert.ok(res.ms < 10000, `took ${res.ms} ms`);
    } finally {
      hung.close();
    }
  });

  it('every command has --help', async () => {
    for (const c of ['local', 'sync', 'init', 'upload', 'list', 'get', 'download', 'delete']) {
      const res = await cli(c, '--help');
      assert.equal(res.code, 0, c);
      assert.match(res.stdout, new RegExp(`animal-sync ${c}`));
    }
  });
});
