// HTML building blocks. Every value from the catalogue goes through `esc` (text and attribute
// values alike): a file name such as `<img src=x onerror=alert(1)>.png` is shown as text.
import type { StatusStrip } from './status.ts';
import { MISSING, type PictureView } from './view.ts';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

export const orMissing = (v: string): string => (v === '' ? MISSING : v);

export interface LayoutOptions {
  title: string;
  /** What the live script subscribes to: '' = every animal (front page). */
  live?: { animal: string; page: 'front' | 'animal' | 'picture' };
  status: StatusStrip;
  crumbs?: { href: string; text: string }[];
}

export function statusStrip(s: StatusStrip): string {
  return `<div class="status" id="status" data-level="${esc(s.level)}" role="status" aria-live="polite">${esc(s.text)}</div>`;
}

export function layout(o: LayoutOptions, body: string): string {
  const crumbs = (o.crumbs ?? []).map((c) => `<span class="sep">/</span><a href="${esc(c.href)}">${esc(c.text)}</a>`).join('');
  const live = o.live ? ` data-live="${esc(o.live.page)}" data-animal="${esc(o.live.animal)}"` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${esc(o.title)} · animal-sync</title>
<link rel="icon" href="/assets/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/gallery.css">
<script src="/assets/gallery.js" defer></script>
</head>
<body${live}>
<header class="top">
<nav class="crumbs"><a class="brand" href="/"><img src="/assets/icon.svg" alt="" width="22" height="22">animal-sync</a>${crumbs}</nav>
${statusStrip(o.status)}
</header>
<main>
${body}
</main>
</body>
</html>
`;
}

export function card(p: PictureView): string {
  const meta = [p.size, p.dims].filter(Boolean).map(esc).join(' · ');
  return `<li class="card" data-id="${esc(p.id)}" data-sort="${esc(p.sort)}">
<a href="${esc(p.href)}"><img src="${esc(p.thumb)}" alt="${esc(p.name)}" loading="lazy" decoding="async" width="320" height="320"></a>
<div class="caption"><span class="name" title="${esc(p.name)}">${esc(p.name)}</span><span class="meta">${meta || MISSING}</span><time datetime="${esc(p.at)}" title="${esc(p.time)}">${esc(orMissing(p.time.replace(/:\d\d UTC$/, ' UTC')))}</time></div>
</li>`;
}

export function emptyState(animal?: string): string {
  const folder = `inbox/${animal ?? '<animal>'}/`;
  return `<div class="empty" id="empty">
<img class="empty-art" src="/assets/icon.svg" alt="" width="96" height="96">
<h2>No pictures yet</h2>
<p>Drop a PNG into <code>${esc(folder)}</code> and it appears here in a second or two.</p>
<p class="hint">For example <code>mkdir -p inbox/dog &amp;&amp; cp rex.png inbox/dog/</code></p>
</div>`;
}
