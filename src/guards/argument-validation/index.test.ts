import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Identity } from '../../policy/identity.js';
import { compileSchema } from '../../schema/ajv.js';
import type { CatalogTool, Decision, Invocation, RequestContext } from '../../pipeline/types.js';
import { argumentValidation } from './index.js';

const identity = new Identity({ name: 'agent', argumentConstraints: { 'email.send': { properties: { to: { type: 'string', pattern: '@example\\.com$' } } } } });
const ctx: RequestContext = { session: { id: 's', identity, startedAt: 0, expiresAt: Infinity }, method: 'tools/call', now: 0 };
const schema = { type: 'object', properties: { to: { type: 'string', format: 'email' }, body: { type: 'string' } }, required: ['to'], additionalProperties: false };
const tool: CatalogTool = { server: 'email', name: 'send', exposedName: 'email__send', definition: { name: 'send', inputSchema: { type: 'object' } }, digest: 'sha256:unused', validateInput: compileSchema(schema) };
const call = (args: Record<string, unknown>, t: CatalogTool = tool) =>
  argumentValidation().onInvoke!(ctx, { kind: 'tool', server: 'email', name: 'send', exposedName: 'email__send', arguments: args, tool: t } as Invocation) as Decision;

test('valid arguments within the constraints pass', () => {
  assert.equal(call({ to: 'dana@example.com', body: 'hi' }).verdict, 'allow');
});

test('a missing required argument is named', () => {
  const d = call({ body: 'hi' });
  assert.equal(d.code, 'INVALID_ARGUMENTS');
  assert.match(d.reason, /arguments\.to is required/);
});

test('an extra argument (parameter smuggling) is refused', () => {
  assert.match(call({ to: 'a@example.com', sidenote: 'id_rsa contents' }).reason, /sidenote is not an accepted argument/);
});

test('a wrongly typed or formatted argument is refused', () => {
  assert.equal(call({ to: 42 }).code, 'INVALID_ARGUMENTS');
  assert.equal(call({ to: 'not an email' }).code, 'INVALID_ARGUMENTS');
});

test('the identity constraint refuses what the schema allows', () => {
  const d = call({ to: 'boss@attacker.example' });
  assert.equal(d.code, 'ARGUMENT_CONSTRAINT');
  assert.match(d.reason, /arguments\.to must match @example\\\.com\$/);
});

test('a tool whose schema could not be compiled is refused, not waved through', () => {
  const broken: CatalogTool = { ...tool, validateInput: undefined, schemaError: 'bad $ref' };
  assert.equal(call({ to: 'a@example.com' }, broken).code, 'INVALID_TOOL_SCHEMA');
});
