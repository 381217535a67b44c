// Gallery benchmark against the real local stack (s3rver + DynamoDB Local):
//   1. a thumbnail of a 64 KiB PNG and of a 256 MiB PNG (noise, so it does not compress): the
//      gallery's own path (GetObject → ThumbnailCache → sharp), each in a fresh process, with
//      its wall time and peak RSS;
//   2. a grid of 200 pictures served by `animal-sync serve`, thumbnails cached: Chromium's time
//      from navigation to all 200 images loaded (fresh page, no browser cache), 5 runs.
// Run: ./node_modules/node/bin/node bench/gallery.ts [--grid-only]   (about 2 minutes; needs /usr/bin/chromium)
import { spawn } from 'node:child_process';
import http from 'node:http';
import { createReadStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { resolveConfig } from '../src/config.ts';
import { makeStores } from '../src/context.ts';
import { Catalogue } from '../src/gallery/catalogue.ts';
import { ThumbnailCache } from '../src/gallery/thumbnails.ts';
import { startLocalStack } from '../src/local/stack.ts';
import { freePort } from '../tests/helpers/stack.ts';
import { launchBrowser } from '../tests/gallery/browser.ts';
import { putPicture } from '../tests/gallery/catalogue.ts';
import { startServe } from '../tests/gallery/processes.ts';

const mib = (n: number): string => (n / 1024 / 1024).toFixed(1);
const { values: opts } = parseArgs({ options: { 'grid-only': { type: 'boolean' }, thumb: { type: 'string' }, 'state-dir': { type: 'string' }, bucket: { type: 'string' }, table: { type: 'string' } } });

/** Child mode: one thumbnail, the way the gallery makes it, and what it cost this process. */
async function oneThumbnail(key: string): Promise<void> {
  const config = resolveConfig({ flags: { bucket: opts.bucket, table: opts.table, stateDir: opts['state-dir'] } });
  const catalogue = new Catalogue(config);
  const cache = new ThumbnailCache(path.join(config.stateDir, 'thumbs'));
  await catalogue.objectEtag(key); // SDK loaded and connected before the clock starts
  const rssBefore = process.memoryUsage().rss;
  const t0 = performance.now();
  const file = await cache.file(`bench-${key}`, () => catalogue.object(key));
  const ms = performance.now() - t0;
  catalogue.close();
  process.stdout.write(JSON.stringify({ ms, rssBeforeKiB: rssBefore / 1024, maxRssKiB: process.resourceUsage().maxRSS, thumbBytes: statSync(file).size }) + '\n');
}

function child(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.resolve(import.meta.dirname, 'gallery.ts'), ...args], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d));
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`thumbnail child exited ${code}`))));
  });
}

async function noisePng(file: string, edge: number): Promise<number> {
  await sharp({ create: { width: edge, height: edge, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 50 } } }).png({ compressionLevel: 1 }).toFile(file);
  return statSync(file).size;
}

