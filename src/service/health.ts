// The daemon's HTTP side door: GET /healthz (200 healthy, 503 with the failing checks'
// reasons) and GET /metrics (Prometheus text). Meant for localhost or a private network:
// it serves no secrets, but it has no authentication either.
import type { AddressInfo } from 'node:net';
import { ConfigError, errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { ItemStore } from '../stores/dynamodb.ts';
import type { ObjectStore } from '../stores/s3.ts';
import type { SyncMetrics } from './metrics.ts';
import { http } from '../node-http.ts';

export interface HealthCheck {
  ok: boolean;
  detail?: string;
}

export interface HealthReport {
  ok: boolean;
  checks: Record<string, HealthCheck>;
  stats?: Record<string, unknown>;
}

/**
 * A check that both stores answer: a HEAD of an object and a GetItem of an item that need not
 * exist (a miss is an answer). The result is kept `cacheMs`, so a scraper polling /healthz
 * often does not turn into a stream of AWS requests.
 */
export function storeProbe(stores: { objects: Pick<ObjectStore, 'head'>; items: Pick<ItemStore, 'get'> }, opts: { cacheMs?: number; now?: () => number } = {}): () => Promise<HealthCheck> {
  const cacheMs = opts.cacheMs ?? 5000;
  const now = opts.now ?? Date.now;
  let last: { at: number; check: HealthCheck } | undefined;
  return async () => {
    const at = now();
    if (last && at - last.at < cacheMs) return last.check;
    let check: HealthCheck;
    try {
      await Promise.all([stores.objects.head('animals/.health-probe'), stores.items.get({ partition_key: 'ANIMAL#.health', sort_key: 'IMG#probe' })]);
      check = { ok: true };
    } catch (err) {
      check = { ok: false, detail: `store unreachable: ${errorMessage(err)}` };
    }
    last = { at, check };
    return check;
  };
}

export interface HealthServerOptions {
  /** "host:port" ("[::1]:port" for IPv6); port 0 = any free port. */
  address: string;
  metrics: SyncMetrics;
  health: () => Promise<HealthReport>;
  log?: Logger;
  /** A health function slower than this answers 503 (a probe must never hang). */
  healthTimeoutMs?: number;
}

export interface HealthServer {
  url: string;
  stop(): Promise<void>;
}

export function parseListenAddress(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(address.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    throw new ConfigError(`healthAddress: expected host:port (e.g. 127.0.0.1:9464, [::1]:9464), got ${JSON.stringify(address)}`);
  }
  return { host: (m[1] ?? m[2])!, port };
}

/** The address a client on this machine uses to reach a server listening on `host`. */
export function reachableHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

async function runHealth(health: () => Promise<HealthReport>, timeoutMs: number): Promise<HealthReport> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<HealthReport>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, checks: { health: { ok: false, detail: `health check did not answer within ${timeoutMs} ms` } } }), timeoutMs);
  });
  try {
    return await Promise.race([
      health().catch((err: unknown): HealthReport => ({ ok: false, checks: { health: { ok: false, detail: `health check failed: ${errorMessage(err)}` } } })),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export function startHealthServer(opts: HealthServerOptions): Promise<HealthServer> {
  const { host, port } = parseListenAddress(opts.address);
  const timeoutMs = opts.healthTimeoutMs ?? 5000;

  const server = http.createServer((req, res) => {
    const pathname = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string): void => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    void (async () => {
      if (req.method === 'GET' && pathname === '/healthz') {
        const report = await runHealth(opts.health, timeoutMs);
        if (!report.ok) {
          const failing = Object.entries(report.checks).filter(([, c]) => !c.ok).map(([name, c]) => `${name}: ${c.detail ?? 'failed'}`);
          opts.log?.debug({ failing }, 'health check answered 503');
        }
        send(report.ok ? 200 : 503, 'application/json; charset=utf-8', JSON.stringify(report) + '\n');
      } else if (req.method === 'GET' && pathname === '/metrics') {
        send(200, opts.metrics.registry.contentType, await opts.metrics.registry.metrics());
      } else {
        send(404, 'text/plain; charset=utf-8', 'not found: try GET /healthz or GET /metrics\n');
      }
    })().catch((err: unknown) => {
      opts.log?.warn({ err: errorMessage(err), path: pathname }, 'health server request failed');
      if (!res.headersSent) send(500, 'text/plain; charset=utf-8', `internal error: ${errorMessage(err)}\n`);
      else res.destroy();
    });
  });
  // A scraper that opens a connection and never speaks must not pin a socket forever.
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;

  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(new Error(`health server cannot listen on ${opts.address}: ${err.code ?? err.message}${err.code === 'EADDRINUSE' ? ' (another process uses that port; change healthAddress)' : ''}`));
    });
    server.listen(port, host, () => {
      const bound = server.address() as AddressInfo;
      const url = `http://${hostForUrl(reachableHost(bound.address))}:${bound.port}`;
      opts.log?.info({ url }, 'health server listening: /healthz, /metrics');
      resolve({
        url,
        stop: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
