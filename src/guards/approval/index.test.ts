import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Identity } from '../../policy/identity.js';
import type { Decision, Invocation, RequestContext } from '../../pipeline/types.js';
import { approval } from './index.js';

const identity = new Identity({ name: 'agent', allowedTools: ['crm.*'], requiresHumanApprovalOn: ['crm.refund_*'] });
const ctx: RequestContext = { session: { id: 's', identity, startedAt: 0, expiresAt: Infinity }, method: 'tools/call', now: 0 };
const call = (name: string) => approval().onInvoke!(ctx, { kind: 'tool', server: 'crm', name, exposedName: `crm__${name}`, arguments: {}, tool: {} } as unknown as Invocation) as Decision;

test('a call on the approval list is held with the rule that triggered it', () => {
  const d = call('refund_request');
  assert.equal(d.verdict, 'hold');
  assert.equal(d.code, 'APPROVAL_REQUIRED');
  assert.match(d.reason, /crm\.refund_\*/);
});

test('other calls are not held', () => {
  assert.equal(call('read_ticket').verdict, 'allow');
});
