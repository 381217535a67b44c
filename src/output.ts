// What commands print on stdout: JSON with --json, otherwise short readable text.
import type { CatalogueItem } from './model.ts';

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** Shown for an attribute the item does not have (items written by other tools). */
export const MISSING = '–';

const or = (v: string | undefined): string => v ?? MISSING;

export function formatSize(n: number | undefined): string {
  return n === undefined ? MISSING : formatBytes(n);
}

export function formatItem(item: CatalogueItem): string {
  const source = item.source_host !== undefined || item.source_path !== undefined ? `${or(item.source_host)}:${or(item.source_path)}` : MISSING;
  const version = item.version === undefined ? MISSING : `${item.version}${item.updated_at ? ` (updated ${item.updated_at})` : ''}`;
  const rows: [string, string][] = [
    ['animal', or(item.animal)],
    ['image_id', or(item.image_id)],
    ['uploaded_at', or(item.uploaded_at)],
    ['filename', or(item.filename)],
    ['size', item.size_bytes === undefined ? MISSING : `${formatBytes(item.size_bytes)} (${item.size_bytes} bytes)`],
    ['dimensions', item.width !== undefined && item.height !== undefined ? `${item.width}x${item.height}` : MISSING],
    ['sha256', or(item.sha256)],
    ['s3', item.s3_key === undefined ? MISSING : `s3://${or(item.s3_bucket)}/${item.s3_key}`],
    ['source', source],
    ['version', version],
  ];
  return rows.map(([k, v]) => `${k.padEnd(12)} ${v}`).join('\n');
}

export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(headers), ...rows.map(line)].join('\n');
}
