// Server-Sent Events: catalogue changes (insert, modify, remove) and the status strip, pushed
// to every open page. Event ids are "<boot>.<n>": a reconnect within the same server process
// replays what it missed from a ring of recent events; a reconnect to a restarted server (or
// one that missed more than the ring holds) gets a "resync", and the page merges a fresh first
// page by image_id, so nothing shows twice and nothing deleted stays.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CatalogueItem } from './catalogue.ts';
import type { StatusStrip } from './status.ts';
import { card } from './html.ts';
import { pictureView } from './view.ts';

export type ChangeType = 'insert' | 'modify' | 'remove';

interface Sent {
  n: number;
  /** '' for events every page wants (status). */
  animal: string;
  frame: string;
}

interface Client {
  res: ServerResponse;
  animal: string;
}

const RING = 2000;
const HEARTBEAT_MS = 15_000;

export class LiveFeed {
  readonly bootId = randomBytes(4).toString('hex');
  private n = 0;
  private readonly ring: Sent[] = [];
  private readonly clients = new Set<Client>();
  private status: StatusStrip | undefined;
  private readonly heartbeat: NodeJS.Timeout;

  constructor() {
    this.heartbeat = setInterval(() => this.broadcast(': ping\n\n', ''), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** The position a page rendered now is current up to: its live script resumes from here. */
  get position(): string {
    return `${this.bootId}.${this.n}`;
  }

  change(type: ChangeType, item: CatalogueItem): void {
    const v = pictureView(item);
    this.push(item.animal, type, JSON.stringify({ id: v.id, animal: v.animal, sort: v.sort, ...(type === 'remove' ? {} : { html: card(v) }) }));
  }

  setStatus(status: StatusStrip): void {
    if (this.status?.text === status.text && this.status.level === status.level) return;
    this.status = status;
    this.push('', 'status', JSON.stringify(status));
  }

  private push(animal: string, type: string, data: string): void {
    const n = ++this.n;
    const frame = `id: ${this.bootId}.${n}\nevent: ${type}\ndata: ${data}\n\n`;
    this.ring.push({ n, animal, frame });
    if (this.ring.length > RING) this.ring.shift();
    this.broadcast(frame, animal);
  }

  private broadcast(frame: string, animal: string): void {
    for (const c of this.clients) if (animal === '' || c.animal === '' || c.animal === animal) c.res.write(frame);
  }

  /** Serves GET /events?animal=A&since=ID (the Last-Event-ID header wins over `since`). */
  attach(req: IncomingMessage, res: ServerResponse, animal: string, since: string | null): void {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    res.write('retry: 1000\n\n');
    const last = (req.headers['last-event-id'] as string | undefined) ?? since ?? undefined;
    const m = last === undefined ? null : /^([0-9a-f]{8})\.(\d{1,15})$/.exec(last);
    const oldest = this.ring[0]?.n ?? this.n + 1;
    if (m && m[1] === this.bootId && Number(m[2]) >= oldest - 1 && Number(m[2]) <= this.n) {
      for (const e of this.ring) if (e.n > Number(m[2]) && (e.animal === '' || animal === '' || e.animal === animal)) res.write(e.frame);
    } else if (last !== undefined) {
      res.write(`id: ${this.position}\nevent: resync\ndata: {}\n\n`);
    }
    if (this.status) res.write(`event: status\ndata: ${JSON.stringify(this.status)}\n\n`);
    const client: Client = { res, animal };
    this.clients.add(client);
    const drop = (): void => void this.clients.delete(client);
    req.on('close', drop);
    res.on('error', drop);
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const c of this.clients) c.res.end();
    this.clients.clear();
  }
}
