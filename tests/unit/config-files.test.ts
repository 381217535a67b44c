// Config files where people look for them: /etc/animal-sync/config.json and the user's
// $XDG_CONFIG_HOME/animal-sync/config.json, below --config, the environment and flags.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { resolveConfig, userConfigFile } from '../../src/config.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/stack.ts';

const dir = tempDir('animal-sync-test-');
after(() => rmSync(dir, { recursive: true, force: true }));

function write(file: string, settings: Record<string, unknown>): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(settings));
  return file;
}

describe('config files', () => {
  const system = write(path.join(dir, 'etc', 'config.json'), { bucket: 'from-etc', table: 'from-etc', concurrency: 2, maxDelete: 11, inbox: 'etc-inbox' });
  const xdg = path.join(dir, 'xdg');
  const user = write(path.join(xdg, 'animal-sync', 'config.json'), { table: 'from-user', concurrency: 3, maxDelete: 12 });
  const explicit = write(path.join(dir, 'explicit.json'), { concurrency: 4, maxDelete: 13 });

  it('applies defaults < /etc < user < --config < environment < flags, and records the files read', () => {
    const c = resolveConfig({
      systemConfigFile: system,
      configFile: explicit,
      env: { XDG_CONFIG_HOME: xdg, ANIMAL_SYNC_MAX_DELETE: '14', ANIMAL_SYNC_GRACE_MS: '15' },
      flags: { graceMs: '16' },
      cwd: dir,
    });
    assert.equal(c.bucket, 'from-etc');
    assert.equal(c.inbox, path.join(dir, 'etc-inbox'));
    assert.equal(c.table, 'from-user');
    assert.equal(c.concurrency, 4);
    assert.equal(c.maxDelete, 14);
    assert.equal(c.graceMs, 16);
    assert.deepEqual(c.configFiles, [system, user, explicit]);
  });

  it('reads only the files that exist; the user file is ~/.config/animal-sync/config.json without XDG_CONFIG_HOME', () => {
    assert.equal(userConfigFile({ HOME: '/home/ann' }), '/home/ann/.config/animal-sync/config.json');
    assert.equal(userConfigFile({ HOME: '/home/ann', XDG_CONFIG_HOME: '/x' }), '/x/animal-sync/config.json');
    const c = resolveConfig({ systemConfigFile: path.join(dir, 'nope.json'), env: { HOME: path.join(dir, 'no-home') }, cwd: dir });
    assert.deepEqual(c.configFiles, []);
    assert.equal(c.bucket, 'animal-images');
  });

  it('an unknown key is an error that names the file it is in', () => {
    const bad = write(path.join(dir, 'bad-xdg', 'animal-sync', 'config.json'), { tabel: 'x' });
    assert.throws(() => resolveConfig({ systemConfigFile: path.join(dir, 'nope.json'), env: { XDG_CONFIG_HOME: path.join(dir, 'bad-xdg') }, cwd: dir }),
      (err: Error) => err.message.includes('tabel: unknown setting') && err.message.includes(bad));
  });

  it('status and --help say which files were read', async () => {
    const env = { ...process.env, XDG_CONFIG_HOME: xdg, ANIMAL_SYNC_STATE_DIR: path.join(dir, 'state'), ANIMAL_SYNC_HEALTH_ADDRESS: '' };
    const help = await runCli(['--help'], { env, cwd: dir });
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout.replace(/\s+/g, ' '), new RegExp(`Config files read: ${user.replace(/[.]/g, '\\.')}`));
    const bad = await runCli(['status', '--json'], { env: { ...env, XDG_CONFIG_HOME: path.join(dir, 'bad-xdg') }, cwd: dir });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /tabel: unknown setting in config file .*bad-xdg\/animal-sync\/config\.json/);
  });
});
