// Helpers of the bench scripts for child processes: start a server script and wait for its
// `ready <endpoint>` line, and run a command under /usr/bin/time for its whole-tree CPU and RSS.
import { spawn, type ChildProcess } from 'node:child_process';

export const NODE = process.execPath;

export interface ServerChild {
  child: ChildProcess;
  endpoint: string;
  stop(): Promise<void>;
}

/** Starts `node <script> <args>` and resolves once it printed `ready <endpoint>`. */
export function startServerScript(script: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<ServerChild> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, ['--openssl-legacy-provider', script, ...args], { env, stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    const onData = (d: Buffer): void => {
      out += d;
      const m = /ready (\S+)/.exec(out);
      if (!m) return;
      child.stdout!.off('data', onData);
      child.stdout!.resume();
      resolve({
        child,
        endpoint: m[1]!,
        stop: () => new Promise<void>((done) => {
          if (child.exitCode !== null) return done();
          child.once('exit', () => done());
          child.kill('SIGTERM');
        }),
      });
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before it was ready: ${out}`)));
    process.once('exit', () => child.kill('SIGKILL'));
  });
}

export interface TimedRun {
  ms: number;
  /** User + system CPU seconds of the command and all its (waited-for) children. */
  cpuS: number;
  /** The two halves of cpuS. */
  userS: number;
  sysS: number;
  /** Peak RSS of the largest single process of the tree, MiB (what /usr/bin/time reports). */
  rssMiB: number;
  stdout: string;
  stderr: string;
  code: number | null;
}

/** Runs `cmd` under /usr/bin/time; async so that servers in this process keep answering. */
export function timeCommand(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<TimedRun> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn('/usr/bin/time', ['-f', 'TIME user=%U sys=%S maxrss=%M', cmd, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('close', (code) => {
      const ms = performance.now() - t0;
      const m = /TIME user=([\d.]+) sys=([\d.]+) maxrss=(\d+)/.exec(stderr);
      resolve({
        ms, code, stdout, stderr: stderr.replace(/^TIME .*$/m, '').trim(),
        cpuS: m ? Number(m[1]) + Number(m[2]) : NaN, userS: m ? Number(m[1]) : NaN, sysS: m ? Number(m[2]) : NaN, rssMiB: m ? Number(m[3]) / 1024 : NaN,
      });
    });
  });
}
