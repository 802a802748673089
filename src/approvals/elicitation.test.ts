import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { isSecretKey } from '../audit/index.js';
import { parseConfig } from '../config/load.js';
import { approvalForm, readElicitation } from './elicitation.js';
import { supportsFormElicitation } from './broker.js';

const form = () =>
  approvalForm({
    identity: 'support-agent-v1',
    server: 'crm',
    tool: 'refund_request',
    exposedName: 'crm__refund_request',
    arguments: { ticket_id: 'T-1', amount_cents: 4900, api_key: 'sk-live-123456' },
    trigger: { code: 'APPROVAL_REQUIRED', guard: 'approval', reason: 'needs a human', rule: 'crm.refund_*' },
    risk: { permission: 'moves money', blastRadius: 'one customer', reversibility: 'irreversible', tier: 'high' },
    expiresAt: new Date('2030-01-01T00:00:00Z'),
  });

describe('the elicitation approval form', () => {
  test('shows the tool, the arguments, what triggered the hold and the three risk answers', () => {
    const f = form();
    const message = String(f.message);
    for (const part of ['crm.refund_request', 'crm__refund_request', '"amount_cents": 4900', 'crm.refund_*', 'APPROVAL_REQUIRED', 'permission: moves money', 'blast radius: one customer', 'reversibility: irreversible', 'tier: high', '2030-01-01T00:00:00.000Z']) {
      assert.ok(message.includes(part), `the form message lacks ${part}`);
    }
    assert.ok(ElicitRequestSchema.safeParse({ method: 'elicitation/create', params: f }).success, 'the form is a valid elicitation/create request');
  });

  test('never asks for a secret and never shows one (form mode must not collect secrets)', () => {
    const f = form();
    assert.equal(f.mode, 'form');
    assert.doesNotMatch(JSON.stringify(f), /sk-live-123456/);
    const props = (f.requestedSchema as { properties: Record<string, { type: string; format?: string; title?: string }> }).properties;
    for (const [name, p] of Object.entries(props)) {
      assert.equal(isSecretKey(name), false, `field ${name} reads as a secret`);
      assert.doesNotMatch(`${name} ${p.title ?? ''}`, /password|secret|token|key|credential/i);
      assert.equal(p.format, undefined);
    }
    assert.equal((f.requestedSchema as { required?: string[] }).required, undefined, 'nothing is required to answer');
  });

  test('only an explicit accept approves; decline, cancel and errors refuse', () => {
    assert.deepEqual(readElicitation({ result: { action: 'accept', content: { note: 'ok by me' } } }), { approved: true, note: 'ok by me' });
    assert.deepEqual(readElicitation({ result: { action: 'accept' } }), { approved: true });
    assert.equal(readElicitation({ result: { action: 'decline' } }).approved, false);
    assert.equal(readElicitation({ result: { action: 'cancel' } }).approved, false);
    assert.equal(readElicitation({ result: { action: 'ACCEPT' } }).approved, false);
    assert.equal(readElicitation({ result: {} }).approved, false);
    assert.equal(readElicitation({ error: { message: 'boom' } }).approved, false);
  });

  test('form support is read from the client capability as the spec defines it', () => {
    assert.equal(supportsFormElicitation(undefined), false);
    assert.equal(supportsFormElicitation({}), true);
    assert.equal(supportsFormElicitation({ form: {} }), true);
    assert.equal(supportsFormElicitation({ url: {} }), false);
    assert.equal(supportsFormElicitation({ form: {}, url: {} }), true);
  });
});

describe('approvals config', () => {
  const base = 'servers: { crm: { command: node } }\nidentities: { agent: { allowed_tools: [crm.x], requires_human_approval_on: [crm.x] } }\n';
  test('defaults: elicitation then queue, 10 minutes, answer at once', () => {
    const { config } = parseConfig(base);
    assert.deepEqual(
      { mode: config.approvals.mode, ttl: config.approvals.ttl_seconds, wait: config.approvals.wait_seconds, approvers: config.approvals.approvers },
      { mode: 'elicitation_then_queue', ttl: 600, wait: 0, approvers: [] },
    );
  });
  test('an approver may not share a name with an agent identity (an agent credential can never approve)', () => {
    assert.throws(() => parseConfig(base + 'approvals: { approvers: [agent] }'), /approvals\.approvers\[0\]: "agent" is also an agent identity/);
  });
  test('wait longer than the request lives, and unknown servers in out_of_band_on, are refused', () => {
    assert.throws(() => parseConfig(base + 'approvals: { ttl_seconds: 60, wait_seconds: 120 }'), /wait_seconds \(120\) is longer than ttl_seconds \(60\)/);
    assert.throws(() => parseConfig(base + 'approvals: { out_of_band_on: [crn.x] }'), /unknown server "crn"/);
    assert.throws(() => parseConfig(base + 'approvals: { mode: sometimes }'), /approvals\.mode/);
  });
  test('queue mode with nobody to approve is a warning', () => {
    const { warnings } = parseConfig(base + 'approvals: { mode: queue }');
    assert.ok(warnings.some((w) => w.path === 'approvals.approvers'));
  });
});
