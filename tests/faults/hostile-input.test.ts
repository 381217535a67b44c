// 200 generated hostile names and files dropped on the real daemon (run as an unprivileged
// user, so that unreadable files really are unreadable): unicode in NFC and NFD, spaces, %, #,
// 255-byte names, "..", names that are not UTF-8, symlinks pointing outside, FIFOs, a socket,
// a device, unreadable files, truncated PNGs, JPEGs named .png, folders named x.png, bad
// animal folders. No crash; one log line for each skipped input; no key outside
// animals/<animal>/; every accepted file round-trips (GET via the store, and download by the CLI).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, waitFor } from '../helpers/cli.ts';
import { assertConvergedAfterFaults, daemonWithoutDacOverride, fullReconcile, logLines, seededRandom, setupFaultSync, startLambdaLog, waitConverged } from '../helpers/faults.ts';
import { makePng } from '../helpers/png.ts';
import { startTestStack, tempDir, type TestStack } from '../helpers/stack.ts';
import { assertConverged, type Daemon, type SyncSetup } from '../helpers/sync.ts';

const ANIMALS = ['dog', 'cat', 'fox', 'owl'];

interface Input {
  /** Where it is, relative to the inbox (as a string; names that are not UTF-8 decode lossily). */
  path: string;
  /** accept = synced; otherwise the path its one skip line names (a bad folder: `<folder>/`). */
  expect: 'accept' | { skip: string };
  make(inbox: string): void;
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function generateInputs(outside: string): Input[] {
  const inputs: Input[] = [];
  let seed = 1000;
  const png = (): Buffer => makePng({ seed: seed++, width: 4 + (seed % 7), height: 3 + (seed % 5) });
  const file = (rel: string, content: Buffer | string, expect: Input['expect'] = 'accept'): void => {
    inputs.push({ path: rel, expect, make: (inbox) => writeFileSync(path.join(inbox, rel), content) });
  };
  const good = (animal: string, name: string): void => file(`${animal}/${name}`, png());
  const skip = (rel: string, content: Buffer | string): void => file(rel, content, { skip: rel });

  // Unicode, the same names in NFC and NFD (two different files on Linux).
  const unicode = ['café', 'naïve', 'Ünïcödé', 'résumé', 'crème brûlée', 'Ångström', 'ñandú', 'Øre', 'señor', 'déjà vu'];
  for (const u of unicode) {
    good('dog', `${u.normalize('NFC')}.png`);
    if (u.normalize('NFD') !== u.normalize('NFC')) good('dog', `${u.normalize('NFD')}.png`);
  }
  for (const u of ['🐶', '🦊🦉', '犬の写真', 'собака', 'كلب', '\u202Eevil\u202C', 'z\u0301\u0302\u0303', 'ﬁ-ligature', '\u00A0nbsp', 'tab\there']) good('fox', `${u}.png`);
  // Spaces, %, #, and friends.
  for (const n of ['my dog', ' leading', 'trailing ', 'two  spaces', '100%', '%2F..%2Fescape', '%00', '%E9%', 'a%20b', '#1', 'a#b', '##x', 'q?x', 'star*', 'amp&lt', '<tag>', 'pipe|x', 'semi;colon', "it's", 'say "hi"', 'back\\slash', '$(rm -rf ~)', '`id`', 'new\nline', 'cr\rreturn', 'ctl\u0001x', 'CON', 'nul', '-dash', '--double', '+plus', '=eq', '@at', '!bang', '~tilde', '[x]', '{y}', 'comma,x']) {
    good('cat', `${n}.png`);
  }
  for (const ext of ['.PNG', '.Png', '.pNg']) good('cat', `upper${ext}`);
  // "..": inside a name, never a way out of the folder.
  for (const n of ['a..b.png', 'x..png', 'x..%2f..%2fetc.png', 'dots...png', 'x.. .png']) good('owl', n);
  // 255 bytes, the file system's limit, in one-, two- and four-byte characters.
  good('owl', 'a'.repeat(251) + '.png');
  good('owl', 'é'.repeat(125) + 'x.png');
  good('owl', '🦉'.repeat(62) + 'abc.png');
  good('owl', 'b'.repeat(200) + '.png');
  good('owl', 'ß'.repeat(100) + '-'.repeat(51) + '.png');

  // Generated names: random runs of hostile fragments, up to the 255-byte limit, half in NFD.
  const rand = seededRandom(77);
  const fragments = ['é', 'e\u0301', 'ß', '🐶', '犬', ' ', '  ', '%', '%2F', '#', '&', '<', '>', "'", '"', '\\', '?', '*', '|', ';', '$', '`', '\n', '\t', '\u0001', '\u200B', '\u202E', '..', '-', '_', '+', '=', '~', '!', '@', '(', ')', '[', ']', '{', '}', ',', 'ﬁ', 'Ω', 'Å', 'A\u030A', '\uFEFF', 'x', 'Y', '0'];
  for (let i = 0; i < 50; i++) {
    const long = i % 5 === 0;
    let name = `g${i}-`;
    for (let n = 0; n < (long ? 200 : 1 + Math.floor(rand() * 25)); n++) name += fragments[Math.floor(rand() * fragments.length)];
    if (i % 2) name = name.normalize('NFD');
    while (Buffer.byteLength(name) > 251) name = [...name].slice(0, -1).join('');
    good(['dog', 'cat', 'fox', 'owl'][i % 4]!, `${name}.png`);
  }

  // Content that is not a complete PNG.
  const whole = makePng({ seed: 4242, padTo: 5000 });
  for (const cut of [1, 8, 20, 33, 40, 100, 1000, whole.length - 12, whole.length - 1]) skip(`dog/cut-${cut}.png`, whole.subarray(0, cut));
  const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 74, 70, 73, 70, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0xff, 0xd9]);
  for (let i = 0; i < 4; i++) skip(`dog/photo-${i}.png`, Buffer.concat([jpeg, Buffer.alloc(i * 100)]));
  skip('dog/anim.png', Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1'));
  skip('dog/doc.png', '%PDF-1.7\n');
  skip('dog/notes.png', 'hello, I am text\n');
  skip('dog/empty.png', '');
  const badCrc = Buffer.from(whole);
  badCrc[20] = badCrc[20]! ^ 0xff;
  skip('dog/bad-crc.png', badCrc);
  const sigOnly = Buffer.concat([whole.subarray(0, 8), Buffer.alloc(200)]);
  skip('dog/sig-only.png', sigOnly);
  // Names that are skipped by name.
  for (const n of ['.hidden.png', '.png', 'x.png.tmp', 'y.png~', '#z.png#', 'w.png.part', 'v.png.crdownload', 'u.PNG.swp', 'a.jpg', 'b.png.jpeg', 'noext', 'c.png.bak']) skip(`cat/${n}`, png());
  // Folders named like files, and folders inside animal folders.
  for (const n of ['x.png', 'y.PNG', 'deeper']) {
    inputs.push({ path: `fox/${n}`, expect: { skip: `fox/${n}/` }, make: (inbox) => { mkdirSync(path.join(inbox, 'fox', n)); writeFileSync(path.join(inbox, 'fox', n, 'inner.png'), png()); } });
  }
  // Symlinks: outside the inbox, inside it, dangling, to a folder; an animal folder that is a link.
  const outsidePng = path.join(outside, 'outside.png');
  writeFileSync(outsidePng, png());
  for (const [name, target] of [['passwd.png', '/etc/passwd'], ['out.png', outsidePng], ['in.png', '../dog/café.png'], ['dangling.png', '/nonexistent/x.png'], ['dir.png', outside], ['self.png', 'self.png'], ['up.png', '../../../../../../etc/shadow']] as const) {
    inputs.push({ path: `owl/${name}`, expect: { skip: `owl/${name}` }, make: (inbox) => symlinkSync(target, path.join(inbox, 'owl', name)) });
  }
  inputs.push({ path: 'escape', expect: { skip: 'escape' }, make: (inbox) => symlinkSync(outside, path.join(inbox, 'escape')) });
  // FIFOs (reading one would block forever), a socket, a device.
  for (let i = 0; i < 4; i++) inputs.push({ path: `cat/pipe-${i}.png`, expect: { skip: `cat/pipe-${i}.png` }, make: (inbox) => execFileSync('mkfifo', [path.join(inbox, 'cat', `pipe-${i}.png`)]) });
  inputs.push({ path: 'cat/null.png', expect: { skip: 'cat/null.png' }, make: (inbox) => execFileSync('mknod', [path.join(inbox, 'cat', 'null.png'), 'c', '1', '3']) });
  inputs.push({ path: 'cat/sock.png', expect: { skip: 'cat/sock.png' }, make: (inbox) => bindSocket(path.join(inbox, 'cat', 'sock.png')) });
  // Unreadable (as root, the daemon runs without CAP_DAC_OVERRIDE).
  for (let i = 0; i < 3; i++) {
    inputs.push({ path: `fox/locked-${i}.png`, expect: { skip: `fox/locked-${i}.png` }, make: (inbox) => { const f = path.join(inbox, 'fox', `locked-${i}.png`); writeFileSync(f, png()); chmodSync(f, 0); } });
  }
  // Names that are not valid UTF-8 (Latin-1 bytes): unreadable as a string, so not syncable.
  for (const bytes of [[0x66, 0xe9], [0xff, 0xfe, 0x41], [0x63, 0x61, 0x66, 0xc3]]) {
    const raw = Buffer.concat([Buffer.from(bytes), Buffer.from('.png')]);
    const shown = `dog/${raw.toString('utf8')}`;
    inputs.push({ path: shown, expect: { skip: shown }, make: (inbox) => writeFileSync(Buffer.concat([Buffer.from(path.join(inbox, 'dog') + '/'), raw]), png()) });
  }
  // Bad animal folders: one line for the folder, whatever is inside.
  for (const folder of ['Dog', 'chèvre'.normalize('NFC'), 'chèvre'.normalize('NFD'), 'a b', 'x'.repeat(65), 'ü', 'dog.png', 'CAT']) {
    for (let i = 0; i < 2; i++) {
      inputs.push({ path: `${folder}/f${i}.png`, expect: { skip: `${folder}/` }, make: (inbox) => { mkdirSync(path.join(inbox, folder), { recursive: true }); writeFileSync(path.join(inbox, folder, `f${i}.png`), png()); } });
    }
  }
  // Loose files directly in the inbox.
  for (const n of ['loose.png', 'café.png', 'README']) skip(n, png());
  return inputs;
}

