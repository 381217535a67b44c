// The progress bar of `restore` in a real terminal (tmux), read back from the screen: the same
// bar as sync --once (src/progress.ts), one line redrawn in place, whose total is every file of
// every animal partition although the partitions arrive one by one, within the terminal's width.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BIN, waitFor } from '../helpers/cli.ts';
import { startTestStack, tempDir, type TestStack } from '../helpers/stack.ts';
import { setupSync, type SyncSetup } from '../helpers/sync.ts';
import { treeOf } from './tree.ts';

const work = tempDir('animal-sync-restore-progress-');
const socket = `animal-sync-restore-test-${process.pid}`;
const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
const shellQuote = (v: string): string => `'${v.replace(/'/g, `'\\''`)}'`;

describe('progress of restore', () => {
  let stack: TestStack;
  let s: SyncSetup;
  const files = 300;
  before(async () => {
    stack = await startTestStack();
    s = await setupSync(stack);
    for (let i = 0; i < files; i++) s.put(`${['dog', 'cat', 'owl'][i % 3]}/p${String(i).padStart(4, '0')}.png`, { seed: i, padTo: 8000 });
    const first = await s.once();
    assert.equal(first.code, 0, first.stderr);
  });
  after(async () => {
    try { tmux('kill-server'); } catch { /* no server left */ }
    await stack?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('draws one bar that ends at 100% of every partition\'s files, within the width, then the summary', async () => {
    const dir = path.join(work, 'restored');
    const script = path.join(work, 'run.sh');
    writeFileSync(script, [
      ...Object.entries(s.env).filter(([k]) => /^(AWS_|ANIMAL_SYNC_)/.test(k)).map(([k, v]) => `export ${k}=${shellQuote(v ?? '')}`),
      `export PATH=${shellQuote(process.env.PATH ?? '')}`,
      `${shellQuote(BIN)} restore --to ${shellQuote(dir)}; echo "EXIT=$?"`,
      'sleep 600',
    ].join('\n'));
    tmux('new-session', '-d', '-s', 'r', '-x', '100', '-y', '50', `sh ${shellQuote(script)}`);
    const screen = await waitFor('the restore to finish', () => {
      const text = tmux('capture-pane', '-p', '-t', 'r', '-S', '-200');
      return /EXIT=\d/.test(text) ? text : undefined;
    }, 120000);
    assert.match(screen, /EXIT=0/, screen);
    const lines = screen.split('\n');
    const bars = lines.filter((l) => /[█░]/.test(l));
    assert.equal(bars.length, 1, `one bar on the screen, redrawn in place:\n${screen}`);
    assert.match(bars[0]!, new RegExp(`100% \\| ${files}/${files} files \\| [\\d.]+ (KiB|MiB) \\| \\d+ files/s, [\\d.]+ MiB/s \\| ETA`), bars[0]);
    assert.ok(bars[0]!.trimEnd().length <= 100, `fits in 100 columns: ${bars[0]!.length}`);
    const summary = lines.findIndex((l) => l.startsWith(`restored ${files}, already there 0, conflicts 0, failed 0 `));
    assert.ok(summary > lines.indexOf(bars[0]!), `the summary comes below the bar:\n${screen}`);
    assert.equal(Object.keys(treeOf(dir)).length, files);
  });
});
