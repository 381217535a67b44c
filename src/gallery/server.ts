// The gallery's HTTP server (node:http): read-only (GET and HEAD, 405 otherwise), a strict
// Content-Security-Policy (no inline script, nothing from another origin but the S3 endpoint
// for presigned images), a Host check against DNS rebinding on loopback, and short 4xx/5xx
// messages (the details go to the log, never to the browser).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import { parseListenAddress, reachableHost } from '../service/health.ts';
import type { Catalogue } from './catalogue.ts';
import { routeRequest, type RouteContext } from './routes.ts';
import { HttpError } from './http-error.ts';
import { LiveFeed } from './live.ts';
import type { StatusSource, StatusStrip } from './status.ts';
import { ThumbnailCache } from './thumbnails.ts';

export type ImageDelivery = 'presigned' | 'proxied';

export interface GalleryOptions {
  catalogue: Catalogue;
  /** "host:port"; port 0 = any free port. */
  address: string;
  thumbnailDir: string;
  status: StatusSource;
  log: Logger;
  images: ImageDelivery;
  /** The S3 endpoint's origin, allowed for images when they are presigned. */
  s3Origin?: string;
  /** How often the status strip is refreshed; default 2000. */
  statusEveryMs?: number;
}

export interface Gallery {
  url: string;
  feed: LiveFeed;
  stop(): Promise<void>;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}

function securityHeaders(s3Origin: string | undefined): Record<string, string> {
  const img = ["'self'", ...(s3Origin ? [s3Origin] : [])].join(' ');
  return {
    'content-security-policy': `default-src 'none'; script-src 'self'; style-src 'self'; img-src ${img}; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'x-frame-options': 'DENY',
  };
}

/** A catalogue failure as the browser sees it: what is wrong, in one line, no stack. */
function describeFailure(err: unknown): { status: number; message: string } {
  if (err instanceof HttpError) return { status: err.status, message: err.message };
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  if (e?.name === 'ResourceNotFoundException') return { status: 503, message: 'the table does not exist: run `animal-sync init`' };
  if (e?.name === 'NoSuchBucket') return { status: 503, message: 'the bucket does not exist: run `animal-sync init`' };
  if (e?.code === 'ECONNREFUSED' || e?.name === 'TimeoutError' || e?.code === 'ECONNRESET') return { status: 503, message: 'the catalogue does not answer; try again in a moment' };
  return { status: 500, message: 'internal error (the server log has the details)' };
}

export async function startGallery(o: GalleryOptions): Promise<Gallery> {
  const { host, port } = parseListenAddress(o.address);
  const feed = new LiveFeed();
  let status: StatusStrip = { level: 'off', text: 'status: starting' };
  const refreshStatus = async (): Promise<void> => {
    try {
      status = await o.status();
    } catch (err) {
      status = { level: 'error', text: `status unavailable: ${errorMessage(err)}` };
    }
    feed.setStatus(status);
  };
  await refreshStatus();
  const statusTimer = setInterval(() => void refreshStatus(), o.statusEveryMs ?? 2000);
  statusTimer.unref();

  const headers = securityHeaders(o.images === 'presigned' ? o.s3Origin : undefined);
  const ctx: Omit<RouteContext, 'req' | 'res' | 'url'> = {
    catalogue: o.catalogue, thumbnails: new ThumbnailCache(o.thumbnailDir), feed, images: o.images, status: () => status,
  };
  let allowedHosts: Set<string> | null = null;

  const server = http.createServer((req, res) => {
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    const fail = (status: number, message: string, extra: Record<string, string> = {}): void => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...extra });
      res.end(`${message}\n`);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      fail(405, 'method not allowed: the gallery is read-only (GET and HEAD only)', { allow: 'GET, HEAD' });
      return;
    }
    if (allowedHosts && !allowedHosts.has((req.headers.host ?? '').toLowerCase())) {
      fail(403, 'unexpected Host header: open the gallery by the address it printed');
      return;
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://gallery.invalid');
    } catch {
      fail(400, 'bad request URL');
      return;
    }
    routeRequest({ ...ctx, req, res, url }).catch((err: unknown) => {
      const f = describeFailure(err);
      if (f.status >= 500) o.log.warn({ err: errorMessage(err), name: (err as Error)?.name, path: url.pathname }, 'gallery request failed');
      fail(f.status, f.message, err instanceof HttpError ? err.headers : {});
    });
  });
  server.requestTimeout = 60_000;
  server.headersTimeout = 10_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(new Error(`gallery cannot listen on ${o.address}: ${err.code ?? err.message}${err.code === 'EADDRINUSE' ? ' (another process uses that port; pick another with --address / --gallery-port)' : ''}`));
    });
    server.listen(port, host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  const shown = reachableHost(bound.address);
  const url = `http://${shown.includes(':') ? `[${shown}]` : shown}:${bound.port}/`;
  if (isLoopback(bound.address)) {
    allowedHosts = new Set(['127.0.0.1', 'localhost', '[::1]', bound.address.includes(':') ? `[${bound.address}]` : bound.address].map((h) => `${h}:${bound.port}`));
  } else {
    o.log.warn({ address: o.address }, `gallery listens on ${o.address}, not only on this machine: anyone who can reach it can see every picture (it has no login)`);
  }
  o.log.info({ url, images: o.images }, 'gallery listening');
  return {
    url,
    feed,
    stop: () =>
      new Promise<void>((done) => {
        clearInterval(statusTimer);
        feed.close();
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}
