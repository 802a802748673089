import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Identity } from '../../policy/identity.js';
import { sessionExpiry } from './index.js';

const identity = new Identity({ name: 'a', sessionTtlSeconds: 60 });
const session = { id: 's', identity, startedAt: 0, expiresAt: 60_000 };

test('a live session passes', () => {
  assert.equal(sessionExpiry().onRequest!({ session, method: 'tools/call', now: 59_999 }).verdict, 'allow');
});

test('a session past its ttl is refused and told to re-authenticate', () => {
  const d = sessionExpiry().onRequest!({ session, method: 'tools/list', now: 60_000 });
  assert.equal(d.verdict, 'deny');
  assert.equal(d.code, 'SESSION_EXPIRED');
  assert.match(d.reason, /re-authenticate/);
});
