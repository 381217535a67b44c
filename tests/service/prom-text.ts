// Reads sample values out of Prometheus text exposition format.

/** The value of the first sample line `name{labels} value` (or `name value`), or undefined. */
export function sample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(name + ' ') || l.startsWith(name + '{'));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}
