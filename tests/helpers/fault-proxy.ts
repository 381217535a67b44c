// An HTTP fault proxy between the daemon and one store (S3 or DynamoDB). Every request is
// read whole, named (S3 operation from method + query, DynamoDB operation from X-Amz-Target),
// and handed to a `decide` function that says what happens to it: forwarded, answered with
// an error, reset, left hanging, forwarded with its response lost, or held until the test
// lets it go (a held request is forwarded even if its client was killed meanwhile: that is
// a write that lands after a crash).
//
// mockttp works on Node 24 too, but it ties a forwarded request to its client: a request
// whose client died is not sent on, and the listening port cannot be given back and taken
// again. Both are needed here (kill -9 between the write and its response; a store that is
// down at start-up and comes back on the same address).
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ProxiedRequest {
  /** 1, 2, 3... in arrival order. */
  seq: number;
  method: string;
  /** Path and query as sent. */
  url: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  /** `UploadPart`, `PutObject`, `BatchWriteItem`, `PutItem`... */
  op: string;
  body: Buffer;
  /** The DynamoDB request body (JSON), or undefined for S3. */
  json: Record<string, unknown> | undefined;
}

export type Fault =
  /**
   * Pass it on, after `delayMs` if given; `body` replaces the request body, `answer` rewrites
   * the upstream's answer (a partial success such as DynamoDB's UnprocessedItems).
   */
  | { kind: 'forward'; delayMs?: number; body?: Buffer; answer?: (status: number, body: Buffer) => { status: number; body: string } }
  /** Answer without passing it on. */
  | { kind: 'respond'; status: number; headers?: Record<string, string>; body: string }
  /** TCP reset without passing it on. */
  | { kind: 'reset' }
  /** Never answer: the client has to give up (its request timeout). */
  | { kind: 'hang' }
  /** Pass it on (the write is applied), read the whole response, then reset the client's connection. */
  | { kind: 'lose-response' };

export type Decide = (req: ProxiedRequest) => Fault | Promise<Fault>;

export interface ProxyEvent {
  seq: number;
  op: string;
  method: string;
  url: string;
  fault: Fault['kind'];
  /** When the request was read (ms since epoch). */
  at: number;
  /** When the client's connection closed, if it did while the request was open. */
  clientClosedAt?: number;
  /** HTTP status the upstream returned, for forwarded requests. */
  upstreamStatus?: number;
}

export interface FaultProxy {
  url: string;
  port: number;
  /** Every request seen, in order. */
  readonly events: ProxyEvent[];
  /** Replaces the decision function (the default forwards everything). */
  setDecide(decide: Decide): void;
  /** Stops listening and drops every connection: clients now get ECONNREFUSED. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  stop(): Promise<void>;
}

export const forward: Decide = () => ({ kind: 'forward' });

/** The S3 operation a request is, from its method, key and query (path-style addressing). */
export function s3Operation(method: string, path: string, q: URLSearchParams): string {
  const hasKey = path.split('/').filter(Boolean).length > 1;
  if (method === 'PUT' && q.has('partNumber')) return 'UploadPart';
  if (method === 'POST' && q.has('uploads')) return 'CreateMultipartUpload';
  if (method === 'POST' && q.has('uploadId')) return 'CompleteMultipartUpload';
  if (method === 'DELETE' && q.has('uploadId')) return 'AbortMultipartUpload';
  if (method === 'PUT') return hasKey ? 'PutObject' : 'CreateBucket';
  if (method === 'DELETE') return hasKey ? 'DeleteObject' : 'DeleteBucket';
  if (method === 'HEAD') return hasKey ? 'HeadObject' : 'HeadBucket';
  if (method === 'GET') return hasKey ? 'GetObject' : 'ListObjects';
  return method;
}

/** A DynamoDB error answer, as the service sends it (JSON 1.0, `__type` names the error). */
export function dynamoError(type: string, message: string, status = 400): Fault {
  return {
    kind: 'respond',
    status,
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID() },
    body: JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message }),
  };
}

