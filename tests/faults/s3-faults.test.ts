// S3 faults through an HTTP fault proxy between the real daemon and the S3 server: 500/503 on
// whole objects and on single multipart parts, connection resets, responses lost after the
// write was applied, and a request that hangs. Once the faults stop, everything converges.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { faultPlan, startFaultProxy, s3Error, type FaultProxy, type PlannedFault } from '../helpers/fault-proxy.ts';
import { assertConvergedAfterFaults, assertHungRequestsTimedOut, daemonThrough, fullReconcile, setupFaultSync, startLambdaLog, waitConverged } from '../helpers/faults.ts';
import { waitFor } from '../helpers/cli.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

const MiB = 1024 * 1024;
const REQUEST_TIMEOUT_MS = 2000;

describe('S3 faults', () => {
  let stack: TestStack;
  before(async () => { stack = await startTestStack(); });
  after(async () => stack?.stop());

  it('500/503 (also on single parts), resets, lost responses and a hang: converges once they stop', async () => {
    const s = await setupFaultSync(stack, {
      partSizeMib: '5', requestTimeoutMs: String(REQUEST_TIMEOUT_MS), maxAttempts: '3', retryBaseMs: '200', concurrency: '4',
    });
    const lambda = await startLambdaLog(s);
    const proxy: FaultProxy = await startFaultProxy(stack.s3Endpoint);
    try {
      // Two files that will be deleted through the faults.
      s.put('fox/old-1.png');
      s.put('fox/old-2.png');
      assert.equal((await s.once()).code, 0);

      const plan: PlannedFault[] = [
        { op: 'PutObject', nth: 1, fault: s3Error(500, 'InternalError', 'injected: internal error') },
        { op: 'PutObject', nth: 2, fault: s3Error(503, 'SlowDown', 'injected: slow down') },
        { op: 'PutObject', nth: 3, fault: { kind: 'reset' } },
        { op: 'PutObject', nth: 4, fault: { kind: 'lose-response' } },
        { op: 'PutObject', nth: 5, fault: { kind: 'hang' } },
        { op: 'CreateMultipartUpload', nth: 1, fault: s3Error(503, 'ServiceUnavailable', 'injected: unavailable') },
        { op: 'UploadPart', nth: 1, when: (r) => r.query.get('partNumber') === '2', fault: s3Error(500, 'InternalError', 'injected: part 2 failed') },
        { op: 'UploadPart', nth: 1, when: (r) => r.query.get('partNumber') === '1', fault: s3Error(503, 'SlowDown', 'injected: part 1 slow down') },
        { op: 'UploadPart', nth: 3, fault: { kind: 'reset' } },
        { op: 'UploadPart', nth: 4, fault: { kind: 'lose-response' } },
        { op: 'UploadPart', nth: 5, fault: { kind: 'hang' } },
        { op: 'CompleteMultipartUpload', nth: 1, fault: { kind: 'lose-response' } },
        { op: 'DeleteObject', nth: 1, fault: s3Error(500, 'InternalError', 'injected: delete failed') },
        { op: 'DeleteObject', nth: 2, fault: { kind: 'reset' } },
      ];
      proxy.setDecide(faultPlan(plan));
      const d = daemonThrough(s, { s3: proxy });
      try {
        await d.waitForLog(/watching/);
        for (let i = 0; i < 12; i++) s.put(`cat/c${i}.png`, { padTo: 2000 + i * 5000 });
        for (let i = 0; i < 3; i++) s.put(`owl/big${i}.png`, { padTo: 11 * MiB + i * 300_000 });
        rmSync(s.file('fox/old-1.png'));
        rmSync(s.file('fox/old-2.png'));
        await waitFor('every planned fault to fire', () => plan.every((f) => f.fired), 60000);
        await waitConverged(s, { animals: ['cat', 'owl', 'fox'], timeoutMs: 60000 });
        await fullReconcile(d);
        const report = await assertConvergedAfterFaults(s, lambda, { animals: ['cat', 'owl', 'fox'] });
        assert.equal(report.items, 15);
        assert.equal(d.child.exitCode, null, 'the daemon is still running');
      } finally {
        assert.equal(await d.stop(), 0);
      }
      await assertConvergedAfterFaults(s, lambda, { animals: ['cat', 'owl', 'fox'], stateDir: s.config.stateDir });
      // Every hung request was given up by the client within its request timeout.
      assertHungRequestsTimedOut(proxy, REQUEST_TIMEOUT_MS, 2);
    } finally {
      await proxy.stop();
      await lambda.stop();
    }
  });

  // Regression: scheduleRetry replaced the pending retry timer, so when a second pass failed
  // before the first one's retry ran, the first pass's files were only retried by the next
  // full scan (10 minutes later by default).
  it('a second failed pass does not cancel the retry of the first one', async () => {
    const s = await setupFaultSync(stack, { retryBaseMs: '2000', maxAttempts: '1', scanIntervalSec: '600' });
    const lambda = await startLambdaLog(s);
    const proxy = await startFaultProxy(stack.s3Endpoint);
    let failing = true;
    // Not a transient error: no retry inside the pass, straight to the daemon's retry timer.
    proxy.setDecide((r) => (failing && r.op === 'PutObject' ? s3Error(403, 'AccessDenied', 'injected: access denied') : { kind: 'forward' }));
    const d = daemonThrough(s, { s3: proxy });
    try {
      await d.waitForLog(/watching/);
      s.put('dog/first.png');
      await d.waitForLog(/will retry 1 failed file/);
      s.put('dog/second.png');
      await d.waitForLog(/failed dog\/second\.png/);
      failing = false;
      // Both retries are due within 2 s + 4 s; the full scan is 10 minutes away.
      await waitConverged(s, { animals: ['dog'], timeoutMs: 15000 });
      const report = await assertConvergedAfterFaults(s, lambda, { animals: ['dog'] });
      assert.equal(report.items, 2);
    } finally {
      assert.equal(await d.stop(), 0);
      await proxy.stop();
      await lambda.stop();
    }
  });

  // Regression: a pass in which an upload failed holds its deletes back, but only the failed
  // uploads were retried: the held-back deletes waited for the next full scan (10 minutes).
  it('deletes held back by a failed upload are made once the upload goes through', async () => {
    const s = await setupFaultSync(stack, { retryBaseMs: '500', maxAttempts: '1', scanIntervalSec: '600' });
    const lambda = await startLambdaLog(s);
    const proxy = await startFaultProxy(stack.s3Endpoint);
    try {
      s.put('dog/keep.png');
      s.put('dog/gone.png');
      assert.equal((await s.once()).code, 0);
      // Both wait for the start-up pass: the failed upload and the delete are in the same pass.
      s.put('dog/new.png');
      rmSync(s.file('dog/gone.png'));
      let failing = true;
      proxy.setDecide((r) => (failing && r.op === 'PutObject' ? s3Error(403, 'AccessDenied', 'injected: access denied') : { kind: 'forward' }));
      const d = daemonThrough(s, { s3: proxy });
      try {
        await d.waitForLog(/not deleting 1 file\(s\): 1 upload\(s\) failed/);
        failing = false;
        await waitConverged(s, { animals: ['dog'], timeoutMs: 15000 });
        const report = await assertConvergedAfterFaults(s, lambda, { animals: ['dog'] });
        assert.equal(report.items, 2);
      } finally {
        assert.equal(await d.stop(), 0);
      }
    } finally {
      await proxy.stop();
      await lambda.stop();
    }
  });
});