async function main(): Promise<void> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'animal-sync-gallery-bench-'));
  const stack = await startLocalStack({ dataDir: root, s3Port: await freePort(), dynamodbPort: await freePort(), bucket: 'bench-gallery', inMemory: true });
  Object.assign(process.env, stack.env);
  const flags = { bucket: 'bench-gallery', table: 'GalleryBench', stateDir: path.join(root, 'state') };
  const config = resolveConfig({ flags, env: process.env });
  const stores = makeStores(config);
  const lines: string[] = [];
  try {
    await stores.items.ensureTable();
    // 1. Thumbnails: a ~64 KiB and a ~256 MiB PNG of noise (3 bytes a pixel after deflate).
    for (const [label, edge] of opts['grid-only'] ? [] : [['64 KiB', 146], ['256 MiB', 9240]] as const) {
      const file = path.join(root, `noise-${edge}.png`);
      const size = await noisePng(file, edge);
      const key = `animals/bench/noise-${edge}.png`;
      await stores.objects.put({ key, body: size > 8 << 20 ? createReadStream(file) : readFileSync(file), contentLength: size });
      rmSync(file, { force: true });
      const r = JSON.parse(await child(['--thumb', key, '--bucket', flags.bucket, '--table', flags.table, '--state-dir', path.join(root, `state-${edge}`)], process.env)) as { ms: number; rssBeforeKiB: number; maxRssKiB: number; thumbBytes: number };
      lines.push(`thumbnail of a ${label} PNG (${edge}×${edge}, ${mib(size)} MiB): ${(r.ms / 1000).toFixed(2)} s, peak RSS ${(r.maxRssKiB / 1024).toFixed(0)} MiB (process before: ${(r.rssBeforeKiB / 1024).toFixed(0)} MiB), thumbnail ${(r.thumbBytes / 1024).toFixed(1)} KiB`);
      process.stdout.write(lines.at(-1) + '\n');
    }

    // 2. A grid of 200 pictures, thumbnails cached on the server, measured in Chromium.
    for (let i = 0; i < 200; i++) await putPicture(stores, 'grid', `picture-${String(i).padStart(3, '0')}.png`);
    const serve = await startServe({ ...process.env, ANIMAL_SYNC_LOG_FORMAT: 'json' }, root, ['--bucket', flags.bucket, '--table', flags.table, '--state-dir', flags.stateDir]);
    const browser = await launchBrowser();
    try {
      const gridUrl = `${serve.url}a/grid?limit=200`;
      const html = await (await fetch(gridUrl)).text();
      const thumbs = [...html.matchAll(/<img src="(\/thumb\/[^"]+)"/g)].map((m) => m[1]!.replace(/&amp;/g, '&'));
      const t0 = performance.now();
      for (let i = 0; i < thumbs.length; i += 8) await Promise.all(thumbs.slice(i, i + 8).map((t) => fetch(serve.url + t.slice(1)).then((r) => r.arrayBuffer())));
      lines.push(`${thumbs.length} thumbnails made on first request (8 at a time): ${((performance.now() - t0) / 1000).toFixed(2)} s`);
      process.stdout.write(lines.at(-1) + '\n');
      // The server's share: the same 200 cached thumbnails over 6 connections, like a browser.
      const agent = new http.Agent({ keepAlive: true, maxSockets: 6 });
      const get = (u: string): Promise<void> => new Promise((resolve, reject) => http.get(u, { agent }, (r) => r.resume().on('end', resolve)).on('error', reject));
      const t2 = performance.now();
      await Promise.all(thumbs.map((t) => get(serve.url + t.slice(1))));
      lines.push(`the same 200 cached thumbnails fetched by Node over 6 keep-alive connections: ${(performance.now() - t2).toFixed(0)} ms`);
      process.stdout.write(lines.at(-1) + '\n');
      agent.destroy();
      const measure = async (label: string, height: number, count: number): Promise<void> => {
        const runs: number[] = [];
        for (let run = 0; run < 5; run++) {
          const w = await browser.open(gridUrl, { width: 1280, height, intercept: false, cache: false });
          // The page's own clock: 0 is the start of the navigation. Lazy images load when in view.
          const loadedAt = await w.page.waitForFunction((n: number) => {
            const imgs = [...(globalThis as unknown as { document: { querySelectorAll(s: string): { complete: boolean; naturalWidth: number }[] } }).document.querySelectorAll('#grid img')];
            return imgs.length === 200 && imgs.slice(0, n).every((i) => i.complete && i.naturalWidth > 0) && performance.now();
          }, { polling: 10, timeout: 30_000 }, count);
          runs.push((await loadedAt.jsonValue()) as number);
          await w.page.close();
        }
        runs.sort((a, b) => a - b);
        lines.push(`grid of 200, thumbnails cached, ${label}: median ${runs[2]!.toFixed(0)} ms (runs ${runs.map((r) => r.toFixed(0)).join(', ')} ms)`);
        process.stdout.write(lines.at(-1) + '\n');
      };
      // 1280×10000 holds all 200 cards (34 rows); 1280×860 is a first screen (the first 18).
      await measure('navigation → all 200 images loaded (1280×10000 viewport)', 10_000, 200);
      await measure('navigation → the first screen\'s 18 images loaded (1280×860)', 860, 18);
    } finally {
      await browser.close();
      await serve.stop();
    }
  } finally {
    stores.close();
    await stack.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

if (opts.thumb) await oneThumbnail(opts.thumb);
else await main();