/** An S3 error answer (XML). */
export function s3Error(status: number, code: string, message: string): Fault {
  return {
    kind: 'respond',
    status,
    headers: { 'content-type': 'application/xml', 'x-amz-request-id': randomUUID() },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>fault-proxy</RequestId></Error>`,
  };
}

/**
 * A TCP reset of the client's connection. On a connection already shutting down (its client
 * went away and the server ended its side) a reset fails with EINVAL inside Node and leaves
 * the handle open forever (the process then spins at exit): such a one is just destroyed.
 */
function resetConnection(socket: Socket): void {
  if (socket.destroyed) return;
  if (socket.readableEnded || socket.writableEnded || !socket.writable) socket.destroy();
  else socket.resetAndDestroy();
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function startFaultProxy(target: string, opts: { decide?: Decide; port?: number } = {}): Promise<FaultProxy> {
  const to = new URL(target);
  let decide: Decide = opts.decide ?? forward;
  const events: ProxyEvent[] = [];
  const sockets = new Set<Socket>();
  /** Requests still open on each client connection, to note when their client gave up. */
  const open = new Map<Socket, Set<ProxyEvent>>();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  let seq = 0;

  const send = (p: ProxiedRequest, ev: ProxyEvent, body: Buffer): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const headers = { ...p.headers };
      // The body was read whole: send it with its length (and without waiting for a 100).
      delete headers['transfer-encoding'];
      delete headers.expect;
      headers['content-length'] = String(body.length);
      const up = http.request({ hostname: to.hostname, port: to.port, method: p.method, path: p.url, headers, agent }, (res) => {
        ev.upstreamStatus = res.statusCode;
        readBody(res).then((body) => resolve({ status: res.statusCode ?? 502, headers: res.headers, body }), reject);
      });
      up.on('error', reject);
      up.end(body);
    });

  const server = http.createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const url = req.url ?? '/';
      const parsed = new URL(url, 'http://proxy');
      const target = req.headers['x-amz-target'];
      const op = typeof target === 'string' ? target.split('.').pop()! : s3Operation(req.method ?? 'GET', parsed.pathname, parsed.searchParams);
      let json: Record<string, unknown> | undefined;
      if (typeof target === 'string') {
        try {
          json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
        } catch {
          json = undefined;
        }
      }
      const p: ProxiedRequest = { seq: ++seq, method: req.method ?? 'GET', url, path: parsed.pathname, query: parsed.searchParams, headers: req.headers, op, body, json };
      const ev: ProxyEvent = { seq: p.seq, op, method: p.method, url, fault: 'forward', at: Date.now() };
      events.push(ev);
      const pending = open.get(req.socket);
      pending?.add(ev);
      res.once('finish', () => pending?.delete(ev));
      const fault = await decide(p);
      ev.fault = fault.kind;
      switch (fault.kind) {
        case 'respond':
          res.writeHead(fault.status, { ...fault.headers, 'content-length': Buffer.byteLength(fault.body) });
          res.end(fault.body);
          return;
        case 'reset':
          resetConnection(req.socket);
          return;
        case 'hang':
          return;
        case 'forward':
        case 'lose-response': {
          if (fault.kind === 'forward' && fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
          let answer;
          try {
            answer = await send(p, ev, (fault.kind === 'forward' && fault.body) || p.body);
            if (fault.kind === 'forward' && fault.answer) {
              const changed = fault.answer(answer.status, answer.body);
              const headers = { ...answer.headers };
              delete headers['x-amz-crc32'];
              answer = { status: changed.status, headers, body: Buffer.from(changed.body) };
            }
          } catch {
            // The store itself is unreachable: the client sees a broken connection.
            resetConnection(req.socket);
            return;
          }
          if (fault.kind === 'lose-response' || req.socket.destroyed) {
            resetConnection(req.socket);
            return;
          }
          const headers = { ...answer.headers };
          delete headers['transfer-encoding'];
          headers['content-length'] = String(answer.body.length);
          res.writeHead(answer.status, headers);
          res.end(answer.body);
        }
      }
    })().catch(() => {
      if (!req.socket.destroyed) req.socket.destroy();
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    open.set(s, new Set());
    s.once('close', () => {
      const now = Date.now();
      for (const ev of open.get(s) ?? []) ev.clientClosedAt ??= now;
      open.delete(s);
      sockets.delete(s);
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());

  const listen = (port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });

  const port = await listen(opts.port ?? 0);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    events,
    setDecide: (d) => void (decide = d),
    down: close,
    up: async () => void (await listen(port)),
    async stop() {
      await close();
      agent.destroy();
    },
  };
}

/**
 * A gate a `decide` function can wait on: `wait()` resolves when the test calls `open()`.
 * Used to hold a request (its write not yet made) while the test kills the client.
 */
export class Gate {
  private waiters: (() => void)[] = [];
  private opened = false;
  /** How many requests are held here right now. */
  held = 0;

  async wait(): Promise<void> {
    if (this.opened) return;
    this.held++;
    await new Promise<void>((resolve) => this.waiters.push(resolve));
    this.held--;
  }

  open(): void {
    this.opened = true;
    for (const w of this.waiters.splice(0)) w();
  }
}

/** One fault for the n-th or a later request of an operation (1-based, counted per op); fires once. */
export interface PlannedFault {
  op: string;
  nth: number;
  fault: Fault | ((req: ProxiedRequest) => Fault);
  /** An extra condition (e.g. only part 2 of an upload). */
  when?: (req: ProxiedRequest) => boolean;
  fired?: boolean;
}

/** A decide function that applies each planned fault once, in plan order, and forwards the rest. */
export function faultPlan(plan: PlannedFault[]): Decide {
  const seen = new Map<string, number>();
  return (req) => {
    const n = (seen.get(req.op) ?? 0) + 1;
    seen.set(req.op, n);
    for (const f of plan) {
      if (!f.fired && f.op === req.op && n >= f.nth && (!f.when || f.when(req))) {
        f.fired = true;
        return typeof f.fault === 'function' ? f.fault(req) : f.fault;
      }
    }
    return { kind: 'forward' };
  };
}
