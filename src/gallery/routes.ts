// The gallery's routes. Every parameter is validated (params.ts) before it reaches a key.
//   /                       the animals, with counts and newest thumbnails
//   /a/<animal>             its pictures, newest first (?cursor=…&fragment=cards: the next page)
//   /a/<animal>/<id>?at=…   one picture, every attribute
//   /thumb/<animal>/<id>?at=…, /image/<animal>/<id>?at=…[&download=1], /events, /assets/…
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { serveAsset } from './assets.ts';
import { type Catalogue, type CatalogueItem } from './catalogue.ts';
import { HttpError } from './http-error.ts';
import type { LiveFeed } from './live.ts';
import { animalCards, animalPage, cardList, frontPage, picturePage, type AnimalSummary } from './pages.ts';
import { animalParam, imageIdParam, limitParam, uploadedAtParam } from './params.ts';
import type { ImageDelivery } from './server.ts';
import type { StatusStrip } from './status.ts';
import type { ThumbnailCache } from './thumbnails.ts';
import { displayName, pictureView, str } from './view.ts';

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  catalogue: Catalogue;
  thumbnails: ThumbnailCache;
  feed: LiveFeed;
  images: ImageDelivery;
  status: () => StatusStrip;
}

const PAGE_SIZE = 48;
const NEWEST_ON_FRONT = 4;

function sendHtml(res: ServerResponse, html: string): void {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(html) });
  res.end(html);
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  }));
  return out;
}

async function summaries(catalogue: Catalogue): Promise<AnimalSummary[]> {
  const animals = await catalogue.animals();
  const all = await mapLimit(animals, 8, async (animal) => {
    const [count, page] = await Promise.all([catalogue.count(animal), catalogue.page(animal, NEWEST_ON_FRONT)]);
    return { animal, count, newest: page.items.map(pictureView) };
  });
  // An animal whose objects outlived its items (or were written by hand) has nothing to show.
  return all.filter((a) => a.count > 0);
}

async function itemOf(c: RouteContext, animalRaw: string | undefined, idRaw: string | undefined): Promise<CatalogueItem> {
  const animal = animalParam(animalRaw);
  const id = imageIdParam(idRaw);
  const item = await c.catalogue.item(animal, id, uploadedAtParam(c.url.searchParams.get('at')));
  if (!item) throw new HttpError(404, `no picture ${id} of ${animal} at that time: it may have been deleted`);
  return item;
}

/** What a thumbnail's bytes depend on: the sha256, or for items without one the object's ETag. */
async function thumbnailKey(c: RouteContext, item: CatalogueItem): Promise<string> {
  const sha = str(item, 'sha256');
  if (sha && /^[0-9a-f]{64}$/.test(sha)) return `sha256-${sha}`;
  const etag = await c.catalogue.objectEtag(item.s3_key).catch(() => undefined);
  if (!etag) throw new HttpError(404, 'the picture\'s object is missing from the bucket');
  return `id-${item.image_id}-etag-${etag.replace(/[^A-Za-z0-9]/g, '')}`;
}

/**
 * Thumbnail URLs already answered: URL → cache key, for a short while. A grid of 200 then
 * costs no GetItem per thumbnail; the URL carries the content tag, so a changed picture never
 * hits a stale entry, and a deleted one keeps its thumbnail at most this long.
 */
const recentThumbs = new Map<string, { key: string; until: number }>();
const RECENT_MS = 30_000;

async function thumbnailKeyFor(c: RouteContext): Promise<{ key: string; item?: CatalogueItem }> {
  const url = c.url.pathname + c.url.search;
  const hit = recentThumbs.get(url);
  if (hit && hit.until > Date.now()) return { key: hit.key };
  const [, , a, b] = c.url.pathname.split('/');
  const item = await itemOf(c, a, b);
  const key = await thumbnailKey(c, item);
  if (recentThumbs.size >= 10_000) recentThumbs.clear();
  recentThumbs.set(url, { key, until: Date.now() + RECENT_MS });
  return { key, item };
}

