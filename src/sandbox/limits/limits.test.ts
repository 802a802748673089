import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_LIMITS, explainLimitExit, nodeOptionsFor, prlimitArgs, terminatingSignal } from './limits.js';

const limits = { ...DEFAULT_LIMITS, memory_mb: 256, cpu_seconds: 5, processes: 40, open_files: 100 };

test('limits become prlimit arguments, with no core dumps', () => {
  assert.deepEqual(prlimitArgs(limits), [`--data=${256 * 1024 * 1024}`, '--cpu=5:6', '--nproc=40', '--nofile=100', '--core=0']);
});

test('a signal reported by a wrapper as exit code 128+N is recognised', () => {
  assert.equal(terminatingSignal({ code: 152, signal: null, stderrTail: '' }), 'SIGXCPU');
  assert.equal(terminatingSignal({ code: null, signal: 'SIGKILL', stderrTail: '' }), 'SIGKILL');
  assert.equal(terminatingSignal({ code: 3, signal: null, stderrTail: '' }), null);
});

test('the client is told which limit killed the server', () => {
  assert.match(explainLimitExit({ code: 152, signal: null, stderrTail: '' }, limits)!, /exceeded its CPU limit \(sandbox\.limits\.cpu_seconds: 5\)/);
  assert.match(
    explainLimitExit({ code: 134, signal: null, stderrTail: 'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory' }, limits)!,
    /ran out of memory at its limit \(sandbox\.limits\.memory_mb: 256\) and was killed \(SIGABRT\)/,
  );
  assert.match(explainLimitExit({ code: 1, signal: null, stderrTail: 'MemoryError' }, limits)!, /ran out of memory .* exited with code 1/);
  assert.match(explainLimitExit({ code: 139, signal: null, stderrTail: '' }, limits)!, /crashed \(SIGSEGV\), most likely by hitting its memory limit/);
  assert.equal(explainLimitExit({ code: 3, signal: null, stderrTail: 'boom' }, limits), undefined);
  assert.equal(explainLimitExit({ code: 0, signal: null, stderrTail: 'out of memory' }, limits), undefined);
});

test('Node servers get a heap limit under the memory limit, before their own options', () => {
  assert.equal(nodeOptionsFor(limits, undefined), '--max-old-space-size=102');
  assert.equal(nodeOptionsFor(limits, '--enable-source-maps'), '--max-old-space-size=102 --enable-source-maps');
});
