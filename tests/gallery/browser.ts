// A real Chromium (Debian's /usr/bin/chromium) driven by puppeteer-core, with a fresh profile in
// a temp folder that is removed on close. Every page records its JS errors, console errors and
// any request that would leave this machine (those are aborted, never sent).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { waitFor } from '../helpers/cli.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface WatchedPage {
  page: Page;
  /** pageerror and console.error messages. */
  errors: string[];
  /** URLs of requests to anything but 127.0.0.1 / localhost. */
  offMachine: string[];
  requests: string[];
}

export interface TestBrowser {
  /** `intercept: false` leaves requests alone (a benchmark: interception costs a round trip each). */
  open(url: string, opts?: { width?: number; height?: number; dark?: boolean; still?: boolean; intercept?: boolean; cache?: boolean }): Promise<WatchedPage>;
  close(): Promise<void>;
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

export async function launchBrowser(): Promise<TestBrowser> {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'animal-sync-chromium-'));
  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      userDataDir: profile,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
    });
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
  return {
    async open(url, opts = {}) {
      const page = await browser.newPage();
      await page.setViewport({ width: opts.width ?? 1280, height: opts.height ?? 860, deviceScaleFactor: 1 });
      await page.emulateMediaFeatures([
        ...(opts.dark !== undefined ? [{ name: 'prefers-color-scheme', value: opts.dark ? 'dark' : 'light' }] : []),
        // A screenshot without the cards' fade-in half done.
        ...(opts.still ? [{ name: 'prefers-reduced-motion', value: 'reduce' }] : []),
      ]);
      const watched: WatchedPage = { page, errors: [], offMachine: [], requests: [] };
      page.on('pageerror', (err) => watched.errors.push(`pageerror: ${(err as Error).message ?? String(err)}`));
      page.on('console', (msg) => {
        if (msg.type() === 'error') watched.errors.push(`console.error: ${msg.text()} (${msg.location().url ?? ''})`);
      });
      await page.setCacheEnabled(opts.cache ?? true);
      await page.setRequestInterception(opts.intercept !== false);
      page.on('request', (req) => {
        if (opts.intercept === false) return;
        const u = new URL(req.url());
        watched.requests.push(req.url());
        if ((u.protocol === 'http:' || u.protocol === 'https:' || u.protocol === 'ws:') && !LOCAL_HOSTS.has(u.hostname.toLowerCase()) && u.hostname !== '[::1]') {
          watched.offMachine.push(req.url());
          void req.abort();
        } else {
          void req.continue();
        }
      });
      await page.goto(url, { waitUntil: 'load' });
      return watched;
    },
    async close() {
      await browser.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** The little of the DOM these helpers touch (the project's tsconfig has no DOM lib). */
interface DomNode {
  textContent: string | null;
  complete?: boolean;
  naturalWidth?: number;
  dataset: Record<string, string | undefined>;
  querySelector(selector: string): DomNode | null;
}
type DomCard = DomNode;

/** The grid's cards as the browser shows them: name text, and whether the thumbnail loaded. */
export function gridCards(page: Page): Promise<{ id: string; name: string; loaded: boolean }[]> {
  return page.$$eval('#grid li.card', (cards) => (cards as unknown as DomCard[]).map((li) => {
    const img = li.querySelector('img');
    return { id: li.dataset.id ?? '', name: li.querySelector('.name')?.textContent ?? '', loaded: !!img && img.complete === true && (img.naturalWidth ?? 0) > 0 };
  }));
}

/** Waits until the page's live script holds an open event stream. */
export async function waitLive(w: WatchedPage): Promise<void> {
  await waitFor('the live connection', () => w.page.$eval('body', (b) => (b as unknown as DomNode).dataset.liveState === 'open'), 10_000);
}