/** A unix socket file that stays on disk (the server is closed; the inode remains). */
const sockets: net.Server[] = [];
function bindSocket(file: string): void {
  const server = net.createServer();
  server.listen(file);
  sockets.push(server);
}

/** `animal-sync download`; returns the file it wrote (under a name made safe for any file system). */
async function cliDownload(s: SyncSetup, animal: string, imageId: string, out: string): Promise<string> {
  const res = await runCli(['download', '--json', '--animal', animal, '--image-id', imageId, '--out', out], { env: s.env });
  assert.equal(res.code, 0, res.stderr);
  const file = (JSON.parse(res.stdout) as { file: string }).file;
  assert.equal(path.dirname(file), out, 'written inside --out');
  return file;
}

describe('hostile names and files', () => {
  let stack: TestStack;
  before(async () => { stack = await startTestStack(); });
  after(async () => {
    for (const srv of sockets) srv.close();
    await stack?.stop();
  });

  it('200 generated inputs: no crash, one line per skipped input, keys only under animals/<animal>/, accepted files round-trip', async (t) => {
    const s = await setupFaultSync(stack, { concurrency: '8' });
    const outside = tempDir('animal-sync-outside-');
    const inputs = generateInputs(outside);
    t.diagnostic(`${inputs.length} inputs: ${inputs.filter((i) => i.expect === 'accept').length} to accept, ${inputs.filter((i) => i.expect !== 'accept').length} to skip`);
    assert.ok(inputs.length >= 200, `${inputs.length} inputs`);
    for (const a of ANIMALS) mkdirSync(s.file(a), { recursive: true });
    const lambda = await startLambdaLog(s);
    const asRoot = process.getuid?.() === 0;
    const d: Daemon = asRoot ? daemonWithoutDacOverride(s) : s.daemon();
    try {
      await d.waitForLog(/watching/);
      for (const input of inputs) input.make(s.config.inbox);
      const accepted = inputs.filter((i) => i.expect === 'accept').map((i) => i.path);
      const skipped = new Set(inputs.filter((i) => i.expect !== 'accept').map((i) => i.path));
      await waitConverged(s, { animals: ANIMALS, skipped, timeoutMs: 60000 });
      // Two full passes more (the watcher does not look at deeper folders): still one line each.
      await fullReconcile(d);
      assert.equal(d.child.exitCode, null, 'the daemon is still running');

      const skipLines = logLines(d, /^skipped /);
      const expectedSkips = [...new Set(inputs.flatMap((i) => (i.expect === 'accept' ? [] : [i.expect.skip])))];
      const byPath = new Map<string, Record<string, unknown>[]>();
      for (const l of skipLines) byPath.set(String(l.path), [...(byPath.get(String(l.path)) ?? []), l]);
      const problems: string[] = [];
      for (const p of expectedSkips) {
        const n = byPath.get(p)?.length ?? 0;
        if (n !== 1) problems.push(`${JSON.stringify(p)}: ${n} skip lines`);
      }
      for (const p of byPath.keys()) if (!expectedSkips.includes(p)) problems.push(`${JSON.stringify(p)}: skipped but expected to be synced (${String(byPath.get(p)![0]!.reason)})`);
      const failures = logLines(d, /^failed /);
      for (const f of failures) problems.push(`${JSON.stringify(f.path)}: failed (${String(f.error)})`);
      assert.deepEqual(problems, [], 'one skip line for each skipped input, nothing else skipped or failed');

      // Every accepted file is an item; every key is under animals/<its animal>/ and safe.
      const items = await s.items(ANIMALS);
      assert.deepEqual(items.map((i) => i.source_path).sort(), [...accepted].sort(), 'the accepted files, exactly');
      const keys = await s.objectKeys();
      for (const key of keys) assert.match(key, /^animals\/(dog|cat|fox|owl)\/\d{4}-\d{2}-\d{2}\/[0-9a-f-]{36}-[A-Za-z0-9._-]{1,160}$/, `safe key ${key}`);
      for (const item of items) assert.ok(item.s3_key.startsWith(`animals/${item.animal}/`), `${item.s3_key} is under animals/${item.animal}/`);

      // Round trip by the CLI for the hardest names: the downloaded file has the exact bytes.
      // A folder each: café in NFD and NFC have one safe file name, and download never overwrites.
      const hardest = ['dog/café.png'.normalize('NFD'), 'dog/café.png'.normalize('NFC'), 'cat/new\nline.png', 'cat/%2F..%2Fescape.png', 'owl/' + '🦉'.repeat(62) + 'abc.png', 'owl/' + 'a'.repeat(251) + '.png', 'fox/\u202Eevil\u202C.png', 'cat/back\\slash.png'];
      for (const p of hardest) {
        const item = items.find((i) => i.source_path === p);
        assert.ok(item, `an item for ${JSON.stringify(p)}`);
        const got = readFileSync(await cliDownload(s, item.animal, item.image_id, tempDir('animal-sync-download-')));
        assert.equal(sha256(got), sha256(readFileSync(s.file(p))), `downloaded bytes of ${JSON.stringify(p)}`);
      }
      const report = await assertConvergedAfterFaults(s, lambda, { animals: ANIMALS, skipped });
      assert.equal(report.items, accepted.length);
      t.diagnostic(`${accepted.length} accepted and round-tripped (${hardest.length} also by \`download\`), ${expectedSkips.length} skip lines as expected, ${keys.length} keys all under animals/<animal>/`);
    } finally {
      assert.equal(await d.stop(), 0);
      await lambda.stop();
    }
  });

  // Regression: an unreadable file failed with EACCES on every retry (a "failed" line each
  // time) instead of being skipped once, and as a failed upload it held back every delete of
  // the full passes it was in.
  it('an unreadable file is skipped with one line and does not hold back deletes', async () => {
    const s = await setupFaultSync(stack);
    s.put('dog/keep.png');
    s.put('dog/gone.png');
    assert.equal((await s.once()).code, 0);
    s.put('dog/locked.png');
    chmodSync(s.file('dog/locked.png'), 0);
    rmSync(s.file('dog/gone.png'));
    // Both changes wait for the start-up pass: the same full pass sees the unreadable file and the delete.
    const d = process.getuid?.() === 0 ? daemonWithoutDacOverride(s) : s.daemon();
    try {
      await waitFor('the delete', async () => (await s.items(['dog'])).map((i) => i.source_path).join() === 'dog/keep.png', 20000);
      await fullReconcile(d);
      assert.deepEqual(logLines(d, /^skipped /).map((l) => [l.path, l.reason]), [['dog/locked.png', 'cannot read it (EACCES: permission denied)']]);
      assert.deepEqual(logLines(d, /^failed |^not deleting/), []);
      await assertConverged(s, { animals: ['dog'], skipped: new Set(['dog/locked.png']) });
    } finally {
      assert.equal(await d.stop(), 0);
    }
  });

  // Regression: a name that is not UTF-8 comes back from readdir with U+FFFD in it, a path
  // that does not exist; the file was ignored without a word.
  it('a file whose name is not UTF-8 gets one skip line', async () => {
    const s = await setupFaultSync(stack);
    s.put('dog/fine.png');
    writeFileSync(Buffer.concat([Buffer.from(s.file('dog') + '/'), Buffer.from([0x66, 0xe9]), Buffer.from('.png')]), makePng({ seed: 5 }));
    const res = await s.once('--json');
    assert.equal(res.code, 0, res.stderr);
    assert.equal(JSON.parse(res.stdout).skipped, 1);
    const lines = res.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => /^skipped /.test(String(l.msg)));
    assert.deepEqual(lines.map((l) => [l.path, l.reason]), [['dog/f\uFFFD.png', 'the file name is not valid UTF-8 (rename it)']]);
    await assertConverged(s, { animals: ['dog'] });
  });
});
