// Readable log lines say each thing once: fields whose value the message already holds are left out.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withoutEchoes } from '../../src/log.ts';

describe('readable lines', () => {
  it('leave out the fields the message repeats, and keep the others', () => {
    const line = JSON.stringify({ level: 'warn', path: 'dog/a.png', reason: 'not a PNG', attempts: 2, msg: 'skipped dog/a.png: not a PNG' });
    assert.deepEqual(JSON.parse(withoutEchoes(line)), { level: 'warn', attempts: 2, msg: 'skipped dog/a.png: not a PNG' });
  });

  it('leave a line alone when nothing is repeated, or when it is not JSON', () => {
    const line = JSON.stringify({ level: 'info', inbox: '/srv/inbox', msg: 'watching' });
    assert.equal(withoutEchoes(line), line);
    assert.equal(withoutEchoes('plain text'), 'plain text');
  });
});
