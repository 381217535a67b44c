// The gallery's look, served as /assets/gallery.css: system fonts (nothing fetched from
// outside), light and dark from prefers-color-scheme, a grid that reflows down to phone width.
export const GALLERY_CSS = `
:root {
  --bg: #f6f5f2; --panel: #ffffff; --ink: #1d1d1f; --muted: #6b6b70; --line: #e4e2dd;
  --accent: #d9622b; --accent-ink: #ffffff; --ok: #2f8f5b; --busy: #b7791f; --bad: #c23b3b;
  --shadow: 0 1px 2px rgb(0 0 0 / 6%), 0 4px 14px rgb(0 0 0 / 6%);
  --radius: 14px;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #141416; --panel: #1e1e22; --ink: #ececef; --muted: #9a9aa3; --line: #2d2d33;
    --accent: #f08a4b; --accent-ink: #1a1a1a; --shadow: 0 1px 2px rgb(0 0 0 / 40%), 0 6px 18px rgb(0 0 0 / 35%);
  }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: var(--bg); color: var(--ink);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif;
}
a { color: inherit; }
code, kbd { font-family: ui-monospace, "SFMono-Regular", Menlo, "DejaVu Sans Mono", monospace; font-size: 0.88em; }
.top {
  position: sticky; top: 0; z-index: 2; display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center;
  justify-content: space-between; padding: 12px clamp(14px, 4vw, 40px);
  background: color-mix(in srgb, var(--bg) 86%, transparent); backdrop-filter: blur(10px);
  border-bottom: 1px solid var(--line);
}
.crumbs { display: flex; align-items: center; gap: 8px; min-width: 0; font-weight: 600; }
.crumbs a { text-decoration: none; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; max-width: 40vw; }
.crumbs a:hover { color: var(--accent); }
.crumbs .sep { color: var(--muted); font-weight: 400; }
.brand { display: inline-flex; align-items: center; gap: 8px; }
.status {
  display: inline-flex; align-items: center; gap: 8px; font-size: 13px; color: var(--muted);
  padding: 4px 12px; border: 1px solid var(--line); border-radius: 999px; background: var(--panel);
}
.status::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: var(--muted); flex: none; }
.status[data-level="ok"]::before { background: var(--ok); }
.status[data-level="busy"]::before { background: var(--busy); }
.status[data-level="error"]::before { background: var(--bad); }
main { padding: 8px clamp(14px, 4vw, 40px) 48px; max-width: 1600px; margin: 0 auto; }
.heading { display: flex; align-items: baseline; flex-wrap: wrap; gap: 4px 14px; margin: 18px 0 18px; }
h1 { margin: 0; font-size: clamp(22px, 3vw, 30px); letter-spacing: -0.01em; overflow-wrap: anywhere; }
.sub { margin: 0; color: var(--muted); }
.grid, .animals { list-style: none; margin: 0; padding: 0; display: grid; gap: 16px; }
.grid { grid-template-columns: repeat(auto-fill, minmax(168px, 1fr)); }
.animals { grid-template-columns: repeat(auto-fill, minmax(230px, 1fr)); gap: 20px; }
.card, .animal {
  background: var(--panel); border-radius: var(--radius); box-shadow: var(--shadow); overflow: hidden;
  transition: transform .15s ease;
}
/* Only cards that arrive live fade in: 200 animations at first paint would cost the first view. */
.card.arrived { animation: appear .35s ease both; }
.card:hover, .animal:hover { transform: translateY(-2px); }
.animal a { text-decoration: none; display: block; }
@keyframes appear { from { opacity: 0; transform: scale(.97); } to { opacity: 1; transform: none; } }
@media (prefers-reduced-motion: reduce) { .card, .animal { animation: none; transition: none; } }
.card img { display: block; width: 100%; height: auto; aspect-ratio: 1; object-fit: cover; background: var(--line); }
.caption { display: grid; gap: 1px; padding: 9px 12px 11px; font-size: 13px; }
.caption .name { font-weight: 600; font-size: 14px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.caption .meta, .caption time { color: var(--muted); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.animal .caption { grid-template-columns: 1fr auto; align-items: baseline; padding: 12px 14px; }
.animal .caption .name { font-size: 17px; text-transform: capitalize; }
.mosaic { display: grid; grid-template-columns: 1fr 1fr; gap: 2px; aspect-ratio: 1; background: var(--line); }
.mosaic img, .mosaic .tile-empty { width: 100%; height: 100%; object-fit: cover; display: block; background: var(--line); }
.more-row { display: flex; justify-content: center; margin: 28px 0 0; }
.button {
  display: inline-flex; align-items: center; justify-content: center; gap: 6px; min-height: 38px; padding: 0 16px;
  border-radius: 10px; border: 1px solid var(--line); background: var(--panel); color: var(--ink);
  font: inherit; font-weight: 600; text-decoration: none; cursor: pointer;
}
.button:hover { border-color: var(--accent); }
.button:focus-visible, a:focus-visible { outline: 3px solid color-mix(in srgb, var(--accent) 60%, transparent); outline-offset: 2px; }
.button.primary { background: var(--accent); border-color: var(--accent); color: var(--accent-ink); }
.button.disabled { opacity: .4; cursor: default; }
.empty { text-align: center; padding: 64px 16px; max-width: 520px; margin: 24px auto; background: var(--panel); border-radius: 20px; box-shadow: var(--shadow); }
.empty h2 { margin: 12px 0 6px; }
.empty p { margin: 6px 0; color: var(--muted); }
.empty code { background: var(--bg); padding: 2px 6px; border-radius: 6px; color: var(--ink); }
.empty .hint { font-size: 13px; }
.empty-art { opacity: .9; }
[hidden] { display: none !important; }
.picture { display: grid; grid-template-columns: minmax(0, 3fr) minmax(280px, 2fr); gap: 28px; margin-top: 20px; align-items: start; }
.stage { background: var(--panel); border-radius: var(--radius); box-shadow: var(--shadow); padding: 12px; display: flex; justify-content: center; }
.stage img { max-width: 100%; max-height: 78vh; height: auto; display: block; border-radius: 8px; image-rendering: auto; }
.details .title { font-size: 24px; }
.details .sub { margin-top: 4px; }
.actions { display: flex; flex-wrap: wrap; gap: 8px; margin: 18px 0 8px; }
.keys { color: var(--muted); font-size: 12px; margin: 6px 0 16px; }
kbd { border: 1px solid var(--line); border-bottom-width: 2px; border-radius: 5px; padding: 0 5px; background: var(--panel); }
.uri { display: grid; gap: 4px; margin: 0 0 16px; }
.uri span { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .06em; }
.uri code { overflow-wrap: anywhere; background: var(--panel); border: 1px solid var(--line); padding: 8px 10px; border-radius: 8px; }
.gone { color: var(--bad); font-weight: 600; }
.attrs { width: 100%; border-collapse: collapse; font-size: 13px; background: var(--panel); border-radius: var(--radius); overflow: hidden; box-shadow: var(--shadow); }
.attrs th, .attrs td { text-align: left; vertical-align: top; padding: 7px 12px; border-bottom: 1px solid var(--line); }
.attrs tr:last-child th, .attrs tr:last-child td { border-bottom: 0; }
.attrs th { color: var(--muted); font-weight: 500; white-space: nowrap; width: 1%; }
.attrs td { overflow-wrap: anywhere; font-family: ui-monospace, Menlo, "DejaVu Sans Mono", monospace; font-size: 12px; }
@media (max-width: 760px) {
  .picture { grid-template-columns: 1fr; gap: 18px; }
  .grid { grid-template-columns: repeat(auto-fill, minmax(140px, 1fr)); gap: 10px; }
  .animals { grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 12px; }
  .status { font-size: 12px; }
  .keys { display: none; }
}
`;

export const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="16" fill="#d9622b"/><g fill="#fff"><ellipse cx="32" cy="41" rx="12" ry="10"/><ellipse cx="17" cy="29" rx="5" ry="6.5"/><ellipse cx="47" cy="29" rx="5" ry="6.5"/><ellipse cx="25" cy="18" rx="5" ry="6.5"/><ellipse cx="39" cy="18" rx="5" ry="6.5"/></g></svg>
`;
