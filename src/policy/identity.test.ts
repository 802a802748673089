import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Identity } from './identity.js';

const agent = new Identity({
  name: 'support-agent-v1',
  allowedTools: ['crm.read_crm_ticket', 'email.send_reply_email', 'crm.refund_*', 'lookup'],
  deniedTools: ['*_database_write', 'billing_*', 'crm.refund_all'],
  allowedResources: ['crm://tickets/**'],
  deniedResources: ['crm://tickets/internal/**'],
  allowedPrompts: ['crm.summarise_*'],
  requiresHumanApprovalOn: ['crm.refund_*'],
  argumentConstraints: { 'email.send_reply_email': { properties: { to: { type: 'string', pattern: '@example\\.com$' } } } },
});

test('deny by default: a tool nobody listed is refused with the reason', () => {
  const a = agent.toolAccess('crm', 'account_deletion');
  assert.equal(a.allowed, false);
  assert.match((a as { reason: string }).reason, /not in allowed_tools .*deny by default/);
});

test('a server-qualified pattern matches only on that server', () => {
  assert.equal(agent.toolAccess('crm', 'read_crm_ticket').allowed, true);
  assert.equal(agent.toolAccess('email', 'read_crm_ticket').allowed, false);
});

test('a pattern without a server part matches that tool on every server', () => {
  assert.equal(agent.toolAccess('crm', 'lookup').allowed, true);
  assert.equal(agent.toolAccess('email', 'lookup').allowed, true);
});

test('deny beats allow, also for globs', () => {
  assert.equal(agent.toolAccess('crm', 'refund_request').allowed, true);
  assert.equal(agent.toolAccess('crm', 'refund_all').allowed, false);
  const tricky = new Identity({ name: 'x', allowedTools: ['crm.*'], deniedTools: ['billing_*'] });
  assert.equal(tricky.toolAccess('crm', 'billing_update').allowed, false);
  assert.equal(tricky.toolAccess('crm', 'customer_database_write').allowed, true);
});

test('resources and prompts follow the same deny-by-default model', () => {
  assert.equal(agent.resourceAccess('crm://tickets/T-1001').allowed, true);
  assert.equal(agent.resourceAccess('crm://tickets/internal/x').allowed, false);
  assert.equal(agent.resourceAccess('file:///etc/passwd').allowed, false);
  assert.equal(agent.promptAccess('crm', 'summarise_ticket').allowed, true);
  assert.equal(agent.promptAccess('email', 'summarise_ticket').allowed, false);
});

test('approval rules and argument constraints are found by pattern', () => {
  assert.equal(agent.approvalRule('crm', 'refund_request'), 'crm.refund_*');
  assert.equal(agent.approvalRule('crm', 'read_crm_ticket'), undefined);
  const [c] = agent.constraintsFor('email', 'send_reply_email');
  assert.equal(c.validate({ to: 'a@example.com' }), true);
  assert.equal(c.validate({ to: 'a@attacker.example' }), false);
});

test('an identity cannot be widened after it is built (no runtime escalation)', () => {
  assert.ok(Object.isFrozen(agent));
  assert.throws(() => ((agent as unknown as { allowedTools: unknown[] }).allowedTools as unknown[]).push('x'));
  assert.throws(() => {
    (agent as unknown as { sessionTtlSeconds: number }).sessionTtlSeconds = 999_999;
  });
  assert.equal(agent.toolAccess('crm', 'account_deletion').allowed, false);
});

test('invalid identity definitions are refused with what to fix', () => {
  assert.throws(() => new Identity({ name: 'bad name' }), /letters, digits/);
  assert.throws(() => new Identity({ name: 'a', sessionTtlSeconds: 0 }), /sessionTtlSeconds/);
  assert.throws(() => new Identity({ name: 'a', argumentConstraints: { 'x.y': { type: 'nonsense' } } }), /not a valid JSON Schema/);
});
