// Where the live feed learns of changes. In `local`: the stream runner's records, the same
// ones the Lambda handler gets. Elsewhere (`serve`, no stream runner in the process): polling
// each animal's newest items (one Query with Limit per animal per interval) and the animal
// list (one ListObjectsV2); a change older than that window shows on the next page load.
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import { isItem, type Catalogue, type CatalogueItem } from './catalogue.ts';
import type { ChangeType, LiveFeed } from './live.ts';

function image(raw: unknown): CatalogueItem | null {
  if (!raw) return null;
  try {
    const item = unmarshall(raw as Record<string, AttributeValue>);
    return isItem(item) ? item : null;
  } catch {
    return null;
  }
}

/** The stream runner's onRecords hook: never throws, whatever a record holds. */
export function streamRecordsToFeed(feed: LiveFeed, log: Logger): (records: readonly DynamoDBRecord[]) => void {
  return (records) => {
    for (const r of records) {
      try {
        const type: ChangeType | undefined = r.eventName === 'INSERT' ? 'insert' : r.eventName === 'MODIFY' ? 'modify' : r.eventName === 'REMOVE' ? 'remove' : undefined;
        const item = image(type === 'remove' ? r.dynamodb?.OldImage : r.dynamodb?.NewImage);
        if (type && item) feed.change(type, item);
      } catch (err) {
        log.warn({ err: errorMessage(err), eventID: r.eventID }, 'gallery: a stream record could not be shown live');
      }
    }
  };
}

interface Window {
  items: Map<string, CatalogueItem>;
  full: boolean;
}

/** Pure: what changed between two polls of an animal's newest `limit` items. */
export function diffWindows(before: Window, after: Window): { type: ChangeType; item: CatalogueItem }[] {
  const out: { type: ChangeType; item: CatalogueItem }[] = [];
  let oldestNow: string | undefined;
  for (const item of after.items.values()) if (oldestNow === undefined || item.sort_key < oldestNow) oldestNow = item.sort_key;
  for (const [id, item] of after.items) {
    const was = before.items.get(id);
    if (!was) out.push({ type: 'insert', item });
    else if (was.version !== item.version || was.sha256 !== item.sha256) out.push({ type: 'modify', item });
  }
  for (const [id, item] of before.items) {
    // Gone from a full window only counts when it should still be inside it (not pushed out).
    const shouldBeThere = !after.full || (oldestNow !== undefined && item.sort_key >= oldestNow);
    if (!after.items.has(id) && shouldBeThere) out.push({ type: 'remove', item });
  }
  return out;
}

export interface Poller {
  stop(): void;
}

export function pollCatalogue(catalogue: Catalogue, feed: LiveFeed, log: Logger, opts: { intervalMs?: number; window?: number; animalsEveryMs?: number } = {}): Poller {
  const intervalMs = opts.intervalMs ?? 1000;
  const limit = opts.window ?? 50;
  const animalsEveryMs = opts.animalsEveryMs ?? 5000;
  const windows = new Map<string, Window>();
  let animals: string[] = [];
  let animalsAt = 0;
  let first = true;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let failing = false;

  async function pollOnce(): Promise<void> {
    if (Date.now() - animalsAt >= animalsEveryMs) {
      animals = await catalogue.animals();
      animalsAt = Date.now();
    }
    await Promise.all(animals.map(async (animal) => {
      const page = await catalogue.page(animal, limit);
      const now: Window = { items: new Map(page.items.map((i) => [i.image_id, i])), full: page.cursor !== undefined };
      const before = windows.get(animal);
      windows.set(animal, now);
      // The first poll is the baseline; an animal that appears later is all news.
      if (!before && first) return;
      for (const c of diffWindows(before ?? { items: new Map(), full: false }, now)) feed.change(c.type, c.item);
    }));
    first = false;
  }

  const loop = (): void => {
    void pollOnce().then(
      () => {
        if (failing) log.info('gallery: the catalogue answers again');
        failing = false;
      },
      (err: unknown) => {
        if (!failing) log.warn({ err: errorMessage(err) }, 'gallery: polling the catalogue failed; trying again');
        failing = true;
      },
    ).finally(() => {
      if (!stopped) timer = setTimeout(loop, intervalMs);
    });
  };
  loop();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
