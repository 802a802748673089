import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { Identity } from '../policy/identity.js';
import { RiskModel, defaultGates } from './model.js';
import { rateTool, tierOf } from './rate.js';

const def = (name: string, annotations?: Tool['annotations'], description?: string): Tool => ({ name, inputSchema: { type: 'object' }, ...(annotations ? { annotations } : {}), ...(description ? { description } : {}) });
const summary = (t: Tool, policy = {}) => {
  const r = rateTool('srv', t, policy);
  return `${r.permission.value}/${r.permission.source} ${r.blastRadius.value}/${r.blastRadius.source} ${r.reversibility.value}/${r.reversibility.source} ${r.tier.value} [${r.labels.value.join(',')}]`;
};

test('tiers: points for permission, blast radius and irreversibility', () => {
  assert.equal(tierOf('read', 'app', 'reversible'), 'low');
  assert.equal(tierOf('read', 'enterprise', 'irreversible'), 'medium', 'reading changes nothing, so it is never irreversible');
  assert.equal(tierOf('write', 'app', 'reversible'), 'medium');
  assert.equal(tierOf('send-external', 'app', 'irreversible'), 'high');
  assert.equal(tierOf('delete', 'app', 'irreversible'), 'critical');
  assert.equal(tierOf('write', 'enterprise', 'irreversible'), 'critical');
  assert.equal(tierOf('execute', 'user', 'reversible'), 'high', 'running code is at least high');
});

test('absent annotations take the MCP spec\'s worst-case defaults', () => {
  assert.equal(summary(def('echo')), 'send-external/default app/default irreversible/default high [sink]');
});

test('untrusted annotations can only make a tool look worse than its name and description', () => {
  // Claims to be read-only, but its name says delete.
  assert.equal(summary(def('delete_all_records', { readOnlyHint: true })), 'delete/heuristic enterprise/heuristic irreversible/heuristic critical []');
  // Claims additive and reversible; the description says otherwise.
  assert.equal(
    summary(def('close_account', { readOnlyHint: false, destructiveHint: false, openWorldHint: false }, 'Closes the account. This cannot be undone.')),
    'write/annotation (untrusted) app/default irreversible/heuristic high []',
  );
  assert.equal(summary(def('run_shell_command', { readOnlyHint: true })), 'execute/heuristic app/default irreversible/heuristic critical [sink]');
  assert.equal(summary(def('get_post', { readOnlyHint: true, openWorldHint: true })), 'read/annotation (untrusted) app/default reversible/annotation (untrusted) low [untrusted]', 'get_post reads a post');
});

test('trusted annotations are believed; config overrides everything and names where it came from', () => {
  const trusted = { risk: { trust_annotations: true } };
  assert.equal(summary(def('close_account', { readOnlyHint: false, destructiveHint: false, openWorldHint: false }, 'Closes the account. This cannot be undone.'), trusted), 'write/annotation app/default reversible/annotation medium []');
  const r = rateTool('crm', def('refund_request', { readOnlyHint: false, destructiveHint: true, openWorldHint: false }), {
    risk: { blast_radius: 'enterprise', tools: { 'refund_*': { reversibility: 'irreversible' }, refund_request: { permission: 'write', tier: 'critical' } } },
    labels: { 'refund_*': ['sink'] },
  });
  assert.deepEqual([r.permission.source, r.permission.why], ['config', 'servers.crm.risk.tools.refund_request.permission']);
  assert.deepEqual([r.blastRadius.value, r.blastRadius.why], ['enterprise', 'servers.crm.risk.blast_radius']);
  assert.equal(r.reversibility.source, 'annotation (untrusted)', 'an exact key wins over globs for the whole tool');
  assert.deepEqual([r.tier.value, r.tier.source], ['critical', 'config']);
  assert.deepEqual([r.labels.value, r.labels.source], [['sink'], 'config']);
});

test('flow labels: closed-world reads are private, open-world reads untrusted, senders and code runners sinks', () => {
  assert.equal(summary(def('read_crm_ticket', { readOnlyHint: true, openWorldHint: false })).split(' ').at(-1), '[private]');
  assert.equal(summary(def('fetch_url', { readOnlyHint: true, openWorldHint: true })).split(' ').at(-1), '[untrusted]');
  assert.equal(summary(def('read_inbox', { readOnlyHint: true, openWorldHint: true })).split(' ').at(-1), '[private,untrusted]', 'inbound mail is both');
  assert.equal(summary(def('send_reply_email', { readOnlyHint: false, destructiveHint: false, openWorldHint: true })).split(' ').at(-1), '[sink]');
  assert.equal(summary(def('refund_request', { readOnlyHint: false, destructiveHint: true, openWorldHint: false })).split(' ').at(-1), '[]');
});

test('gates: critical needs approval; high needs approval unless listed explicitly (production default)', () => {
  assert.deepEqual(defaultGates(), { low: 'allow', medium: 'allow', high: 'allow', critical: 'approval' });
  const model = new RiskModel({ mode: 'production', servers: {} });
  const send = { server: 'email', name: 'send_reply_email', definition: def('send_reply_email', { readOnlyHint: false, destructiveHint: false, openWorldHint: true }) };
  const wipe = { server: 'crm', name: 'account_deletion', definition: def('account_deletion', { readOnlyHint: false, destructiveHint: true, openWorldHint: false }) };
  const explicit = new Identity({ name: 'a', allowedTools: ['email.send_reply_email', 'crm.*'], requiresHumanApprovalOn: ['crm.account_*'] });
  const globbed = new Identity({ name: 'b', allowedTools: ['email.*', 'crm.*'] });
  assert.equal(model.gate(explicit, model.rate(send)).gate, 'allowed');
  assert.deepEqual(model.gate(globbed, model.rate(send)), { gate: 'approval', triggers: ['tier'], tier: 'high', tierGate: 'approval-unless-explicit', explicit: false });
  assert.deepEqual(model.gate(explicit, model.rate(wipe)).triggers, ['rule', 'tier']);
  const strict = new RiskModel({ servers: {}, risk: { gates: { high: 'deny-unless-explicit' } } });
  assert.equal(strict.gate(globbed, strict.rate(send)).gate, 'denied');
  assert.equal(strict.rate(send), strict.rate(send), 'ratings are cached per tool object');
});
