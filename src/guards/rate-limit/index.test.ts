import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AuditEvent } from '../../audit/index.js';
import { Identity } from '../../policy/identity.js';
import type { Decision, Invocation, RequestContext } from '../../pipeline/types.js';
import { MemoryRateLimitStore, rateLimit } from './index.js';

const spec = (key: string, capacity: number, perMs: number) => ({ key, capacity, refillPerMs: capacity / perMs, windowMs: perMs });

test('a bucket allows its burst, refuses the next call with the time to the next token, and refills', async () => {
  const store = new MemoryRateLimitStore();
  const b = spec('k', 3, 60_000); // 3 per minute: one token every 20 s
  for (let i = 0; i < 3; i++) assert.equal((await store.take([b], 0)).ok, true);
  const refused = await store.take([b], 5_000);
  assert.equal(refused.ok, false);
  assert.equal(Math.round(refused.retryAfterMs), 15_000);
  assert.equal((await store.take([b], 20_000)).ok, true);
});

test('a call takes a token from every bucket or from none', async () => {
  const store = new MemoryRateLimitStore();
  const wide = spec('wide', 10, 60_000);
  const narrow = spec('narrow', 1, 60_000);
  assert.equal((await store.take([wide, narrow], 0)).ok, true);
  for (let i = 0; i < 5; i++) assert.deepEqual((await store.take([wide, narrow], 0)).empty, ['narrow']);
  // The refusals did not drain the wide bucket: it still holds 9 tokens.
  for (let i = 0; i < 9; i++) assert.equal((await store.take([wide], 0)).ok, true);
  assert.equal((await store.take([wide], 0)).ok, false);
});

test('the burst alert fires on the first refusal of a window and again only in the next window', async () => {
  const store = new MemoryRateLimitStore();
  const b = spec('k', 1, 60_000);
  await store.take([b], 0);
  assert.deepEqual((await store.take([b], 1)).alerts, ['k']);
  assert.deepEqual((await store.take([b], 2)).alerts, []);
  await store.take([b], 60_001); // refilled, taken
  assert.deepEqual((await store.take([b], 60_002)).alerts, ['k']);
});

test('memory stays bounded: least recently used buckets are dropped past maxBuckets', async () => {
  const store = new MemoryRateLimitStore({ maxBuckets: 100 });
  for (let i = 0; i < 1000; i++) await store.take([spec(`session:${i}`, 5, 1000)], i);
  assert.equal(store.size, 100);
});

test('the guard refuses with RATE_LIMITED, retry_after_seconds and one alert record', async () => {
  const identity = new Identity({ name: 'agent', allowedTools: ['*'], rateLimits: { perSession: { rate: 2, per: 'minute' }, perTool: { 'crm.refund_*': { rate: 1, per: 'hour' } } } });
  const alerts: AuditEvent[] = [];
  const guard = rateLimit();
  const ctx = (now: number): RequestContext => ({ session: { id: 's', identity, startedAt: 0, expiresAt: Infinity }, method: 'tools/call', now, callId: '1', record: (e) => alerts.push(e) });
  const call = (name: string, now: number) => guard.onInvoke!(ctx(now), { kind: 'tool', server: 'crm', name, exposedName: `crm__${name}`, arguments: {}, tool: {} } as unknown as Invocation) as Promise<Decision>;
  assert.equal((await call('refund_request', 0)).verdict, 'allow');
  const tool = await call('refund_request', 0);
  assert.equal(tool.code, 'RATE_LIMITED');
  assert.equal(tool.retryAfterSeconds, 3600);
  assert.match(tool.reason, /rate_limits\.per_tool "crm\.refund_\*" of identity agent \(1\/hour\) exhausted; retry after 3600 s/);
  assert.equal((await call('read', 0)).verdict, 'allow', 'the refused refund took no session token');
  const session = await call('read', 1000);
  assert.equal(session.code, 'RATE_LIMITED');
  assert.equal(session.retryAfterSeconds, 29);
  assert.deepEqual(alerts.map((a) => [a.type, a.code, (a.detail as { bucket: string }).bucket]), [
    ['alert', 'RATE_LIMIT_BURST', 'tool:agent:crm.refund_*'],
    ['alert', 'RATE_LIMIT_BURST', 'session:s'],
  ]);
});

test('identities without rate_limits are not limited; invalid limits are refused when the identity is built', async () => {
  const guard = rateLimit();
  const identity = new Identity({ name: 'free', allowedTools: ['*'] });
  const ctx: RequestContext = { session: { id: 's', identity, startedAt: 0, expiresAt: Infinity }, method: 'tools/call', now: 0 };
  for (let i = 0; i < 100; i++) assert.equal((await guard.onInvoke!(ctx, { kind: 'resource', server: 'x', uri: 'x://y' })).verdict, 'allow');
  assert.throws(() => new Identity({ name: 'bad', rateLimits: { perSession: { rate: 0, per: 'minute' } } }), /rate must be a positive number/);
});
