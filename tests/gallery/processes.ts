// The CLI as the gallery tests run it: `local` (servers, daemon, stream runner and gallery) in a
// temp folder, or `serve` against an existing catalogue; both on free ports, stopped by SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { BIN, waitFor } from '../helpers/cli.ts';
import { freePort } from '../helpers/stack.ts';

export interface RunningCli {
  child: ChildProcess;
  /** The gallery's base URL as the command printed it (ends with "/"). */
  url: string;
  output(): string;
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

async function run(args: string[], env: NodeJS.ProcessEnv, cwd: string, ready: RegExp): Promise<RunningCli> {
  const child = spawn(BIN, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  let url: string;
  try {
    url = await waitFor(`${args[0]} to print the gallery URL`, () => ready.exec(out)?.[1], 90_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${String(err)}\n${out}`, { cause: err });
  }
  return {
    child, url, exited, output: () => out,
    stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

export async function startLocal(cwd: string, galleryPort?: number): Promise<RunningCli & { env: Record<string, string> }> {
  const env: NodeJS.ProcessEnv = { ...process.env, ANIMAL_SYNC_LOG_FORMAT: 'json', ANIMAL_SYNC_STABILITY_MS: '100' };
  for (const k of ['AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL_DYNAMODB', 'AWS_ENDPOINT_URL_DYNAMODB_STREAMS']) delete env[k];
  const args = ['local', '--s3-port', String(await freePort()), '--dynamodb-port', String(await freePort()), '--gallery-port', String(galleryPort ?? await freePort())];
  const cli = await run(args, env, cwd, /^ {2}gallery +(http:\/\/\S+\/)/m);
  await waitFor('local to be up', () => /Press Ctrl-C to stop/.test(cli.output()), 30_000);
  const exports = Object.fromEntries([...cli.output().matchAll(/^export (\w+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
  return { ...cli, env: exports };
}

export async function startServe(env: NodeJS.ProcessEnv, cwd: string, args: string[] = [], port?: number): Promise<RunningCli> {
  return run(['serve', '--address', `127.0.0.1:${port ?? await freePort()}`, ...args], env, cwd, /^gallery {2}(http:\/\/\S+\/)/m);
}
