// The progress bar of `sync --once` in a real terminal (tmux), read back from the screen: files,
// MiB, rate and ETA within the terminal's width, and a log line printed mid-pass above the bar,
// not into it. Without a terminal: plain lines.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { plainLine } from '../../src/progress.ts';
import { BIN, runCli, waitFor } from '../helpers/cli.ts';
import { makePng } from '../helpers/png.ts';
import { startTestStack, tempDir, type TestStack } from '../helpers/stack.ts';

const work = tempDir('animal-sync-test-');
const socket = `animal-sync-test-${process.pid}`;
const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
after(() => {
  try { tmux('kill-server'); } catch { /* no server left */ }
  rmSync(work, { recursive: true, force: true });
});

const shellQuote = (v: string): string => `'${v.replace(/'/g, `'\\''`)}'`;

describe('progress of sync --once', () => {
  let stack: TestStack;
  let env: Record<string, string>;
  const files = 400;
  before(async () => {
    stack = await startTestStack();
    const inbox = path.join(work, 'inbox');
    env = {
      ...stack.env, ANIMAL_SYNC_BUCKET: stack.bucket, ANIMAL_SYNC_TABLE: 'Progress' + Date.now(), ANIMAL_SYNC_INBOX: inbox,
      ANIMAL_SYNC_STATE_DIR: path.join(work, 'state'), ANIMAL_SYNC_STABILITY_MS: '0', ANIMAL_SYNC_CONCURRENCY: '4',
    };
    assert.equal((await runCli(['init'], { env: { ...process.env, ...env } })).code, 0);
    mkdirSync(path.join(inbox, 'dog'), { recursive: true });
    for (let i = 0; i < files; i++) writeFileSync(path.join(inbox, 'dog', `p${String(i).padStart(4, '0')}.png`), makePng({ seed: i, width: 64, height: 64 }));
    // Text named .png: found bad only when read, mid-pass, so its skip line comes while the bar is up.
    writeFileSync(path.join(inbox, 'dog', 'p0200-bad.png'), 'not a picture\n');
  });
  after(async () => stack?.stop());

  it('draws a bar with files, MiB, rate and ETA within the width, and prints the log line above it', async () => {
    const script = path.join(work, 'run.sh');
    writeFileSync(script, [
      ...Object.entries(env).map(([k, v]) => `export ${k}=${shellQuote(v)}`),
      `export PATH=${shellQuote(process.env.PATH ?? '')}`,
      `${shellQuote(BIN)} sync --once; echo "EXIT=$?"`,
      'sleep 600',
    ].join('\n'));
    tmux('new-session', '-d', '-s', 'p', '-x', '100', '-y', '50', `sh ${shellQuote(script)}`);
    const screen = await waitFor('the pass to finish', () => {
      const text = tmux('capture-pane', '-p', '-t', 'p', '-S', '-200');
      return /EXIT=\d/.test(text) ? text : undefined;
    }, 120000);
    const lines = screen.split('\n');
    if (process.env.ANIMAL_SYNC_TEST_SHOW) process.stdout.write(screen);
    assert.match(screen, /EXIT=0/, screen);
    const skip = lines.filter((l) => l.includes('p0200-bad.png'));
    assert.ok(skip.length >= 1, `the skip line is on the screen:\n${screen}`);
    for (const l of skip) assert.doesNotMatch(l, /[█░]|files \|/, `the skip line is not mixed with the bar:\n${screen}`);
    const bars = lines.filter((l) => /[█░]/.test(l));
    assert.equal(bars.length, 1, `one bar on the screen, redrawn in place:\n${screen}`);
    const bar = bars[0]!;
    assert.match(bar, new RegExp(`100% \\| ${files + 1}/${files + 1} files \\| [\\d.]+ (KiB|MiB) \\| \\d+ files/s, [\\d.]+ MiB/s \\| ETA`), bar);
    assert.ok(bar.trimEnd().length <= 100, `fits in 100 columns: ${bar.length}`);
    assert.ok(lines.indexOf(skip[0]!) < lines.indexOf(bar), 'the log line is above the bar');
    assert.match(screen, new RegExp(`uploaded ${files},`));
  });

  it('without a terminal prints plain lines', () => {
    assert.equal(plainLine({ done: 50, total: 200, bytes: 5 * 1024 * 1024 }, 10_000),
      'progress: 50/200 files, 5.0 MiB, 5 files/s, 0.5 MiB/s, ETA 30 s');
  });
});
