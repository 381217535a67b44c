// The package as a user gets it: `npm pack`, a global install into a temporary prefix, and
// `animal-sync` on PATH from another directory; the launcher's choice of Node; shell completion.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { BIN, ROOT } from '../helpers/cli.ts';
import { tempDir } from '../helpers/stack.ts';

const work = tempDir('animal-sync-test-');
after(() => rmSync(work, { recursive: true, force: true }));

const PINNED_NODE = path.join(ROOT, 'node_modules', 'node', 'bin', 'node');
const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** PATH for a child: the machine's tools, without the project's node_modules/.bin. */
const basePath = (process.env.PATH ?? '').split(':').filter((p) => !p.includes('node_modules')).join(':');
/** npm enables Node's compile cache under TMPDIR; the run's temp folder must stay empty. */
const npmEnv = { ...process.env, PATH: basePath, NODE_DISABLE_COMPILE_CACHE: '1' };

describe('the installable package', () => {
  it('npm pack holds only what it needs, and a global install runs from any directory', { timeout: 300000 }, () => {
    const packDir = path.join(work, 'pack');
    mkdirSync(packDir);
    const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', packDir, '--loglevel=error'], { cwd: ROOT, encoding: 'utf8', env: npmEnv });
    const [info] = JSON.parse(out.slice(out.indexOf('['))) as { filename: string; files: { path: string }[] }[];
    const files = info!.files.map((f) => f.path);
    assert.ok(files.includes('bin/animal-sync') && files.includes('dist/cli.js') && files.includes('config/default.json'), files.join(' '));
    for (const f of files) assert.doesNotMatch(f, /^(src|tests|bench|lambda|node_modules|\.ci)\//, `${f} does not belong in the package`);

    const prefix = path.join(work, 'prefix');
    execFileSync('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', path.join(packDir, info!.filename)],
      { cwd: work, encoding: 'utf8', env: npmEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    const elsewhere = tempDir('animal-sync-test-');
    try {
      const env = { PATH: `${path.join(prefix, 'bin')}:${basePath}`, HOME: elsewhere, AWS_EC2_METADATA_DISABLED: 'true' };
      const v = spawnSync('animal-sync', ['--version'], { cwd: elsewhere, env, encoding: 'utf8' });
      assert.equal(v.status, 0, v.stderr);
      assert.equal(v.stdout.trim(), version);
      const help = spawnSync('animal-sync', ['list', '--help'], { cwd: elsewhere, env, encoding: 'utf8' });
      assert.equal(help.status, 0, help.stderr);
      assert.match(help.stdout, /--animal/);
      // It reaches the SDK (the bundle and its dependencies load) and fails only for want of a region.
      const list = spawnSync('animal-sync', ['list', '--animal', 'dog'], { cwd: elsewhere, env, encoding: 'utf8' });
      assert.equal(list.status, 1);
      assert.match(list.stderr, /no AWS region is set/);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('the launcher uses a Node >= 24 on PATH when the pinned one is missing, and says what to do when there is none', () => {
    // A copy of the launcher in a root without node_modules/node, next to the real bundle. Its
    // folder name has a dot, and yargs is a copy in it: yargs looked for the version above its
    // own folder and answered "unknown" from a clone in /tmp/tmp.AbC123.
    const root = path.join(work, 'checkout.v1');
    mkdirSync(path.join(root, 'bin'), { recursive: true });
    copyFileSync(BIN, path.join(root, 'bin', 'animal-sync'));
    // A copy, so that its imports resolve from this root (a symlink would resolve from ROOT).
    cpSync(path.join(ROOT, 'dist'), path.join(root, 'dist'), { recursive: true });
    symlinkSync(path.join(ROOT, 'config'), path.join(root, 'config'));
    symlinkSync(path.join(ROOT, 'package.json'), path.join(root, 'package.json'));
    mkdirSync(path.join(root, 'node_modules'));
    // Every dependency but the pinned Node.
    for (const dep of readdirSync(path.join(ROOT, 'node_modules'))) {
      if (dep === 'yargs') cpSync(path.join(ROOT, 'node_modules', dep), path.join(root, 'node_modules', dep), { recursive: true, dereference: true });
      else if (dep !== 'node' && dep !== '.bin') symlinkSync(path.join(ROOT, 'node_modules', dep), path.join(root, 'node_modules', dep));
    }
    const withNode24 = path.join(work, 'node24');
    mkdirSync(withNode24);
    symlinkSync(PINNED_NODE, path.join(withNode24, 'node'));
    const ok = spawnSync(path.join(root, 'bin', 'animal-sync'), ['--version'], { env: { PATH: `${withNode24}:${basePath}` }, encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout.trim(), version);

    const old = path.join(work, 'node20');
    mkdirSync(old);
    symlinkSync('/bin/sh', path.join(old, 'sh'));
    const fake = path.join(old, 'node');
    execFileSync('sh', ['-c', `printf '#!/bin/sh\\necho 20\\n' > "${fake}" && chmod +x "${fake}"`]);
    const refused = spawnSync(path.join(root, 'bin', 'animal-sync'), ['--version'], { env: { PATH: `${old}:/usr/bin:/bin` }, encoding: 'utf8' });
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /needs Node\.js 24 or newer/);
    assert.match(refused.stderr, /major version 20/);
  });

  it('bash completion completes commands and the flags of a command', () => {
    const bin = path.join(work, 'completion-bin');
    mkdirSync(bin, { recursive: true });
    try { symlinkSync(BIN, path.join(bin, 'animal-sync')); } catch { /* made by an earlier run of this test */ }
    const script = execFileSync(BIN, ['completion'], { encoding: 'utf8', env: { ...process.env, SHELL: '/bin/bash' } });
    const complete = (words: string[]): string[] => execFileSync('bash', ['-c', `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _animal-sync_yargs_completions; printf '%s\\n' "\${COMPREPLY[@]}"`],
      { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } }).split('\n').filter(Boolean);
    assert.deepEqual(complete(['animal-sync', 'li']), ['list']);
    assert.ok(complete(['animal-sync', 'list', '--']).includes('--animal'));
    assert.ok(!complete(['animal-sync', 'list', '--']).includes('--inbox'), 'list does not offer settings it does not use');
    const zsh = execFileSync(BIN, ['completion'], { encoding: 'utf8', env: { ...process.env, SHELL: '/usr/bin/zsh' } });
    assert.match(zsh, /^#compdef animal-sync/);
  });
});
