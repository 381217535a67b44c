// The static files the pages use, served from memory with an ETag (revalidated on every load,
// so a new version of the gallery is picked up at once).
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GALLERY_JS } from './client.ts';
import { HttpError } from './http-error.ts';
import { GALLERY_CSS, ICON_SVG } from './styles.ts';

interface Asset {
  type: string;
  body: Buffer;
  etag: string;
}

function asset(type: string, text: string): Asset {
  const body = Buffer.from(text);
  return { type, body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

const ASSETS: Record<string, Asset> = {
  'gallery.js': asset('text/javascript; charset=utf-8', GALLERY_JS),
  'gallery.css': asset('text/css; charset=utf-8', GALLERY_CSS),
  'icon.svg': asset('image/svg+xml', ICON_SVG),
};

export function serveAsset(req: IncomingMessage, res: ServerResponse, name: string): void {
  const a = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
  if (!a) throw new HttpError(404, 'no such asset');
  const headers = { etag: a.etag, 'cache-control': 'no-cache' };
  if (req.headers['if-none-match'] === a.etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  res.writeHead(200, { ...headers, 'content-type': a.type, 'content-length': a.body.length });
  res.end(req.method === 'HEAD' ? undefined : a.body);
}
