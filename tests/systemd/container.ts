// A real systemd for the service tests: Debian bookworm's systemd 252 booted as PID 1 of a
// systemd-nspawn container, from the root file system that build-rootfs.sh caches. The host
// has neither systemd nor D-Bus, hence --register=no and --keep-unit; commands run inside
// through nsenter into the container's PID 1. --volatile=overlay puts a tmpfs over the cached
// tree, so every boot starts from the same clean system and the cache is never written.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ROOT, waitFor } from '../helpers/cli.ts';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Container {
  /** Host pid of the container's PID 1. */
  leader: number;
  /** The container's root as the host sees it (/proc/<leader>/root). */
  root: string;
  /** Runs argv inside the container, as root (all of PID 1's namespaces). */
  run(argv: string[], opts?: { input?: string | Buffer; timeoutMs?: number; env?: Record<string, string> }): Promise<Run>;
  /** run(), and throws with the output unless it exits 0. */
  must(argv: string[], opts?: { input?: string | Buffer; timeoutMs?: number; env?: Record<string, string> }): Promise<string>;
  /** Shuts the container down (systemd's own shutdown), killing it if that takes too long. */
  stop(): Promise<void>;
  /** What the container printed on its console (boot messages), for failure reports. */
  console(): string;
}

export const CHECKOUT_INSIDE = '/opt/animal-sync';
const BUILD_SCRIPT = path.join(ROOT, 'tests', 'systemd', 'build-rootfs.sh');

/** Why this machine cannot run the suite, or null when it can. */
export function missingPrerequisite(): string | null {
  if (process.getuid?.() !== 0) return 'systemd-nspawn needs root';
  for (const [tool, pkg] of [['systemd-nspawn', 'systemd-container'], ['debootstrap', 'debootstrap'], ['nsenter', 'util-linux'], ['flock', 'util-linux']]) {
    if (!['/usr/bin', '/usr/sbin', '/bin', '/sbin'].some((d) => existsSync(path.join(d, tool!)))) return `${tool} is not installed (apt-get install ${pkg}; .ci/run installs it)`;
  }
  if (!existsSync(path.join(ROOT, 'node_modules', 'node', 'bin', 'node'))) return 'node_modules/node is missing: run npm ci';
  // The checkout is bind-mounted at /opt/animal-sync for the service's own user: a clone into a
  // private folder (mktemp -d makes 0700) fails at `systemctl start` with nothing in its log.
  if ((statSync(ROOT).mode & 0o005) !== 0o005) return `the checkout ${ROOT} is not readable by other users, as the service user needs (chmod a+rx ${ROOT}; .ci/run does it)`;
  return null;
}

export function execRun(cmd: string, args: string[], opts: { input?: string | Buffer; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024, env: opts.env, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = (err as (NodeJS.ErrnoException & { killed?: boolean }) | null)?.code;
      if (code === 'ENOENT') return reject(new Error(`${cmd} is not installed`));
      if (err && (err as { killed?: boolean }).killed) return reject(new Error(`${cmd} ${args.join(' ')} timed out after ${opts.timeoutMs ?? 60_000} ms\n${stdout}${stderr}`));
      resolve({ code: typeof code === 'number' ? code : err ? 1 : 0, stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    else child.stdin!.end();
  });
}

/** Builds the cached root file system if it is missing or incomplete; returns its path. */
export async function rootfs(): Promise<string> {
  const run = await execRun('sh', [BUILD_SCRIPT], { timeoutMs: 20 * 60_000 });
  if (run.code !== 0) throw new Error(`building the container's root file system failed:\n${run.stderr}`);
  return run.stdout.trim().split('\n').at(-1)!;
}

/** The pid of the container's systemd: the child of systemd-nspawn. */
function leaderOf(nspawnPid: number): number | null {
  try {
    const children = readFileSync(`/proc/${nspawnPid}/task/${nspawnPid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    for (const pid of children) if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'systemd') return pid;
  } catch {
    // nspawn has not forked yet, or has exited.
  }
  return null;
}

export async function bootContainer(opts: { rootfs: string; consoleLog: string }): Promise<Container> {
  const out = openSync(opts.consoleLog, 'w');
  // The checkout read-only: install steps run as root inside and must not change the host's files.
  const child: ChildProcess = spawn('systemd-nspawn', [
    '-D', opts.rootfs, '--volatile=overlay', '--register=no', '--keep-unit', '--console=read-only', '-b',
    // norbind: the root fs cache inside the checkout has the container's own mounts below it.
    `--bind-ro=${ROOT}:${CHECKOUT_INSIDE}:norbind`,
  ], { stdio: ['ignore', out, out] });
  closeSync(out);
  let exited = false;
  const exit = new Promise<void>((resolve) => child.on('exit', () => ((exited = true), resolve())));
  const consoleText = (): string => (existsSync(opts.consoleLog) ? readFileSync(opts.consoleLog, 'utf8') : '');
  const leader = await waitFor('the container to start systemd', () => {
    if (exited) throw new Error(`systemd-nspawn exited at start:\n${consoleText()}`);
    return leaderOf(child.pid!);
  }, 30_000, 20).catch((err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  });
  const run: Container['run'] = (argv, o = {}) =>
    execRun('nsenter', ['-t', String(leader), '-a', ...(o.env ? ['env', ...Object.entries(o.env).map(([k, v]) => `${k}=${v}`)] : []), ...argv], { input: o.input, timeoutMs: o.timeoutMs });
  const container: Container = {
    leader,
    root: `/proc/${leader}/root`,
    run,
    async must(argv, o) {
      const r = await run(argv, o);
      if (r.code !== 0) throw new Error(`inside the container, \`${argv.join(' ')}\` exited ${r.code}:\n${r.stdout}${r.stderr}`);
      return r.stdout;
    },
    async stop() {
      if (exited) return;
      // SIGTERM to nspawn = a clean shutdown of the container's systemd.
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exit;
      clearTimeout(timer);
    },
    console: consoleText,
  };
  // "degraded" (some unit of the minimal system failed) still runs services. Until the
  // manager listens on its socket, systemctl fails at once: ask again.
  try {
    await waitFor('the container to finish booting', async () => {
      const r = await run(['systemctl', 'is-system-running', '--wait'], { timeoutMs: 60_000 });
      const s = r.stdout.trim();
      if (s && !['running', 'degraded', 'initializing', 'starting'].includes(s)) throw new Error(`the container's systemd is ${s}`);
      return ['running', 'degraded'].includes(s);
    }, 60_000, 50);
  } catch (err) {
    await container.stop();
    throw new Error(`the container's systemd did not come up (${String(err)}):\n${consoleText()}`, { cause: err });
  }
  return container;
}
