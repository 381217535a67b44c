// Items written by other tools (the original boto3 scripts) through the real CLI against the
// real local stack: list, get, download and delete show and handle them cleanly.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.ts';
import { putLegacyItem, type LegacyItem } from '../helpers/legacy-items.ts';
import { makePng } from '../helpers/png.ts';
import { startTestStack, tempDir, type TestStack } from '../helpers/stack.ts';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const NOT_SHOWN = /NaN|undefined|\[object Object\]|null/;

describe('items written by the original scripts', () => {
  let stack: TestStack;
  let env: NodeJS.ProcessEnv;
  let legacy: LegacyItem;
  const work = tempDir('animal-sync-foreign-');
  const table = 'Foreign' + Date.now();
  const png = makePng({ seed: 42, padTo: 3000 });

  before(async () => {
    stack = await startTestStack();
    env = stack.childEnv({ ANIMAL_SYNC_BUCKET: stack.bucket, ANIMAL_SYNC_TABLE: table, ANIMAL_SYNC_INBOX: path.join(work, 'inbox'), ANIMAL_SYNC_STATE_DIR: path.join(work, 'state'), ANIMAL_SYNC_HOST_ID: 'here' });
    const init = await runCli(['init'], { env, cwd: work });
    assert.equal(init.code, 0, init.stderr);
    legacy = await putLegacyItem({ ...stack, bucket: stack.bucket, table }, { animal: 'dog', filename: 'rex.png', body: png });
  });
  after(async () => {
    await stack?.stop();
    rmSync(work, { recursive: true, force: true });
  });
  const cli = (...args: string[]) => runCli(args, { env, cwd: work });
  const putItemOnly = async (item: LegacyItem): Promise<void> => {
    const dynamo = new DynamoDBClient({ region: 'us-east-1', endpoint: stack.dynamodbEndpoint });
    try {
      await dynamo.send(new PutItemCommand({ TableName: table, Item: marshall(item) }));
    } finally {
      dynamo.destroy();
    }
  };

  it('the helper writes a microsecond uploaded_at and nothing beyond the nine attributes', () => {
    assert.match(legacy.uploaded_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.deepEqual(Object.keys(legacy).sort(), ['animal', 'content_type', 'filename', 'image_id', 'partition_key', 's3_bucket', 's3_key', 'sort_key', 'uploaded_at']);
  });

  it('list shows the item with its file name and – for what it lacks', async () => {
    const res = await cli('list', '--animal', 'dog');
    assert.equal(res.code, 0, res.stderr);
    assert.doesNotMatch(res.stdout, NOT_SHOWN);
    const row = res.stdout.split('\n').find((l) => l.includes(legacy.image_id))!;
    assert.match(row, /–/);
    assert.match(row, /rex\.png$/);
    assert.match(res.stdout, /FILENAME/);
    const json = JSON.parse((await cli('list', '--animal', 'dog', '--json')).stdout) as unknown[];
    assert.deepEqual(json, [legacy], '--json gives the item as it is');
  });

  it('get by Query and by exact key with the microsecond uploaded_at', async () => {
    for (const args of [[], ['--uploaded-at', legacy.uploaded_at]]) {
      const res = await cli('get', '--animal', 'dog', '--image-id', legacy.image_id, ...args);
      assert.equal(res.code, 0, res.stderr);
      assert.doesNotMatch(res.stdout, NOT_SHOWN);
      assert.match(res.stdout, /^size\s+–$/m);
      assert.match(res.stdout, /^sha256\s+–$/m);
      assert.match(res.stdout, /^dimensions\s+–$/m);
      assert.match(res.stdout, /^source\s+–$/m);
      assert.match(res.stdout, /^version\s+–$/m);
      assert.match(res.stdout, new RegExp(`^uploaded_at\\s+${legacy.uploaded_at.replace(/\./g, '\\.')}$`, 'm'));
      const json = await cli('get', '--animal', 'dog', '--image-id', legacy.image_id, ...args, '--json');
      assert.deepEqual(JSON.parse(json.stdout), legacy);
    }
    const bad = await cli('get', '--animal', 'dog', '--image-id', legacy.image_id, '--uploaded-at', '2026-02-31T16:31:30.970876Z');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /invalid uploaded-at "2026-02-31T16:31:30\.970876Z"/);
  });

  it('download writes it after checking size and MD5, says it is not verified, exits 0', async () => {
    const out = path.join(work, 'dl');
    const res = await cli('download', '--animal', 'dog', '--image-id', legacy.image_id, '--out', out);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /size and MD5 match the object; not verified: the item has no sha256/);
    assert.equal(sha(readFileSync(path.join(out, 'rex.png'))), sha(png));
    const again = await cli('download', '--animal', 'dog', '--image-id', legacy.image_id, '--out', out);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /already there/);
  });

  it('download never overwrites a different file without --overwrite', async () => {
    const out = path.join(work, 'dl-clash');
    const other = makePng({ seed: 99 });
    const target = path.join(out, 'rex.png');
    await cli('download', '--animal', 'dog', '--image-id', legacy.image_id, '--out', out);
    writeFileSync(target, other);
    const refused = await cli('download', '--animal', 'dog', '--image-id', legacy.image_id, '--out', out);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /rex\.png already exists with other content; nothing was written \(pass --overwrite/);
    assert.equal(sha(readFileSync(target)), sha(other));
    const forced = await cli('download', '--animal', 'dog', '--image-id', legacy.image_id, '--out', out, '--overwrite');
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /^replaced /);
    assert.equal(sha(readFileSync(target)), sha(png));
    assert.deepEqual(readdirNoTemps(out), ['rex.png']);
  });

  it('download of an item whose object is gone says so, exits 1 and writes nothing', async () => {
    const item = await putLegacyItem({ ...stack, bucket: stack.bucket, table }, { animal: 'cat', filename: 'tom.png', body: makePng({ seed: 5 }) });
    const ghost = await putLegacyItem({ ...stack, bucket: stack.bucket, table }, { animal: 'cat', filename: 'ghost.png', body: makePng({ seed: 6 }) });
    const del = await runCli(['delete', '--animal', 'cat', '--image-id', ghost.image_id], { env, cwd: work });
    assert.equal(del.code, 0, del.stderr);
    // Put the item back alone: an item pointing at nothing, as a crash of another tool leaves it.
    await putItemOnly(ghost);
    const out = path.join(work, 'dl-cat');
    const res = await cli('download', '--animal', 'cat', '--image-id', ghost.image_id, '--out', out);
    assert.equal(res.code, 1);
    assert.match(res.stderr, new RegExp(`object s3://${stack.bucket}/${ghost.s3_key} is missing`));
    assert.ok(!existsSync(out) || readdirSync(out).length === 0, 'nothing written');
    const ok = await cli('download', '--animal', 'cat', '--image-id', item.image_id, '--out', out);
    assert.equal(ok.code, 0, ok.stderr);
    const del2 = await cli('delete', '--animal', 'cat', '--image-id', ghost.image_id);
    assert.equal(del2.code, 0, `delete of an item whose object is gone works: ${del2.stderr}`);
  });

  it('list without --animal gives the animals and their counts', async () => {
    const res = await cli('list', '--json');
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(JSON.parse(res.stdout), [{ animal: 'cat', items: 1 }, { animal: 'dog', items: 1 }]);
    const text = await cli('list');
    assert.match(text.stdout, /^ANIMAL\s+ITEMS\ncat\s+1\ndog\s+1\n$/);
  });

  it('list --animal pages with --limit and the --cursor it prints; --all lists every one', async () => {
    const owls: LegacyItem[] = [];
    for (let i = 0; i < 5; i++) owls.push(await putLegacyItem({ ...stack, bucket: stack.bucket, table }, { animal: 'owl', filename: `o${i}.png`, body: makePng({ seed: 200 + i }), uploadedAt: `2026-03-0${i + 1}T10:00:00.123456Z` }));
    const newestFirst = owls.map((o) => o.image_id).reverse();
    const seen: string[] = [];
    let args = ['list', '--animal', 'owl', '--limit', '2'];
    for (let pages = 0; pages < 5; pages++) {
      const res = await cli(...args);
      assert.equal(res.code, 0, res.stderr);
      seen.push(...newestFirst.filter((id) => res.stdout.includes(id)));
      const more = /^more: animal-sync (list .*)$/m.exec(res.stdout);
      if (!more) break;
      args = more[1]!.split(' ');
    }
    assert.deepEqual(seen, newestFirst);
    const all = JSON.parse((await cli('list', '--animal', 'owl', '--all', '--json')).stdout) as LegacyItem[];
    assert.deepEqual(all.map((o) => o.image_id), newestFirst);
    const badCursor = await cli('list', '--animal', 'owl', '--cursor', 'nonsense');
    assert.equal(badCursor.code, 2);
    assert.match(badCursor.stderr, /--cursor: "nonsense" is not a cursor printed by `animal-sync list`/);
  });

  it('delete removes the item and its object', async () => {
    const res = await cli('delete', '--animal', 'dog', '--image-id', legacy.image_id);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, new RegExp(`deleted item and s3://${stack.bucket}/${legacy.s3_key}`));
    assert.doesNotMatch(res.stdout, NOT_SHOWN);
    assert.equal((await cli('get', '--animal', 'dog', '--image-id', legacy.image_id)).code, 1);
    const dl = await cli('list', '--json');
    assert.deepEqual(JSON.parse(dl.stdout), [{ animal: 'cat', items: 1 }, { animal: 'owl', items: 5 }], 'the dog folder is gone with its only object');
  });
});

function readdirNoTemps(dir: string): string[] {
  return readdirSync(dir).sort();
}
