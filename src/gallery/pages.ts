// The three pages and the fragments the live script swaps in. The server is the only renderer:
// live events and "more" carry HTML made here, so escaping happens in one place.
import { card, emptyState, esc, layout } from './html.ts';
import type { CatalogueItem } from './catalogue.ts';
import type { StatusStrip } from './status.ts';
import { displayName, MISSING, pictureHref, pictureView, uploadedAtOf, type PictureView } from './view.ts';

export interface AnimalSummary {
  animal: string;
  count: number;
  newest: PictureView[];
}

const plural = (n: number, one: string): string => `${n} ${one}${n === 1 ? '' : 's'}`;

export function animalCards(animals: AnimalSummary[]): string {
  if (animals.length === 0) return emptyState();
  return `<ul class="animals">${animals.map((a) => {
    const tiles = a.newest.map((p) => `<img src="${esc(p.thumb)}" alt="" loading="lazy" decoding="async" width="180" height="180">`);
    while (tiles.length < 4) tiles.push('<span class="tile-empty"></span>');
    return `<li class="animal" data-animal="${esc(a.animal)}"><a href="/a/${esc(a.animal)}">
<div class="mosaic">${tiles.join('')}</div>
<div class="caption"><span class="name">${esc(a.animal)}</span><span class="meta">${esc(plural(a.count, 'picture'))}</span></div>
</a></li>`;
  }).join('\n')}</ul>`;
}

export function frontPage(animals: AnimalSummary[], status: StatusStrip, since: string): string {
  const total = animals.reduce((n, a) => n + a.count, 0);
  const sub = animals.length ? `${plural(animals.length, 'animal')} · ${plural(total, 'picture')}` : 'an empty catalogue';
  return layout({ title: 'Gallery', status, live: { animal: '', page: 'front' } },
    `<div class="heading"><h1>Your animals</h1><p class="sub">${esc(sub)}</p></div>
<section id="animals" data-since="${esc(since)}">${animalCards(animals)}</section>`);
}

export function cardList(items: CatalogueItem[], cursor: string | undefined): string {
  return `<ul class="grid" id="grid" data-cursor="${esc(cursor ?? '')}">${items.map((i) => card(pictureView(i))).join('\n')}</ul>`;
}

export function animalPage(animal: string, count: number, items: CatalogueItem[], cursor: string | undefined, status: StatusStrip, since: string): string {
  return layout({ title: animal, status, live: { animal, page: 'animal' }, crumbs: [{ href: `/a/${animal}`, text: animal }] },
    `<div class="heading"><h1>${esc(animal)}</h1><p class="sub"><span id="count" data-n="${count}">${esc(plural(count, 'picture'))}</span> · newest first</p></div>
<section id="pictures" data-since="${esc(since)}">
${items.length === 0 ? emptyState(animal) : ''}
${cardList(items, cursor)}
<div class="more-row"><button type="button" id="more" class="button"${cursor ? '' : ' hidden'}>Load more</button></div>
</section>`);
}

/** Known attributes first, in the design's order; anything else the item holds after them. */
const ATTRIBUTE_ORDER = ['animal', 'image_id', 'filename', 'uploaded_at', 'size_bytes', 'width', 'height', 'content_type', 'sha256', 's3_bucket', 's3_key', 'source_host', 'source_path', 'version', 'updated_at', 'partition_key', 'sort_key'];

function attributeValue(v: unknown): string {
  if (v === undefined || v === null || v === '') return MISSING;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v instanceof Set) return JSON.stringify([...v]);
  if (v instanceof Uint8Array) return `(${v.byteLength} bytes of binary)`;
  return JSON.stringify(v);
}

export interface PicturePageInput {
  item: CatalogueItem;
  bucket: string;
  imageUrl: string;
  downloadUrl: string;
  newer: CatalogueItem | null;
  older: CatalogueItem | null;
  status: StatusStrip;
  since: string;
}

function neighbourLink(item: CatalogueItem | null, rel: 'prev' | 'next', label: string): string {
  if (!item) return `<span class="button disabled" aria-disabled="true">${label}</span>`;
  return `<a class="button" id="${rel}" rel="${rel}" href="${esc(pictureHref(item.animal, item.image_id, uploadedAtOf(item)))}" title="${esc(displayName(item))}">${label}</a>`;
}

export function picturePage(p: PicturePageInput): string {
  const view = pictureView(p.item);
  const names = [...ATTRIBUTE_ORDER.filter((k) => k in p.item || ['size_bytes', 'width', 'height', 'sha256', 'version', 'updated_at', 'source_host', 'source_path'].includes(k)),
    ...Object.keys(p.item).filter((k) => !ATTRIBUTE_ORDER.includes(k)).sort()];
  const rows = names.map((k) => `<tr><th scope="row">${esc(k)}</th><td>${esc(attributeValue(p.item[k]))}</td></tr>`).join('\n');
  const s3Uri = `s3://${p.bucket}/${p.item.s3_key}`;
  return layout({ title: view.name, status: p.status, live: { animal: view.animal, page: 'picture' }, crumbs: [{ href: `/a/${view.animal}`, text: view.animal }, { href: view.href, text: view.name }] },
    `<article class="picture" id="picture" data-id="${esc(view.id)}" data-since="${esc(p.since)}">
<div class="stage"><a href="${esc(p.imageUrl)}"><img id="full" src="${esc(p.imageUrl)}" alt="${esc(view.name)}"></a></div>
<div class="details">
<h1 class="title">${esc(view.name)}</h1>
<p class="sub">${esc([view.size, view.dims, view.time].filter(Boolean).join(' · ') || MISSING)}</p>
<p class="gone" id="gone" hidden>This picture was deleted from the catalogue.</p>
<div class="actions">${neighbourLink(p.newer, 'prev', '← Newer')}<a class="button primary" id="download" href="${esc(p.downloadUrl)}" download="${esc(view.name)}">Download</a>${neighbourLink(p.older, 'next', 'Older →')}</div>
<p class="keys">Keys: <kbd>←</kbd> newer · <kbd>→</kbd> older · <kbd>Esc</kbd> back to ${esc(view.animal)}</p>
<p class="uri"><span>S3 URI</span> <code id="s3uri">${esc(s3Uri)}</code></p>
<table class="attrs"><tbody>
${rows}
</tbody></table>
</div>
</article>`);
}