async function thumbnail(c: RouteContext): Promise<void> {
  const found = await thumbnailKeyFor(c);
  const key = found.key;
  let item = found.item;
  const etag = `"${key}"`;
  const cacheHeaders = { etag, 'cache-control': 'private, max-age=86400' };
  if (c.req.headers['if-none-match'] === etag) {
    c.res.writeHead(304, cacheHeaders);
    c.res.end();
    return;
  }
  const body = await c.thumbnails.bytes(key, async () => {
    const [, , a, b] = c.url.pathname.split('/');
    item ??= await itemOf(c, a, b);
    return c.catalogue.object(item.s3_key);
  });
  c.res.writeHead(200, { ...cacheHeaders, 'content-type': 'image/webp', 'content-length': body.length });
  c.res.end(c.req.method === 'HEAD' ? undefined : body);
}

/** The full image through this process, for browsers that cannot reach the S3 endpoint. */
async function proxyImage(c: RouteContext, item: CatalogueItem): Promise<void> {
  const abort = new AbortController();
  c.res.on('close', () => abort.abort());
  const obj = await c.catalogue.object(item.s3_key, abort.signal);
  const download = c.url.searchParams.get('download') === '1';
  c.res.writeHead(200, {
    // Never let an object be taken for a page: it is shown as a PNG or saved, nothing else.
    'content-type': str(item, 'content_type') === 'image/png' || !str(item, 'content_type') ? 'image/png' : 'application/octet-stream',
    'content-security-policy': "default-src 'none'; sandbox",
    'cache-control': 'private, max-age=300',
    ...(obj.size !== undefined ? { 'content-length': obj.size } : {}),
    ...(download ? { 'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(displayName(item))}` } : {}),
  });
  if (c.req.method === 'HEAD') {
    obj.body.destroy();
    c.res.end();
  } else {
    await pipeline(obj.body, c.res);
  }
}

async function picture(c: RouteContext, item: CatalogueItem): Promise<void> {
  const proxied = `/image/${item.animal}/${item.image_id}?at=${encodeURIComponent(pictureView(item).at)}`;
  const [newer, older, imageUrl, downloadUrl] = await Promise.all([
    c.catalogue.neighbour(item, 'newer'),
    c.catalogue.neighbour(item, 'older'),
    c.images === 'presigned' ? c.catalogue.presign(item.s3_key) : proxied,
    c.images === 'presigned' ? c.catalogue.presign(item.s3_key, displayName(item)) : `${proxied}&download=1`,
  ]);
  sendHtml(c.res, picturePage({ item, bucket: c.catalogue.bucket, imageUrl, downloadUrl, newer, older, status: c.status(), since: c.feed.position }));
}

export async function routeRequest(c: RouteContext): Promise<void> {
  const parts = c.url.pathname.split('/').slice(1);
  const [first, a, b, ...rest] = parts;
  if (rest.length > 0) throw new HttpError(404, 'not found');
  if (c.url.pathname === '/') {
    const since = c.feed.position;
    const animals = await summaries(c.catalogue);
    if (c.url.searchParams.get('fragment') === 'animals') sendHtml(c.res, animalCards(animals));
    else sendHtml(c.res, frontPage(animals, c.status(), since));
  } else if (first === 'a' && a !== undefined && b === undefined) {
    const animal = animalParam(a);
    const since = c.feed.position;
    const limit = limitParam(c.url.searchParams.get('limit'), PAGE_SIZE, 200);
    const cursor = c.url.searchParams.get('cursor') ?? undefined;
    if (c.url.searchParams.get('fragment') === 'cards') {
      const page = await c.catalogue.page(animal, limit, cursor);
      sendHtml(c.res, cardList(page.items, page.cursor));
    } else {
      const [page, count] = await Promise.all([c.catalogue.page(animal, limit, cursor), c.catalogue.count(animal)]);
      sendHtml(c.res, animalPage(animal, count, page.items, page.cursor, c.status(), since));
    }
  } else if (first === 'a' && b !== undefined) {
    await picture(c, await itemOf(c, a, b));
  } else if (first === 'thumb' && b !== undefined) {
    await thumbnail(c);
  } else if (first === 'image' && b !== undefined) {
    await proxyImage(c, await itemOf(c, a, b));
  } else if (first === 'events' && a === undefined) {
    const animal = c.url.searchParams.get('animal');
    c.feed.attach(c.req, c.res, animal ? animalParam(animal) : '', c.url.searchParams.get('since'));
  } else if (first === 'assets' && a !== undefined && b === undefined) {
    serveAsset(c.req, c.res, a);
  } else if (first === 'favicon.ico' && a === undefined) {
    c.res.writeHead(301, { location: '/assets/icon.svg' });
    c.res.end();
  } else {
    throw new HttpError(404, 'not found: try / for the gallery');
  }
}
