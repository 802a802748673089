import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Identity } from '../../policy/identity.js';
import type { Invocation, RequestContext } from '../../pipeline/types.js';
import { authorisation } from './index.js';

const identity = new Identity({ name: 'agent', allowedTools: ['crm.read_*'], deniedTools: ['crm.read_secrets'], allowedResources: ['crm://tickets/*'] });
const ctx: RequestContext = { session: { id: 's', identity, startedAt: 0, expiresAt: Infinity }, method: 'tools/call', now: 0 };
const guard = authorisation();
const tool = (name: string) => ({ kind: 'tool', server: 'crm', name, exposedName: `crm__${name}`, arguments: {}, tool: {} }) as unknown as Invocation;

test('listing and calling give the same answer, so what is hidden is also uncallable', () => {
  for (const name of ['read_ticket', 'read_secrets', 'delete_ticket']) {
    const listed = guard.onList!(ctx, { kind: 'tool', server: 'crm', name });
    const called = guard.onInvoke!(ctx, tool(name)) as { verdict: string; code: string };
    assert.equal(listed.verdict, called.verdict, name);
    assert.equal(listed.code, called.code, name);
  }
  assert.equal(guard.onList!(ctx, { kind: 'tool', server: 'crm', name: 'read_secrets' }).code, 'TOOL_NOT_ALLOWED');
});

test('resources are deny by default and checked per URI', () => {
  assert.equal((guard.onInvoke!(ctx, { kind: 'resource', server: 'crm', uri: 'crm://tickets/T-1' }) as { verdict: string }).verdict, 'allow');
  const d = guard.onInvoke!(ctx, { kind: 'resource', server: 'crm', uri: 'crm://customers/C-1' }) as { code: string };
  assert.equal(d.code, 'RESOURCE_NOT_ALLOWED');
});

test('prompts are deny by default', () => {
  const d = guard.onInvoke!(ctx, { kind: 'prompt', server: 'crm', name: 'summarise', exposedName: 'crm__summarise', arguments: {} }) as { code: string };
  assert.equal(d.code, 'PROMPT_NOT_ALLOWED');
});

test('resource templates are hidden from identities with no resource access', () => {
  const none = new Identity({ name: 'none' });
  const c = { ...ctx, session: { ...ctx.session, identity: none } };
  assert.equal(guard.onList!(c, { kind: 'resource_template', server: 'crm', uriTemplate: 'crm://tickets/{id}' }).verdict, 'deny');
});
