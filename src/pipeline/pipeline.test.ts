import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Identity } from '../policy/identity.js';
import { Pipeline } from './pipeline.js';
import { allow, deny, hold, type Guard, type Invocation, type RequestContext } from './types.js';

const ctx: RequestContext = {
  session: { id: 's', identity: new Identity({ name: 'a' }), startedAt: 0, expiresAt: Number.MAX_SAFE_INTEGER },
  method: 'tools/call',
  now: 1,
};
const inv = { kind: 'resource', server: 'x', uri: 'u://1' } as Invocation;
const guard = (name: string, onInvoke: Guard['onInvoke']): Guard => ({ name, onInvoke });

test('the first enforced deny stops the chain and names its guard', async () => {
  const calls: string[] = [];
  const p = new Pipeline([
    guard('a', () => (calls.push('a'), allow())),
    guard('b', () => (calls.push('b'), deny('TOOL_NOT_ALLOWED', 'no'))),
    guard('c', () => (calls.push('c'), allow())),
  ]);
  const { decision, trail } = await p.invoke(ctx, inv);
  assert.equal(decision.verdict, 'deny');
  assert.equal(decision.guard, 'b');
  assert.deepEqual(calls, ['a', 'b']);
  assert.equal(trail.length, 2);
});

test('a hold stops the chain like a deny', async () => {
  const p = new Pipeline([guard('approval', () => hold('APPROVAL_REQUIRED', 'ask a human')), guard('never', () => assert.fail('ran after a hold'))]);
  assert.equal((await p.invoke(ctx, inv)).decision.verdict, 'hold');
});

test('a guard that throws or rejects denies the message (fail closed)', async () => {
  const sync = new Pipeline([guard('boom', () => { throw new Error('bug'); })]);
  const d1 = (await sync.invoke(ctx, inv)).decision;
  assert.equal(d1.code, 'GUARD_ERROR');
  assert.match(d1.reason, /guard boom failed \(bug\)/);
  const rejecting = new Pipeline([guard('async', async () => Promise.reject(new Error('down')))]);
  assert.equal((await rejecting.invoke(ctx, inv)).decision.code, 'GUARD_ERROR');
  const listing = new Pipeline([{ name: 'l', onList: () => { throw new Error('x'); } }]);
  assert.equal(listing.list(ctx, { kind: 'tool', server: 'x', name: 'y' }).decision.verdict, 'deny');
});

test('a guard in shadow mode records its objection but does not block', async () => {
  const p = new Pipeline([{ guard: guard('new-policy', () => deny('TOOL_NOT_ALLOWED', 'would deny')), mode: 'shadow' }]);
  const { decision, trail } = await p.invoke(ctx, inv);
  assert.equal(decision.verdict, 'allow');
  assert.deepEqual(trail.map((d) => [d.guard, d.verdict, d.shadow]), [['new-policy', 'deny', true]]);
});

test('shadow mode never hides a crashing guard', async () => {
  const p = new Pipeline([{ guard: guard('crashy', () => { throw new Error('x'); }), mode: 'shadow' }]);
  assert.equal((await p.invoke(ctx, inv)).decision.code, 'GUARD_ERROR');
});

test('result guards see the result as the previous guard left it', async () => {
  const p = new Pipeline([
    { name: 'upper', onResult: (_c, _i, r) => ({ ...allow(), result: { text: String(r.text).toUpperCase() } }) },
    { name: 'suffix', onResult: (_c, _i, r) => ({ ...allow(), result: { text: `${String(r.text)}!` } }) },
  ]);
  const { decision } = await p.result(ctx, inv, { text: 'hi' });
  assert.deepEqual(decision.result, { text: 'HI!' });
});

test('an invoke guard may replace the arguments: later guards and the caller see the replacement, a shadowed guard cannot', async () => {
  const call = { kind: 'tool', server: 'x', name: 't', exposedName: 'x__t', arguments: { note: 'secret' } } as unknown as Invocation;
  const seen: unknown[] = [];
  const redact: Guard = { name: 'redact', onInvoke: () => ({ ...allow(), arguments: { note: '[REDACTED]' } }) };
  const p = new Pipeline([redact, guard('after', (_c, i) => (seen.push((i as { arguments: unknown }).arguments), allow()))]);
  const out = await p.invoke(ctx, call);
  assert.deepEqual(seen, [{ note: '[REDACTED]' }]);
  assert.deepEqual((out.invocation as { arguments: unknown }).arguments, { note: '[REDACTED]' });
  const shadowed = await new Pipeline([{ guard: redact, mode: 'shadow' }]).invoke(ctx, call);
  assert.equal(shadowed.invocation, call);
});

test('error guards may rewrite an upstream error; one that throws withholds the message (fail closed)', () => {
  const upstreamError = { code: -32603, message: 'bad\u200b thing' };
  const p = new Pipeline([{ name: 'clean', onError: (_c, _i, e) => ({ ...e, message: e.message.replace('\u200b', '') }) }]);
  assert.deepEqual(p.error(ctx, inv, upstreamError), { code: -32603, message: 'bad thing' });
  const broken = new Pipeline([{ name: 'boom', onError: () => { throw new Error('x'); } }]);
  assert.match(broken.error(ctx, inv, upstreamError).message, /withheld because guard boom failed/);
});

test('an empty pipeline is a pure relay', async () => {
  const p = new Pipeline([]);
  assert.equal((await p.invoke(ctx, inv)).decision.verdict, 'allow');
  assert.equal(p.request(ctx).decision.verdict, 'allow');
});
