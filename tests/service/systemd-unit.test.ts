// The shipped unit is checked by systemd's own tools. `systemd-analyze verify` refuses a unit
// whose ExecStart program is missing, so it checks a copy pointed at this checkout; it only
// *warns* about unknown keys, so the test reads its output instead of trusting the exit code.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { envName, loadDefaults, resolveConfig, SETTINGS } from '../../src/config.ts';
import { ROOT } from '../helpers/cli.ts';
import { tempDir } from '../helpers/stack.ts';

const UNIT = path.join(ROOT, 'systemd', 'animal-sync.service');
const INSTALL_ROOT = '/opt/animal-sync';
const MAX_EXPOSURE = 4.9;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function systemdAnalyze(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile('systemd-analyze', args, { timeout: 60_000, env: { ...process.env, SYSTEMD_COLORS: '0', SYSTEMD_PAGER: '' } }, (err, stdout, stderr) => {
      const code = (err as NodeJS.ErrnoException | null)?.code;
      if (code === 'ENOENT') {
        reject(new Error('systemd-analyze is not installed: this test needs it (apt-get install systemd; .ci/run installs it)'));
        return;
      }
      resolve({ code: typeof code === 'number' ? code : err ? 1 : 0, stdout, stderr });
    });
  });
}

/** A copy of the unit that runs this checkout's Node and CLI (they exist on this machine). */
const made: string[] = [];
after(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

function unitForThisMachine(extra = ''): string {
  const text = readFileSync(UNIT, 'utf8');
  assert.ok(text.includes(`ExecStart=${INSTALL_ROOT}/bin/animal-sync sync`), 'ExecStart runs the launcher (pinned Node 24) with sync');
  const dir = tempDir('animal-sync-unit-');
  made.push(dir);
  const file = path.join(dir, 'animal-sync.service');
  writeFileSync(file, text.replaceAll(INSTALL_ROOT, ROOT) + extra);
  return file;
}

/** Lines in which systemd says it skipped part of the unit. */
function ignoredSettings(output: string): string[] {
  return output.split('\n').filter((l) => /Unknown key|Unknown section|Ignoring|ignoring|Unknown lvalue|Failed to parse/.test(l));
}

/** The last value of `key=` in the unit (later assignments win, as in systemd). */
function unitValue(text: string, key: string): string | undefined {
  const lines = text.split('\n').filter((l) => l.startsWith(key + '='));
  return lines.at(-1)?.slice(key.length + 1);
}

describe('systemd/animal-sync.service', () => {
  test('systemd-analyze verify accepts it with no unknown or ignored settings', async () => {
    const file = unitForThisMachine();
    const run = await systemdAnalyze(['verify', file]);
    const output = run.stdout + run.stderr;
    assert.equal(run.code, 0, `systemd-analyze verify failed:\n${output}`);
    assert.deepEqual(ignoredSettings(output), [], `systemd-analyze verify ignored settings:\n${output}`);
  });

  test('the verify check notices an unknown key (so a typo in the unit cannot pass)', async () => {
    const file = unitForThisMachine('\n[Service]\nProtectSystm=strict\n');
    const run = await systemdAnalyze(['verify', file]);
    assert.match(ignoredSettings(run.stdout + run.stderr).join('\n'), /Unknown key 'ProtectSystm'/);
  });

  test(`systemd-analyze security rates its exposure OK or better (<= ${MAX_EXPOSURE})`, async (t) => {
    const file = unitForThisMachine();
    const run = await systemdAnalyze(['security', '--offline=yes', file]);
    const output = run.stdout + run.stderr;
    const m = /Overall exposure level for \S+: (\d+(?:\.\d+)?) (\w+)/.exec(output);
    assert.ok(m, `no overall exposure level in systemd-analyze security output:\n${output}`);
    const score = Number(m[1]);
    const label = m[2]!;
    assert.ok(score <= MAX_EXPOSURE && ['OK', 'SAFE'].includes(label), `exposure ${score} ${label}, want <= ${MAX_EXPOSURE} OK/SAFE:\n${output}`);
    assert.deepEqual(ignoredSettings(output), [], output);
    t.diagnostic(`systemd-analyze security: ${score} ${label}`);
  });

  test('the settings the daemon relies on are there', () => {
    const text = readFileSync(UNIT, 'utf8');
    assert.equal(unitValue(text, 'Type'), 'notify');
    // Notifications come from the systemd-notify child process, not the main PID.
    assert.equal(unitValue(text, 'NotifyAccess'), 'all');
    assert.ok(unitValue(text, 'WatchdogSec'));
    // V8's JIT needs W+X memory: Node aborts at start-up under MemoryDenyWriteExecute=yes.
    assert.notEqual(unitValue(text, 'MemoryDenyWriteExecute'), 'yes');
    // Node is killed with SIGSYS by @system-service alone (pkey_alloc).
    assert.match(text, /^SystemCallFilter=@system-service\b.*\bpkey_alloc\b/m);
    // `systemctl reload`: SIGHUP = a full rescan (tests/systemd proves it under systemd).
    assert.match(unitValue(text, 'ExecReload') ?? '', /^(\/bin\/)?kill -HUP \$MAINPID$/);
    assert.doesNotMatch(text, /^Environment=AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN)=/m, 'no AWS keys in the unit');
  });

  test('TimeoutStopSec leaves room for the default grace time (graceMs) on SIGTERM', () => {
    const stop = unitValue(readFileSync(UNIT, 'utf8'), 'TimeoutStopSec');
    const m = /^(\d+)s$/.exec(stop ?? '');
    assert.ok(m, `TimeoutStopSec=${stop}: expected seconds like 30s`);
    assert.ok(Number(m[1]) * 1000 >= loadDefaults().graceMs + 5000, `TimeoutStopSec=${stop} must exceed graceMs=${loadDefaults().graceMs} ms by some margin`);
  });
});

describe('systemd example files', () => {
  test('config.example.json is a valid config file', () => {
    const config = resolveConfig({ configFile: path.join(ROOT, 'systemd', 'config.example.json'), env: {}, hostname: 'cam-01' });
    assert.equal(config.stateDir, '/var/lib/animal-sync');
    assert.ok(config.healthAddress);
  });

  test('animal-sync.env.example names only known settings', () => {
    const known = new Set(SETTINGS.map((s) => envName(s.key)));
    const names = [...readFileSync(path.join(ROOT, 'systemd', 'animal-sync.env.example'), 'utf8').matchAll(/^#?(ANIMAL_SYNC_\w+)=/gm)].map((m) => m[1]!);
    assert.ok(names.length > 0);
    for (const n of names) assert.ok(known.has(n), `${n} is not a setting`);
  });
});
