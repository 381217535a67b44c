// Pleasant, distinct PNGs for the gallery's tests and screenshot: gradients with a few soft
// shapes, drawn from an SVG by sharp (librsvg), so no picture files live in the repository.
import sharp from 'sharp';

const PALETTES = [
  ['#f6d365', '#fda085'], ['#a1c4fd', '#c2e9fb'], ['#84fab0', '#8fd3f4'], ['#fccb90', '#d57eeb'],
  ['#e0c3fc', '#8ec5fc'], ['#f093fb', '#f5576c'], ['#4facfe', '#00f2fe'], ['#43e97b', '#38f9d7'],
  ['#fa709a', '#fee140'], ['#30cfd0', '#330867'], ['#a8edea', '#fed6e3'], ['#ff9a9e', '#fecfef'],
];

export function picturePng(seed: number, width = 640, height = 480): Promise<Buffer> {
  const [a, b] = PALETTES[seed % PALETTES.length]!;
  let s = (seed * 2654435761) >>> 0;
  const rnd = (): number => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const blobs = Array.from({ length: 5 }, () =>
    `<circle cx="${(rnd() * width).toFixed(0)}" cy="${(rnd() * height).toFixed(0)}" r="${(40 + rnd() * width * 0.3).toFixed(0)}" fill="#fff" fill-opacity="${(0.12 + rnd() * 0.25).toFixed(2)}"/>`).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="${a}"/><stop offset="1" stop-color="${b}"/></linearGradient></defs>
<rect width="100%" height="100%" fill="url(#g)"/>${blobs}</svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}
