// The gallery of a running `animal-sync local`, in a real Chromium: pictures dropped into the
// inbox show up as loaded images with their names, live (fed by the stream runner) while the
// page is open, deletes disappear, hostile names stay text, no JS error, nothing off the machine.
// UPDATE_SCREENSHOT=1 writes the README's docs/gallery.png; otherwise the screenshot goes to a
// temp file (CI never dirties the checkout).
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT, waitFor } from '../helpers/cli.ts';
import { tempDir } from '../helpers/stack.ts';
import { gridCards, launchBrowser, waitLive, type TestBrowser, type WatchedPage } from './browser.ts';
import { picturePng } from './pictures.ts';
import { startLocal, type RunningCli } from './processes.ts';

const DOGS = ['rex.png', 'bella at the beach.png', 'max.png', 'luna & daisy.png', 'charlie-2026.png', 'cooper.png', 'sleepy.png'];
// A file name cannot hold "/", so no closing tags; an element opened by it would still show.
const HOSTILE = '"><img src=x onerror="document.title=\'pwned\'"><b>bold & <i>.png';

describe('the gallery of animal-sync local', () => {
  let cwd: string;
  let local: RunningCli;
  let browser: TestBrowser;
  let seed = 1;
  const drop = async (animal: string, name: string): Promise<void> => {
    mkdirSync(path.join(cwd, 'inbox', animal), { recursive: true });
    writeFileSync(path.join(cwd, 'inbox', animal, name), await picturePng(seed++));
  };
  const settled = (w: WatchedPage, n: number) => waitFor(`${n} loaded cards`, async () => {
    const cards = await gridCards(w.page);
    return cards.length === n && cards.every((c) => c.loaded) ? cards : undefined;
  }, 30_000);

  before(async () => {
    cwd = tempDir('animal-sync-gallery-');
    local = await startLocal(cwd);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    if (local) assert.equal(await local.stop(), 0, 'local stops cleanly with its gallery');
    rmSync(cwd, { recursive: true, force: true });
  });

  it('prints the gallery beside the endpoints, and shows the empty state first', async () => {
    assert.match(local.output(), /^ {2}gallery +http:\/\/127\.0\.0\.1:\d+\/ /m);
    const w = await browser.open(local.url);
    assert.match(await w.page.$eval('#empty', (e) => e.textContent ?? ''), /Drop a PNG into inbox\/<animal>\//);
    assert.deepEqual(w.errors, []);
    await w.page.close();
  });

  it('dropped pictures appear as loaded images with their names; one dropped while the page is open appears, a deleted one disappears, without a reload', async () => {
    for (const name of DOGS.slice(0, 4)) await drop('dog', name);
    const w = await browser.open(`${local.url}a/dog`);
    // The page may open before all four are catalogued; the live feed brings the rest.
    const cards = await settled(w, 4);
    assert.deepEqual(new Set(cards.map((c) => c.name)), new Set(DOGS.slice(0, 4)));
    await w.page.evaluate(() => ((globalThis as unknown as { notReloaded: boolean }).notReloaded = true));
    await waitLive(w);

    // Files dropped together upload concurrently, so their uploaded_at order is not their drop
    // order: the last one is dropped only once the others are in the grid.
    for (const name of DOGS.slice(4, -1)) await drop('dog', name);
    await settled(w, DOGS.length - 1);
    await drop('dog', DOGS.at(-1)!);
    const grown = await settled(w, DOGS.length);
    assert.equal(grown[0]!.name, DOGS.at(-1), 'the newest first');
    unlinkSync(path.join(cwd, 'inbox', 'dog', 'max.png'));
    await waitFor('max.png gone', async () => !(await gridCards(w.page)).some((c) => c.name === 'max.png'), 20_000);
    assert.equal(await w.page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded), true, 'never reloaded');
    assert.equal(await w.page.$eval('#count', (c) => c.textContent), `${DOGS.length - 1} pictures`);
    await waitFor('the status strip', async () => /\d+ synced · 0 pending · 0 failed/.test(await w.page.$eval('#status', (s) => s.textContent ?? '')), 10_000);
    assert.deepEqual(w.errors, []);
    assert.deepEqual(w.offMachine, []);
    await w.page.close();
  });

  it('shows a hostile name as text, also when it arrives live', async () => {
    const w = await browser.open(`${local.url}a/cat`);
    await waitLive(w);
    await drop('cat', HOSTILE);
    const [card] = await settled(w, 1);
    assert.equal(card!.name, HOSTILE);
    assert.equal(await w.page.$('#grid b, #grid i, img[src="x"]'), null, 'no element injected');
    assert.notEqual(await w.page.title(), 'pwned');
    await w.page.reload();
    await settled(w, 1);
    assert.equal(await w.page.$('#grid b, #grid i, img[src="x"]'), null);
    assert.deepEqual(w.errors, []);
    await w.page.close();
  });

  it('front page: the animals with counts and thumbnails; a screenshot for the README', async () => {
    const front = await browser.open(local.url);
    await waitLive(front);
    await drop('fox', 'vixen.png');
    await drop('fox', 'red.png');
    const counts = await waitFor('fox on the front page, live', async () => {
      const c = await front.page.$$eval('.animal', (els) => els.map((e) => `${e.querySelector('.name')?.textContent} ${e.querySelector('.meta')?.textContent}`));
      return c.includes('fox 2 pictures') ? c : undefined;
    }, 20_000);
    assert.deepEqual(counts, ['cat 1 picture', 'dog 6 pictures', 'fox 2 pictures']);
    assert.deepEqual(front.errors, []);
    assert.deepEqual(front.offMachine, []);
    await front.page.close();

    const shot = process.env.UPDATE_SCREENSHOT === '1' ? path.join(ROOT, 'docs', 'gallery.png') : path.join(os.tmpdir(), `animal-sync-gallery-${process.pid}.png`);
    const more = ['biscuit.png', 'pepper.png', 'ziggy.png', 'nala in the snow.png', 'scout.png', 'teddy.png'];
    for (const name of more) await drop('dog', name);
    const w = await browser.open(`${local.url}a/dog`, { width: 1200, height: 720, still: true });
    await settled(w, DOGS.length - 1 + more.length);
    mkdirSync(path.dirname(shot), { recursive: true });
    await w.page.screenshot({ path: shot });
    assert.ok(statSync(shot).size > 10_000);
    if (process.env.UPDATE_SCREENSHOT !== '1') rmSync(shot, { force: true });
    await w.page.close();
  });
});
