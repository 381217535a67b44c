// What the running service itself can see and do under the shipped unit (systemd 252 in a
// systemd-nspawn container, installed by systemd/README.md): its process's privileges from
// /proc/<main pid>, and writes tried inside *its* namespaces (nsenter into the main
// process's mount namespace, as its user) — not a look-alike started by systemd-run. Then
// `systemd-analyze security`, the LoadCredential= hand-over of AWS keys, and the journal.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, waitFor } from '../helpers/cli.ts';
import { daemonRecords, INBOX, levelNumber, skipReason, startWorld, UNIT, type World } from './fixture.ts';
import { CAMERA_USER, readmeSecurityScore } from './install.ts';

const skip = skipReason();
const SERVICE_USER = 'animal-sync';
const CREDENTIALS_DIR = `/run/credentials/${UNIT}.service`;

describe('animal-sync.service: sandbox, credentials and journal, from the running service', { skip }, () => {
  let w: World;
  before(async (t) => {
    w = await startWorld(t);
  });
  after(async () => {
    await w?.stop();
  });

  /** A shell script run in all of the main process's namespaces, as `user`; returns its output. */
  async function inService(script: string, user: string | null = SERVICE_USER): Promise<string> {
    const pid = await w.mainPid();
    const as = user ? ['setpriv', `--reuid=${user}`, `--regid=${user}`, '--init-groups'] : [];
    return w.c.must(['nsenter', '-t', String(pid), '-m', '-i', '-u', '--', ...as, 'sh', '-c', script]);
  }

  /** Tries to create each file; `path<TAB>ok` or `path<TAB>the shell's error`. */
  async function tryWrites(paths: string[], user: string | null): Promise<Map<string, string>> {
    const script = `for p in ${paths.map((p) => `'${p}'`).join(' ')}; do
      if err=$( { echo probe > "$p"; } 2>&1 ); then rm -f "$p"; echo "$p	ok"; else echo "$p	$err"; fi
    done`;
    const out = await inService(script, user);
    return new Map(out.trim().split('\n').map((l) => [l.slice(0, l.indexOf('\t')), l.slice(l.indexOf('\t') + 1)]));
  }

  const OWN_DIRS = [`${INBOX}/probe`, '/var/lib/animal-sync/probe', '/var/log/animal-sync/probe'];
  const ELSEWHERE = [
    '/etc/probe', '/etc/animal-sync/probe', '/opt/animal-sync/probe', '/usr/local/bin/probe', '/var/probe', '/var/lib/probe',
    '/srv/probe', '/srv/animal-sync/probe', '/run/probe', '/run/lock/probe', '/dev/shm/probe', '/root/probe', `/home/${CAMERA_USER}/probe`,
  ];

  test('its process has no new privileges, no capabilities, a seccomp filter, and runs as the service user', async () => {
    const pid = await w.mainPid();
    const status = await w.c.must(['cat', `/proc/${pid}/status`]);
    const field = (name: string): string => new RegExp(`^${name}:\\s+(.*)$`, 'm').exec(status)?.[1]?.trim() ?? `(no ${name})`;
    assert.equal(field('NoNewPrivs'), '1');
    for (const caps of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) assert.equal(field(caps), '0000000000000000', caps);
    assert.equal(field('Seccomp'), '2', 'a seccomp filter is applied (SystemCallFilter=)');
    const uid = (await w.c.must(['id', '-u', SERVICE_USER])).trim();
    assert.deepEqual(field('Uid').split(/\s+/), [uid, uid, uid, uid]);
  });

  test('its mounts: / read-only, the inbox and its own directories writable', async () => {
    const pid = await w.mainPid();
    const mounts = new Map<string, string[]>();
    // mountinfo: id parent major:minor root mountpoint options ... (the last entry per point wins)
    for (const l of (await w.c.must(['cat', `/proc/${pid}/mountinfo`])).trim().split('\n')) {
      const f = l.split(' ');
      mounts.set(f[4]!, f[5]!.split(','));
    }
    assert.ok(mounts.get('/')?.includes('ro'), `/ is read-only: ${String(mounts.get('/'))}`);
    for (const dir of [INBOX, '/var/lib/animal-sync', '/var/log/animal-sync']) assert.ok(mounts.get(dir)?.includes('rw'), `${dir} is a writable mount: ${String(mounts.get(dir))}`);
    for (const dir of ['/home', '/root']) assert.ok(mounts.get(dir)?.includes('ro'), `${dir} is covered: ${String(mounts.get(dir))}`);
  });

  test('as the service, it can write to the inbox and its own directories and nowhere else', async () => {
    const results = await tryWrites([...OWN_DIRS, ...ELSEWHERE], SERVICE_USER);
    for (const p of OWN_DIRS) assert.equal(results.get(p), 'ok', p);
    for (const p of ELSEWHERE) assert.match(results.get(p) ?? '(not tried)', /Read-only file system|Permission denied/, p);
    // Even root in its mount namespace cannot write there: the mounts are read-only, not just
    // the modes (and /home is empty: ProtectHome=).
    const asRoot = await tryWrites(ELSEWHERE, null);
    for (const p of ELSEWHERE) assert.match(asRoot.get(p) ?? '(not tried)', /Read-only file system|Directory nonexistent/, `${p} as root`);
  });

  test('its /tmp is its own (PrivateTmp=): what it writes there is not in the system\'s /tmp', async () => {
    const name = `/tmp/animal-sync-private-${process.pid}`;
    assert.equal((await tryWrites([name], SERVICE_USER)).get(name), 'ok');
    await inService(`echo probe > ${name}`);
    assert.equal((await w.c.run(['test', '-e', name])).code, 1, `${name} is not visible outside the service`);
  });

  test('/home is invisible to it (ProtectHome=yes), though the camera user\'s file is there', async () => {
    assert.equal((await w.c.must(['cat', `/home/${CAMERA_USER}/secret.txt`])).trim(), 'private');
    const out = await inService(`ls -A /home 2>/dev/null || echo 'cannot list /home'; cat /home/${CAMERA_USER}/secret.txt 2>/dev/null || echo 'cannot read the file'`);
    assert.equal(out, 'cannot list /home\ncannot read the file\n');
    assert.equal((await inService('ls -A /home /root', null)).replace(/\/\w+:\n?/g, '').trim(), '', 'empty even for root');
  });

  test('systemd-analyze security rates the running unit no worse than systemd/README.md says', async (t) => {
    const out = await w.c.must(['systemd-analyze', 'security', '--no-pager', UNIT]);
    const m = /Overall exposure level for animal-sync\.service: (\d+(?:\.\d+)?) (\w+)/.exec(out);
    assert.ok(m, out);
    const stated = readmeSecurityScore();
    t.diagnostic(`systemd-analyze security inside: ${m[1]} ${m[2]} (README: ${stated})`);
    assert.ok(Number(m[1]) <= stated, `exposure ${m[1]} is worse than the README's ${stated}:\n${out}`);
  });

  test('LoadCredential= hands the AWS credentials file to the service only, as the README describes', async () => {
    await w.drop('owl/with-credentials.png');
    await w.waitConverged();
    const env = (await w.c.must(['cat', `/proc/${await w.mainPid()}/environ`])).split('\0');
    assert.ok(env.includes(`AWS_SHARED_CREDENTIALS_FILE=${CREDENTIALS_DIR}/aws-credentials`), env.join('\n'));
    assert.deepEqual(env.filter((e) => /^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|PROFILE)=/.test(e)), [], 'no keys in its environment: the file is what signed the uploads');
    const source = '/etc/animal-sync/aws-credentials';
    assert.equal((await w.c.must(['stat', '-c', '%a %U', source])).trim(), '600 root');
    const original = await w.c.must(['cat', source]);
    assert.equal(await inService(`cat ${CREDENTIALS_DIR}/aws-credentials`), original, 'the service reads its private copy');
    assert.match(await inService(`cat ${source} 2>&1 || true`), /Permission denied/, 'but not the file itself');
    const other = await w.c.run(['sudo', '-u', CAMERA_USER, 'cat', `${CREDENTIALS_DIR}/aws-credentials`]);
    assert.notEqual(other.code, 0, 'another user cannot read the service\'s copy');
  });

  test('journalctl -u animal-sync -p err shows the daemon\'s errors', async (t) => {
    const marker = `${INBOX}/.animal-sync-inbox`;
    await w.c.must(['rm', marker]);
    t.after(() => w.c.must(['sudo', '-u', SERVICE_USER, 'touch', marker]));
    const cursor = await w.cursor();
    assert.equal((await w.systemctl('reload', UNIT)).code, 0);
    // journalctl -o json: the record as journald filed it, with its PRIORITY.
    const entry = await waitFor('the daemon\'s marker error in the journal', async () => {
      const lines = (await w.c.must(['journalctl', '-u', UNIT, '--no-pager', '-o', 'json', '--after-cursor', cursor])).trim().split('\n').filter(Boolean);
      return lines.map((l) => JSON.parse(l) as { MESSAGE: string; PRIORITY: string }).find((e) => /inbox marker missing/.test(e.MESSAGE));
    });
    const record = daemonRecords(entry.MESSAGE)[0];
    assert.ok(record, entry.MESSAGE);
    assert.equal(levelNumber(record), 50, 'an error record');
    // The whole journal of this container's boot: journalctl 252 finds nothing when
    // --after-cursor is combined with -p (the cursor's own entry does not match the filter).
    const errOnly = await w.journal(undefined, '-p', 'err');
    // src/log.ts writes syslog priority prefixes (<3>) when journald is its stdout
    // (JOURNAL_STREAM); until it does, journald files every line at the stream's level, info.
    const prefixes = readFileSync(path.join(ROOT, 'src', 'log.ts'), 'utf8').includes('JOURNAL_STREAM');
    if (prefixes || entry.PRIORITY === '3') {
      assert.equal(entry.PRIORITY, '3', 'the error record is filed at priority err');
      assert.match(errOnly, /inbox marker missing/);
      assert.deepEqual(daemonRecords(errOnly).filter((r) => levelNumber(r) < 50), [], '-p err shows no info or warning lines');
    } else {
      assert.equal(entry.PRIORITY, '6', 'today: filed at info, like every stdout line');
      assert.doesNotMatch(errOnly, /inbox marker missing/, 'today: -p err does not show it');
      t.skip('today the daemon writes pino JSON without <N> prefixes, so journald files its errors at info: -p err cannot show them yet');
    }
  });
});
