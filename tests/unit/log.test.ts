import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger, prettyLine } from '../../src/log.ts';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  let out = '';
  const stream = new Writable({ write(chunk: Buffer, _e, cb) { out += chunk.toString(); cb(); } });
  return { stream, lines: () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('log', () => {
  it('writes JSON lines and redacts secrets', () => {
    const c = capture();
    const log = createLogger({ level: 'info', destination: c.stream });
    log.info({ credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'very-secret' }, headers: { authorization: 'AWS4-HMAC-SHA256 Credential=...' }, AWS_SECRET_ACCESS_KEY: 'also-secret' }, 'hello');
    const [line] = c.lines();
    assert.equal(line!.msg, 'hello');
    const text = JSON.stringify(line);
    assert.ok(!text.includes('very-secret') && !text.includes('also-secret') && !text.includes('AWS4-HMAC'), text);
    assert.match(text, /\[redacted\]/);
    assert.equal((line!.credentials as Record<string, string>).accessKeyId, 'AKIAEXAMPLE');
  });

  it('renders a readable line for terminals', () => {
    const line = prettyLine(JSON.stringify({ level: 40, time: Date.UTC(2026, 0, 1, 12, 34, 56), pid: 1, msg: 'skipped dog/a.png: dotfile', path: 'dog/a.png' }));
    assert.equal(line, '12:34:56 WARN  skipped dog/a.png: dotfile path=dog/a.png');
  });
});
