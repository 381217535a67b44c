// One test file's world: the real local stack on the host (its S3 side behind a fault proxy
// that forwards everything until a test slows it down), a booted container, the service
// installed by the README's steps and pointed at that stack, and the helpers the tests share.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../../src/config.ts';
import { LOCAL_CREDENTIALS } from '../../src/local/stack.ts';
import { waitFor } from '../helpers/cli.ts';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.ts';
import { makePng } from '../helpers/png.ts';
import { freePort, startTestStack, tempDir, type TestStack } from '../helpers/stack.ts';
import { assertConverged, setupSync, type SyncSetup } from '../helpers/sync.ts';
import { bootContainer, missingPrerequisite, rootfs, type Container } from './container.ts';
import { CAMERA_USER, installByReadme } from './install.ts';

export const UNIT = 'animal-sync';
export const INBOX = '/srv/animal-sync/inbox';
export const HOST_ID = 'cam-01';
export const ANIMALS = ['dog', 'owl', 'fox'];

/**
 * The reason to skip the suite, or null. In CI (CI=true, as root) a missing prerequisite is an
 * error, not a skip: the suite must never pass there by not running.
 */
export function skipReason(): string | false {
  const why = missingPrerequisite();
  if (!why) return false;
  if (process.env.CI === 'true') throw new Error(`tests/systemd cannot run in CI: ${why}`);
  return `${why}; the systemd suite runs as root with systemd-nspawn (see systemd/README.md)`;
}

export interface World {
  stack: TestStack;
  s3: FaultProxy;
  c: Container;
  /** The catalogue, with the inbox as the host sees it inside the container. */
  s: SyncSetup;
  healthUrl: string;
  systemctl(...args: string[]): Promise<{ code: number; out: string }>;
  /** `systemctl show -p NAME` for each name, timestamps in µs and UTC. */
  show(...names: string[]): Promise<Record<string, string>>;
  mainPid(): Promise<number>;
  /** The journal's cursor now: journal() after it shows only what came later. */
  cursor(): Promise<string>;
  journal(after?: string, ...args: string[]): Promise<string>;
  /** A PNG dropped into the inbox by the camera user, from inside the container. */
  drop(sourcePath: string, opts?: { padTo?: number }): Promise<void>;
  waitConverged(timeoutMs?: number): Promise<void>;
  /** Back to a running service with a clean start-limit counter, converged. */
  recover(): Promise<void>;
  stop(): Promise<void>;
  timings: Record<string, number>;
}

let seed = 1000;

