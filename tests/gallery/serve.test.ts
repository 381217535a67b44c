// `animal-sync serve` against an existing catalogue (no daemon, no stream runner): plain HTTP
// (read-only, validation, CSP, thumbnail caching) and a real Chromium (the grid, items of the
// original scripts, live updates by polling, a restart of the server, the picture page).
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Stores } from '../../src/context.ts';
import { keyOf, type ImageItem } from '../../src/model.ts';
import { waitFor } from '../helpers/cli.ts';
import { startTestStack, tempDir, type TestStack } from '../helpers/stack.ts';
import { gridCards, launchBrowser, waitLive, type TestBrowser } from './browser.ts';
import { putLegacyPicture, putPicture } from './catalogue.ts';
import { startServe, type RunningCli } from './processes.ts';

const HOSTILE = '<img src=x onerror="document.title=\'pwned\'">&amp; "quoted".png';

function rawGet(url: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('animal-sync serve', () => {
  let stack: TestStack;
  let stores: Stores;
  let serve: RunningCli;
  let browser: TestBrowser;
  let env: NodeJS.ProcessEnv;
  let args: string[];
  const owl: ImageItem[] = [];
  let legacy: Record<string, string>;
  const dirs: string[] = [];

  before(async () => {
    stack = await startTestStack();
    const config = stack.config({ bucket: 'g-' + randomBytes(4).toString('hex') });
    dirs.push(path.dirname(config.inbox));
    stores = await stack.stores(config);
    await stores.objects.ensureBucket();
    for (const name of ['first.png', 'second.png', HOSTILE]) owl.push(await putPicture(stores, 'owl', name));
    legacy = await putLegacyPicture(stores, 'owl', 'from-boto3.png');
    await putPicture(stores, 'cat', 'tom.png');
    env = stack.childEnv();
    args = ['--bucket', config.bucket, '--table', config.table, '--state-dir', config.stateDir, '--images', 'proxied'];
    const cwd = tempDir('animal-sync-serve-');
    dirs.push(cwd);
    serve = await startServe(env, cwd, args);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await serve?.stop();
    await stack?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const thumbOf = (i: { animal: string; image_id: string; uploaded_at: string }): string => `${serve.url}thumb/${i.animal}/${i.image_id}?at=${encodeURIComponent(i.uploaded_at)}`;

  it('is read-only: anything but GET and HEAD gets 405 with Allow', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const r = await rawGet(`${serve.url}a/owl`, { method });
      assert.equal(r.status, 405, method);
      assert.equal(r.headers.allow, 'GET, HEAD');
    }
    const head = await rawGet(serve.url, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
  });

  it('answers bad names, ids and traversal with a short 4xx and no stack trace', async () => {
    const cases: [string, number][] = [
      ['a/..%2F..%2Fetc%2Fpasswd', 400], ['a/Owl', 400], ['a/owl/not-a-uuid?at=2026-01-01T00:00:00.000Z', 400],
      [`a/owl/${owl[0]!.image_id}`, 400], [`a/owl/${owl[0]!.image_id}?at=yesterday`, 400],
      [`a/owl/${randomUUID()}?at=2026-01-01T00:00:00.000Z`, 404], [`thumb/owl/${owl[0]!.image_id}%2F..?at=${owl[0]!.uploaded_at}`, 400],
      ['assets/..%2F..%2Fpackage.json', 404], ['a/owl?cursor=not-a-cursor&fragment=cards', 400], ['a/owl?limit=100000', 400],
      ['events?animal=..', 400], ['nothing-here', 404],
    ];
    for (const [p, status] of cases) {
      const r = await rawGet(serve.url + p);
      assert.equal(r.status, status, `${p}: ${r.body}`);
      assert.ok(r.body.length < 300 && !/\n\s+at /.test(r.body), `${p}: short message without a stack: ${r.body}`);
    }
  });

  it('sends a CSP without inline script, and refuses a foreign Host header', async () => {
    const r = await rawGet(serve.url);
    const csp = String(r.headers['content-security-policy']);
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.match(csp, /default-src 'none'/);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    const rebound = await rawGet(serve.url, { headers: { host: 'attacker.example:80' } });
    assert.equal(rebound.status, 403);
  });

  it('serves thumbnails with an ETag and answers a matching If-None-Match with 304', async () => {
    for (const item of [owl[0]!, legacy as unknown as ImageItem]) {
      const first = await fetch(thumbOf(item));
      assert.equal(first.status, 200);
      assert.equal(first.headers.get('content-type'), 'image/webp');
      const bytes = Buffer.from(await first.arrayBuffer());
      assert.equal(bytes.subarray(8, 12).toString('latin1'), 'WEBP');
      const etag = first.headers.get('etag');
      assert.ok(etag && /max-age=\d+/.test(first.headers.get('cache-control') ?? ''));
      const again = await fetch(thumbOf(item), { headers: { 'if-none-match': etag } });
      assert.equal(again.status, 304);
    }
  });

  it('shows the catalogue in Chromium: every name as text, items of the original scripts cleanly, no JS error, nothing off the machine', async () => {
    const front = await browser.open(serve.url);
    const animals = await front.page.$$eval('.animal .name', (els) => els.map((e) => e.textContent));
    assert.deepEqual(animals, ['cat', 'owl']);
    const w = await browser.open(`${serve.url}a/owl`);
    await waitFor('all thumbnails loaded', async () => {
      const cards = await gridCards(w.page);
      return cards.length === 4 && cards.every((c) => c.loaded);
    }, 30_000);
    const cards = await gridCards(w.page);
    assert.deepEqual(cards.map((c) => c.name), ['from-boto3.png', HOSTILE, 'second.png', 'first.png']);
    // The hostile name is text: no element came out of it, and its handler never ran.
    assert.equal(await w.page.$$eval('#grid img', (els) => els.length), 4);
    assert.equal(await w.page.$('img[src="x"]'), null);
    assert.notEqual(await w.page.title(), 'pwned');
    const text = await w.page.$eval('main', (m) => m.textContent ?? '');
    assert.doesNotMatch(text, /NaN|undefined|null/);
    const legacyCard = await w.page.$eval(`li[data-id="${legacy.image_id}"] .caption`, (c) => c.textContent ?? '');
    assert.match(legacyCard, /–/);
    assert.match(legacyCard, /2026-03-01 \d\d:\d\d UTC/);
    assert.deepEqual([...front.errors, ...w.errors], []);
    assert.deepEqual([...front.offMachine, ...w.offMachine], []);
    assert.ok(w.requests.every((u) => u.startsWith(serve.url)), 'every request went to the gallery itself (proxied images)');
    await front.page.close();
    await w.page.close();
  });

  it('picture page: full image, every attribute, download, S3 URI, keyboard navigation', async () => {
    const middle = owl[1]!;
    const p = await browser.open(`${serve.url}a/owl/${middle.image_id}?at=${encodeURIComponent(middle.uploaded_at)}`);
    await waitFor('the full image', () => p.page.$eval('#full', (img) => (img as unknown as { naturalWidth: number }).naturalWidth > 0), 20_000);
    assert.equal(await p.page.$eval('#s3uri', (e) => e.textContent), `s3://${middle.s3_bucket}/${middle.s3_key}`);
    const attrs = await p.page.$$eval('.attrs th', (ths) => ths.map((t) => t.textContent));
    for (const k of Object.keys(middle)) assert.ok(attrs.includes(k), `attribute ${k} shown`);
    const download = await p.page.$eval('#download', (a) => a.getAttribute('href') ?? '');
    const file = await fetch(new URL(download, serve.url));
    assert.match(file.headers.get('content-disposition') ?? '', /^attachment; filename\*=UTF-8''second\.png$/);
    assert.equal(Number(file.headers.get('content-length')), middle.size_bytes);
    await Promise.all([p.page.waitForNavigation(), p.page.keyboard.press('ArrowRight')]);
    assert.match(p.page.url(), new RegExp(owl[0]!.image_id));
    await Promise.all([p.page.waitForNavigation(), p.page.keyboard.press('ArrowLeft')]);
    assert.match(p.page.url(), new RegExp(middle.image_id));
    assert.deepEqual(p.errors, []);
    await p.page.close();
  });

  it('live by polling: a new item appears and a deleted one disappears without a reload; a restart of the server resumes without duplicates', async () => {
    const w = await browser.open(`${serve.url}a/owl`);
    await w.page.evaluate(() => ((globalThis as unknown as { notReloaded: boolean }).notReloaded = true));
    await waitLive(w);
    const added = await putPicture(stores, 'owl', 'arrived-live.png');
    await waitFor('the new card', async () => (await gridCards(w.page)).some((c) => c.id === added.image_id && c.loaded), 15_000);
    await stores.items.delete(keyOf(owl[0]!));
    await waitFor('the deleted card gone', async () => !(await gridCards(w.page)).some((c) => c.id === owl[0]!.image_id), 15_000);
    assert.deepEqual(w.errors, []);

    const port = new URL(serve.url).port;
    await serve.stop();
    serve = await startServe(env, dirs[1]!, args, Number(port));
    const afterRestart = await putPicture(stores, 'owl', 'after-restart.png');
    await waitFor('the card added after the restart', async () => (await gridCards(w.page)).some((c) => c.id === afterRestart.image_id), 20_000);
    const ids = (await gridCards(w.page)).map((c) => c.id);
    assert.equal(new Set(ids).size, ids.length, 'no card twice');
    assert.equal(ids.length, 5);
    assert.equal(await w.page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded), true, 'the page was never reloaded');
    assert.equal(await w.page.$eval('#count', (c) => c.textContent), '5 pictures');
    await w.page.close();
  });
});
