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

test('with a risk model, a critical tool is held by its tier even without a rule, and the hold carries the rating', async () => {
  const { RiskModel } = await import('../../risk/model.js');
  const guard = approval({ risk: new RiskModel({ servers: {} }) });
  const tool = { server: 'crm', name: 'account_deletion', definition: { name: 'account_deletion', inputSchema: { type: 'object' }, annotations: { readOnlyHint: false, destructiveHint: true, openWorldHint: false } } };
  const d = guard.onInvoke!(ctx, { kind: 'tool', server: 'crm', name: 'account_deletion', exposedName: 'crm__account_deletion', arguments: {}, tool } as unknown as Invocation) as Decision & { risk?: { tier: string } };
  assert.equal(d.verdict, 'hold');
  assert.match(d.reason, /risk tier critical of crm\.account_deletion \(risk\.gates\.critical: approval\)/);
  assert.equal(d.risk?.tier, 'critical');
  assert.deepEqual((d.detail as { triggers: string[] }).triggers, ['tier']);
});

test('a deny-unless-explicit tier gate refuses a tool allowed only by a glob', async () => {
  const { RiskModel } = await import('../../risk/model.js');
  const guard = approval({ risk: new RiskModel({ servers: {}, risk: { gates: { high: 'deny-unless-explicit' } } }) });
  const tool = { server: 'crm', name: 'send_note', definition: { name: 'send_note', inputSchema: { type: 'object' } } };
  const d = guard.onInvoke!(ctx, { kind: 'tool', server: 'crm', name: 'send_note', exposedName: 'crm__send_note', arguments: {}, tool } as unknown as Invocation) as Decision;
  assert.equal(d.verdict, 'deny');
  assert.equal(d.code, 'TOOL_NOT_ALLOWED');
  assert.match(d.reason, /allows it only by a glob/);
});