export async function startWorld(t: { diagnostic(m: string): void }): Promise<World> {
  const timings: Record<string, number> = {};
  const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    const at = Date.now();
    try {
      return await f();
    } finally {
      timings[name] = Date.now() - at;
      t.diagnostic(`${name}: ${((Date.now() - at) / 1000).toFixed(1)} s`);
    }
  };
  const tree = await timed('root fs (build or cache)', rootfs);
  const stack = await timed('local stack', startTestStack);
  const logDir = tempDir('animal-sync-nspawn-');
  const cleanup: (() => Promise<void> | void)[] = [() => stack.stop(), () => rmSync(logDir, { recursive: true, force: true })];
  const stop = async (): Promise<void> => {
    for (const f of cleanup.reverse()) await Promise.resolve(f()).catch(() => undefined);
  };
  try {
    const s3 = await startFaultProxy(stack.s3Endpoint);
    cleanup.push(() => s3.stop());
    const c = await timed('container boot', () => bootContainer({ rootfs: tree, consoleLog: path.join(logDir, 'console.log') }));
    cleanup.push(() => c.stop());
    const base = await setupSync(stack, { hostId: HOST_ID });
    cleanup.push(() => rmSync(base.config.stateDir, { recursive: true, force: true }), () => rmSync(base.configFile, { force: true }));
    const healthPort = await freePort();
    await timed('install by systemd/README.md', () => installByReadme(c, {
      config: { bucket: base.config.bucket, table: base.config.table, healthAddress: `127.0.0.1:${healthPort}` },
      env: {
        AWS_REGION: stack.env.AWS_REGION!, ANIMAL_SYNC_HOST_ID: HOST_ID,
        AWS_ENDPOINT_URL_S3: s3.url, AWS_ENDPOINT_URL_DYNAMODB: stack.dynamodbEndpoint,
      },
      credentials: `[default]\naws_access_key_id = ${LOCAL_CREDENTIALS.AWS_ACCESS_KEY_ID}\naws_secret_access_key = ${LOCAL_CREDENTIALS.AWS_SECRET_ACCESS_KEY}\n`,
    }));
    // The tests look at the inbox from the host, through the container's root.
    const config = { ...base.config, inbox: c.root + INBOX } as Config;
    const s: SyncSetup = { ...base, config, items: (animals) => base.items(animals ?? ANIMALS) };
    const systemctl: World['systemctl'] = async (...args) => {
      const r = await c.run(['systemctl', ...args], { timeoutMs: 120_000 });
      return { code: r.code, out: r.stdout + r.stderr };
    };
    const show: World['show'] = async (...names) => {
      const out = await c.must(['systemctl', 'show', '--timestamp=us+utc', UNIT, ...names.map((n) => `-p${n}`)]);
      return Object.fromEntries(out.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    };
    const mainPid = async (): Promise<number> => Number((await show('MainPID')).MainPID);
    const world: World = {
      stack, s3, c, s, healthUrl: `http://127.0.0.1:${healthPort}`, systemctl, show, mainPid, timings,
      cursor: async () => (await c.must(['journalctl', '-u', UNIT, '-n', '0', '--show-cursor', '--no-pager'])).match(/-- cursor: (\S+)/)?.[1] ?? '',
      journal: async (after, ...args) => c.must(['journalctl', '-u', UNIT, '--no-pager', '-o', 'cat', ...(after ? ['--after-cursor', after] : []), ...args]),
      async drop(sourcePath, opts = {}) {
        const bytes = makePng({ seed: seed++, padTo: opts.padTo, width: 8 + (seed % 5), height: 8 });
        const file = `${INBOX}/${sourcePath}`;
        // Written under a temporary name and renamed, as a careful camera does.
        await c.must(['sudo', '-u', CAMERA_USER, 'sh', '-euc', `mkdir -p "$(dirname "$1")" && cat > "$1.part" && mv "$1.part" "$1"`, 'sh', file], { input: bytes });
      },
      waitConverged: (timeoutMs = 60_000) =>
        waitFor('the catalogue to match the inbox', async () => (await assertConverged(s, { animals: ANIMALS }), true), timeoutMs, 250).then(() => undefined),
      async recover() {
        await systemctl('reset-failed', UNIT);
        const r = await systemctl('start', UNIT);
        assert.equal(r.code, 0, `systemctl start after the test: ${r.out}\n${await world.journal(undefined, '-n', '30')}`);
        await world.waitConverged();
      },
      stop,
    };
    return world;
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface DaemonRecord {
  /** pino's level: a number (50) in older lines, a name ("error") since log.ts writes names. */
  level: number | string;
  time: number;
  msg: string;
  [k: string]: unknown;
}

const LEVEL_NUMBERS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

/** A record's level as pino's number, whichever way the line spells it. */
export function levelNumber(r: DaemonRecord): number {
  return typeof r.level === 'number' ? r.level : (LEVEL_NUMBERS[r.level] ?? NaN);
}

/** The daemon's JSON log records among journal lines (`-o cat`). */
export function daemonRecords(journal: string): DaemonRecord[] {
  return journal.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as DaemonRecord);
}

/** ms since the epoch of a `systemctl show --timestamp=us+utc` value ("Wed 2026-12-02 13:57:32.123456 UTC"). */
export function timestampMs(value: string): number {
  const m = /(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)\.(\d{6}) UTC/.exec(value);
  if (!m) throw new Error(`not a us+utc timestamp: ${JSON.stringify(value)}`);
  return Date.parse(`${m[1]}T${m[2]}Z`) + Number(m[3]) / 1000;
}
