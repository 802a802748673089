import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Naming } from '../../gateway/naming.js';
import { ToolCatalog } from '../../gateway/catalog.js';
import { Identity } from '../../policy/identity.js';
import type { Invocation, RequestContext, ResultDecision } from '../../pipeline/types.js';
import { outputSchema } from './index.js';

const ctx: RequestContext = { session: { id: 's', identity: new Identity({ name: 'agent' }), startedAt: 0, expiresAt: Infinity }, method: 'tools/call', now: 0 };
const catalog = new ToolCatalog(new Naming({ servers: { svc: { prefix: true } }, tool_name_separator: '__' } as never));
const [count, plain, broken] = catalog.update('svc', [
  { name: 'count', inputSchema: { type: 'object' }, outputSchema: { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] } },
  { name: 'plain', inputSchema: { type: 'object' } },
  { name: 'broken', inputSchema: { type: 'object' }, outputSchema: { type: 'object', properties: { n: { $ref: '#/nowhere' } } } },
]);
const check = (tool: typeof count, result: Record<string, unknown>) =>
  outputSchema().onResult!(ctx, { kind: 'tool', server: 'svc', name: tool.name, exposedName: tool.exposedName, arguments: {}, tool } as Invocation, result) as ResultDecision;

test('the catalog compiles a declared outputSchema once, beside the input schema', () => {
  assert.equal(typeof count.validateOutput, 'function');
  assert.equal(plain.validateOutput, undefined);
  assert.match(broken.outputSchemaError ?? '', /nowhere/);
});

test('structuredContent matching the outputSchema passes', () => {
  assert.equal(check(count, { content: [], structuredContent: { n: 42 } }).verdict, 'allow');
});

test('a mismatch is refused with OUTPUT_SCHEMA_MISMATCH, naming the field and never its value', () => {
  const d = check(count, { content: [], structuredContent: { n: 'forty-two' } });
  assert.deepEqual([d.verdict, d.code], ['deny', 'OUTPUT_SCHEMA_MISMATCH']);
  assert.match(d.reason, /^structuredContent\.n must be number/);
  assert.doesNotMatch(d.reason, /forty-two/);
});

test('a tool that declares an outputSchema must return structuredContent; tool errors are exempt', () => {
  assert.match(check(count, { content: [{ type: 'text', text: '42' }] }).reason, /returned no structuredContent/);
  assert.equal(check(count, { content: [{ type: 'text', text: 'failed' }], isError: true }).verdict, 'allow');
});

test('tools without an outputSchema are not checked; an uncompilable one fails closed', () => {
  assert.equal(check(plain, { content: [], structuredContent: { anything: true } }).verdict, 'allow');
  assert.equal(check(broken, { content: [], structuredContent: { n: 1 } }).code, 'OUTPUT_SCHEMA_MISMATCH');
});
