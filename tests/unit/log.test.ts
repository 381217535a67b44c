import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, fstatSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createLogger, syslogPriority } from '../../src/log.ts';

const NODE = process.execPath;
const LOG_MODULE = fileURLToPath(new URL('../../src/log.ts', import.meta.url));

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  let out = '';
  const stream = new Writable({ write(chunk: Buffer, _e, cb) { out += chunk.toString(); cb(); } });
  return { stream, lines: () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

/**
 * A real child process that logs one line per level through createLogger and exits at once
 * (process.exit right after the last line: a line still buffered would be lost).
 */
function childScript(dir: string, fd: 1 | 2): string {
  const file = path.join(dir, 'child.mjs');
  writeFileSync(file, [
    `import { createLogger } from ${JSON.stringify(LOG_MODULE)};`,
    `const log = createLogger({ level: 'trace', fd: ${fd} });`,
    `log.trace('t'); log.debug('d'); log.info({ at: Date.now(), path: 'dog/a.png' }, 'i'); log.warn('w'); log.error('e'); log.fatal('f');`,
    'process.exit(0);',
  ].join('\n'));
  return file;
}

function withTempDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'animal-sync-log-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the child with its stdout and stderr going to `out`, as systemd connects a service to the journal. */
function runInto(dir: string, fd: 1 | 2, env: NodeJS.ProcessEnv, journalStreamOf?: string): string[] {
  const out = path.join(dir, 'out.log');
  const handle = openSync(out, 'w');
  try {
    let journal = '';
    if (journalStreamOf !== undefined) {
      const other = journalStreamOf === out ? null : openSync(journalStreamOf, 'w');
      const st = fstatSync(other ?? handle);
      if (other !== null) closeSync(other);
      journal = `${st.dev}:${st.ino}`;
    }
    const child = spawnSync(NODE, [childScript(dir, fd)], {
      stdio: ['ignore', handle, handle],
      env: { PATH: process.env.PATH, ...env, ...(journal ? { JOURNAL_STREAM: journal } : {}) },
      timeout: 20_000,
    });
    assert.equal(child.status, 0);
  } finally {
    closeSync(handle);
  }
  return readFileSync(out, 'utf8').split('\n').filter(Boolean);
}

describe('log', () => {
  it('writes JSON lines with level names and redacts secrets', () => {
    const c = capture();
    const log = createLogger({ level: 'info', destination: c.stream });
    log.info({ credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'very-secret' }, headers: { authorization: 'AWS4-HMAC-SHA256 Credential=...' }, AWS_SECRET_ACCESS_KEY: 'also-secret' }, 'hello');
    log.error('broken');
    const [line, error] = c.lines();
    assert.equal(line!.msg, 'hello');
    assert.equal(line!.level, 'info');
    assert.equal(error!.level, 'error');
    const text = JSON.stringify(line);
    assert.ok(!text.includes('very-secret') && !text.includes('also-secret') && !text.includes('AWS4-HMAC'), text);
    assert.match(text, /\[redacted\]/);
    assert.equal((line!.credentials as Record<string, string>).accessKeyId, 'AKIAEXAMPLE');
  });

  it('readable lines go to `out` when given (a progress bar prints them above itself)', () => {
    let out = '';
    const stream = new Writable({ write(chunk: Buffer, _e, cb) { out += chunk.toString(); cb(); } });
    const log = createLogger({ json: false, out: stream, env: { NO_COLOR: '1' } });
    log.warn({ path: 'dog/a.png' }, 'skipped');
    assert.match(out, /^\[\d\d:\d\d:\d\d\] WARN: skipped \{"path":"dog\/a.png"\}\n$/);
  });

  it('maps pino levels to syslog priorities: fatal crit, error err, warn warning, info, debug and trace debug', () => {
    assert.deepEqual([60, 50, 40, 30, 20, 10].map(syslogPriority), [2, 3, 4, 6, 7, 7]);
  });

  it('on the journal stream (JOURNAL_STREAM names it) each line starts with its syslog priority, all flushed before exit', () => {
    withTempDir((dir) => {
      for (const fd of [1, 2] as const) {
        const lines = runInto(dir, fd, {}, path.join(dir, 'out.log'));
        assert.deepEqual(lines.map((l) => l.slice(0, 3)), ['<7>', '<7>', '<6>', '<4>', '<3>', '<2>'], lines.join('\n'));
        const parsed = lines.map((l) => JSON.parse(l.slice(3)) as Record<string, unknown>);
        assert.deepEqual(parsed.map((l) => [l.level, l.msg]), [['trace', 't'], ['debug', 'd'], ['info', 'i'], ['warn', 'w'], ['error', 'e'], ['fatal', 'f']]);
      }
    });
  });

  it('JOURNAL_STREAM naming another stream (a child of the service writing to a file) leaves the lines plain JSON', () => {
    withTempDir((dir) => {
      const lines = runInto(dir, 1, {}, path.join(dir, 'elsewhere.log'));
      assert.equal(lines.length, 6, lines.join('\n'));
      assert.deepEqual(lines.map((l) => (JSON.parse(l) as { level: string }).level), ['trace', 'debug', 'info', 'warn', 'error', 'fatal']);
    });
  });

  it('on a terminal: readable lines in local time, colourless with NO_COLOR, flushed before exit', () => {
    withTempDir((dir) => {
      const script = childScript(dir, 2);
      // script(1) runs the child on a pseudo-terminal; the child's stderr is that terminal.
      const run = spawnSync('script', ['-q', '-e', '-c', `${JSON.stringify(NODE)} ${JSON.stringify(script)}`, '/dev/null'], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH, TZ: 'Asia/Kolkata', NO_COLOR: '1', TERM: 'dumb' },
        timeout: 20_000,
      });
      assert.equal(run.status, 0, run.stderr);
      const lines = run.stdout.split(/\r?\n/).filter(Boolean);
      assert.equal(lines.length, 6, run.stdout);
      const info = /^\[(\d\d:\d\d:\d\d)\] INFO: i \{"at":(\d+),"path":"dog\/a.png"\}$/.exec(lines[2]!);
      assert.ok(info, `not a readable info line: ${JSON.stringify(lines[2])}`);
      // The line's time is taken just after `at`: the same second, or the next one.
      const clock = (ms: number) => new Date(ms).toLocaleTimeString('en-GB', { timeZone: 'Asia/Kolkata', hour12: false });
      const at = Number(info[2]);
      assert.ok([clock(at), clock(at + 1000)].includes(info[1]!), `${info[1]} is not Asia/Kolkata time of ${new Date(at).toISOString()}`);
      assert.deepEqual(lines.map((l) => /\] (\w+):/.exec(l)?.[1]), ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL']);
      assert.ok(!run.stdout.includes('\u001b['), 'NO_COLOR: no escape sequences');
    });
  });
});
