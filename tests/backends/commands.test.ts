// list, get, download and delete through the real CLI, the same on every DynamoDB
// implementation in tests/helpers/backends.ts, on items the sync wrote.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { ImageItem } from '../../src/model.ts';
import { describeBackends } from '../helpers/backends.ts';
import { runCli, type CliResult } from '../helpers/cli.ts';
import { tempDir } from '../helpers/stack.ts';
import { setupSync, type SyncSetup } from '../helpers/sync.ts';

const cli = (s: SyncSetup, ...args: string[]): Promise<CliResult> => runCli(args, { env: s.env });

function ok(res: CliResult): string {
  assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
  return res.stdout;
}

describeBackends('list, get, download and delete', (test) => {
  test('list is newest first; get by id, with and without --uploaded-at; download verifies the bytes; delete removes item then object', {}, async (t, stack) => {
    const s = await setupSync(stack);
    const out = tempDir('animal-sync-download-');
    t.after(() => rmSync(out, { recursive: true, force: true }));
    const bytes = s.put('fox/red.png');
    ok(await s.once());
    s.put('fox/arctic.png');
    ok(await s.once());

    const listed = JSON.parse(ok(await cli(s, 'list', '--animal', 'fox', '--json'))) as ImageItem[];
    assert.deepEqual(listed.map((i) => i.filename), ['arctic.png', 'red.png'], 'newest first');
    const red = listed[1]!;

    const byQuery = JSON.parse(ok(await cli(s, 'get', '--animal', 'fox', '--image-id', red.image_id, '--json'))) as ImageItem;
    const byKey = JSON.parse(ok(await cli(s, 'get', '--animal', 'fox', '--image-id', red.image_id, '--uploaded-at', red.uploaded_at, '--json'))) as ImageItem;
    assert.deepEqual(byQuery, red);
    assert.deepEqual(byKey, red);

    const dl = JSON.parse(ok(await cli(s, 'download', '--animal', 'fox', '--image-id', red.image_id, '--out', out, '--json'))) as { file: string; verified: boolean };
    assert.equal(dl.file, path.join(out, 'red.png'));
    assert.ok(readFileSync(dl.file).equals(bytes), 'downloaded bytes are the file');
    assert.equal(createHash('sha256').update(readFileSync(dl.file)).digest('hex'), red.sha256);

    const deleted = JSON.parse(ok(await cli(s, 'delete', '--animal', 'fox', '--image-id', red.image_id, '--json'))) as { deleted: ImageItem };
    assert.equal(deleted.deleted.image_id, red.image_id);
    assert.ok(!(await s.objectKeys()).includes(red.s3_key), 'the object is gone too');
    const gone = await cli(s, 'get', '--animal', 'fox', '--image-id', red.image_id);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, new RegExp(`no image ${red.image_id} for animal fox`));
    assert.deepEqual((JSON.parse(ok(await cli(s, 'list', '--animal', 'fox', '--json'))) as ImageItem[]).map((i) => i.filename), ['arctic.png']);
  });
});
