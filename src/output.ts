// What commands print on stdout: JSON with --json, otherwise short readable text.
import type { ImageItem } from './model.ts';

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

export function formatItem(item: ImageItem): string {
  const rows: [string, string][] = [
    ['animal', item.animal],
    ['image_id', item.image_id],
    ['uploaded_at', item.uploaded_at],
    ['filename', item.filename],
    ['size', `${formatBytes(item.size_bytes)} (${item.size_bytes} bytes)`],
    ['dimensions', `${item.width}x${item.height}`],
    ['sha256', item.sha256],
    ['s3', `s3://${item.s3_bucket}/${item.s3_key}`],
    ['source', `${item.source_host}:${item.source_path}`],
    ['version', `${item.version} (updated ${item.updated_at})`],
  ];
  return rows.map(([k, v]) => `${k.padEnd(12)} ${v}`).join('\n');
}

export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(headers), ...rows.map(line)].join('\n');
}
