// What stops `local` for a newcomer: npm being signalled or killed (npm start), and SIGHUP (the
// terminal closing). Each must leave no process behind and the ports free.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { BIN, ROOT, waitFor } from '../helpers/cli.ts';
import { freePort, tempDir } from '../helpers/stack.ts';

/** Pids of processes whose command line mentions `needle` (the test's own data dir). */
function processesWith(needle: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', needle], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

const dirs: string[] = [];
after(() => {
  // Also when a test failed: nothing of its stack outlives the file.
  for (const d of dirs) {
    for (const pid of processesWith(d)) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    rmSync(d, { recursive: true, force: true });
  }
});

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

interface Started {
  child: ChildProcess;
  exited: Promise<number | null>;
  dataDir: string;
  ports: number[];
  output(): string;
}

async function start(cmd: string, args: string[], opts: { sync?: boolean } = {}): Promise<Started> {
  const work = tempDir('animal-sync-test-');
  dirs.push(work);
  const dataDir = path.join(work, 'data');
  const ports = [await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = { ...process.env, ANIMAL_SYNC_LOG_FORMAT: 'json', NODE_DISABLE_COMPILE_CACHE: '1' };
  for (const k of Object.keys(env)) if (k.startsWith('npm_') || k.startsWith('AWS_ENDPOINT_URL')) delete env[k];
  const child = spawn(cmd, [...args, '--data-dir', dataDir, '--s3-port', String(ports[0]), '--dynamodb-port', String(ports[1]),
    '--inbox', path.join(work, 'inbox'), '--state-dir', path.join(work, 'state'), ...(opts.sync ? [] : ['--no-sync'])],
  { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  await waitFor('local stack up', () => /Press Ctrl-C to stop/.test(out), 90000).catch((err) => { throw new Error(`${err}\n${out}`); });
  return { child, exited, dataDir, ports, output: () => out };
}

async function assertAllGone(s: Started): Promise<void> {
  await waitFor('no process of this stack', () => processesWith(s.dataDir).length === 0, 10000)
    .catch((err) => { throw new Error(`${err}: still running ${processesWith(s.dataDir).join(', ')}\n${s.output()}`); });
  for (const p of s.ports) assert.ok(await waitFor(`port ${p} free`, () => portFree(p), 10000));
}

describe('stopping `local`', () => {
  it('SIGTERM to the npm process of `npm start` stops the stack: no process left, ports free', async () => {
    const s = await start('npm', ['start', '--silent', '--']);
    process.kill(s.child.pid!, 'SIGTERM');
    await assertAllGone(s);
    assert.match(s.output(), /local stack stopped/);
  });

  it('SIGKILL of the npm process (it cannot pass anything on) stops the stack too', async () => {
    const s = await start('npm', ['start', '--silent', '--']);
    process.kill(s.child.pid!, 'SIGKILL');
    await assertAllGone(s);
  });

  it('SIGHUP (the terminal closing) stops `local` as cleanly as SIGTERM: exit 0, a log line, no stale lock', async () => {
    const s = await start(BIN, ['local'], { sync: true });
    const stateDir = path.join(s.dataDir, '..', 'state');
    assert.ok(readdirSync(stateDir).some((f) => /lock/.test(f)), 'the daemon holds its lock while running');
    process.kill(s.child.pid!, 'SIGHUP');
    assert.equal(await s.exited, 0);
    assert.match(s.output(), /"signal":"SIGHUP".*stopping the local stack/);
    assert.match(s.output(), /local stack stopped/);
    await assertAllGone(s);
    assert.deepEqual(readdirSync(stateDir).filter((f) => /lock/.test(f)), [], 'no stale lock');
  });

  it('outside npm, `local` does not stop when its parent goes (nohup … & keeps running on purpose)', async () => {
    // A shell that starts local in the background and exits at once: local is re-parented.
    const work = tempDir('animal-sync-test-');
    dirs.push(work);
    const [s3, ddb] = [await freePort(), await freePort()];
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('npm_')) delete env[k];
    const log = path.join(work, 'out.log');
    execFileSync('sh', ['-c', `"${BIN}" local --data-dir "${work}/data" --s3-port ${s3} --dynamodb-port ${ddb} --inbox "${work}/inbox" --state-dir "${work}/state" --no-sync >"${log}" 2>&1 &`], { env });
    try {
      await waitFor('local up', () => execFileSync('cat', [log], { encoding: 'utf8' }).includes('Press Ctrl-C to stop'), 90000);
      // Well past the parent watch's interval: still running.
      await new Promise((r) => setTimeout(r, 1500));
      assert.ok(processesWith(`${work}/data`).length > 0, 'still running');
    } finally {
      for (const pid of processesWith(`${work}/data`)) {
        try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
      }
      await waitFor('stopped', () => processesWith(`${work}/data`).length === 0, 15000);
    }
  });
});
