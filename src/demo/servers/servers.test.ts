import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/** Compiled server scripts sit next to this compiled test file. */
const serverScript = (name: 'crm' | 'email') => fileURLToPath(new URL(`./${name}.js`, import.meta.url));

async function connect(name: 'crm' | 'email'): Promise<{ client: Client; stderr: () => string }> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [serverScript(name)], stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const client = new Client({ name: 'portcullis-smoke-test', version: '0.0.0' });
  await client.connect(transport);
  return { client, stderr: () => stderr };
}

const textOf = (result: unknown) =>
  ((result as CallToolResult).content ?? [])
    .map((c) => (c.type === 'text' ? c.text : ''))
    .join('\n');

/** Invalid arguments surface either as a JSON-RPC error or as an isError tool result; both count as refused. */
async function assertRefused(client: Client, name: string, args: Record<string, unknown>, pattern: RegExp) {
  let message: string;
  try {
    const result = await client.callTool({ name, arguments: args });
    assert.equal(result.isError, true, `${name}(${JSON.stringify(args)}) should have been refused: ${textOf(result)}`);
    message = textOf(result);
  } catch (err) {
    message = (err as Error).message;
  }
  assert.match(message, pattern);
}

describe('demo-crm over stdio', () => {
  let client: Client;
  let stderr: () => string;
  before(async () => {
    ({ client, stderr } = await connect('crm'));
  });
  after(async () => {
    await client.close();
  });

  test('identifies itself and lists its five tools with strict schemas and honest annotations', async () => {
    assert.equal(client.getServerVersion()?.name, 'demo-crm');
    const { tools } = await client.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    assert.deepEqual(
      [...byName.keys()].sort(),
      ['account_deletion', 'billing_update', 'customer_database_write', 'read_crm_ticket', 'refund_request'],
    );
    for (const tool of tools) {
      assert.ok(tool.description && tool.description.length > 40, `${tool.name} has a real description`);
      assert.equal(tool.inputSchema.additionalProperties, false, `${tool.name} rejects unknown arguments`);
    }
    assert.equal(byName.get('read_crm_ticket')!.annotations?.readOnlyHint, true);
    assert.deepEqual(byName.get('read_crm_ticket')!.inputSchema.properties?.ticket_id, {
      type: 'string',
      pattern: '^T-\\d{4}$',
      description: 'Ticket id, e.g. "T-1001"',
    });
    const refund = byName.get('refund_request')!;
    assert.equal(refund.annotations?.destructiveHint, true);
    assert.equal(refund.annotations?.idempotentHint, false);
    assert.deepEqual(refund.inputSchema.required, ['ticket_id', 'amount_cents', 'reason']);
    assert.equal(byName.get('account_deletion')!.annotations?.destructiveHint, true);
  });

  test('read_crm_ticket returns the ticket as text and structured content', async () => {
    const result = await client.callTool({ name: 'read_crm_ticket', arguments: { ticket_id: 'T-1001' } });
    assert.notEqual(result.isError, true);
    const text = textOf(result);
    assert.match(text, /Dana Whitfield <dana\.whitfield@example\.com>/);
    assert.match(text, /\$49\.00/);
    assert.match(text, /#58213/);
    assert.deepEqual(
      { ...(result.structuredContent as Record<string, unknown>), body: undefined },
      {
        ticket_id: 'T-1001',
        customer_id: 'C-2001',
        customer_name: 'Dana Whitfield',
        customer_email: 'dana.whitfield@example.com',
        subject: 'Charged twice for order #58213',
        status: 'open',
        created_at: '2026-11-19T08:42:00Z',
        order_id: '58213',
        body: undefined,
      },
    );
    const missing = await client.callTool({ name: 'read_crm_ticket', arguments: { ticket_id: 'T-9999' } });
    assert.equal(missing.isError, true);
    assert.match(textOf(missing), /No ticket T-9999/);
  });

  test('input schemas are enforced by the server', async () => {
    await assertRefused(client, 'read_crm_ticket', { ticket_id: '1001' }, /ticket ids look like T-1001/);
    await assertRefused(client, 'read_crm_ticket', { ticket_id: 'T-1001', extra: true }, /Unrecognized key: "extra"/);
    await assertRefused(client, 'refund_request', { ticket_id: 'T-1001', amount_cents: 0, reason: 'x' }, /Too small.*amount_cents/i);
    await assertRefused(client, 'refund_request', { ticket_id: 'T-1001', amount_cents: 100_001, reason: 'x' }, /Too big.*amount_cents/i);
    await assertRefused(client, 'refund_request', { ticket_id: 'T-1001', amount_cents: 49.5, reason: 'x' }, /expected int/);
    await assertRefused(client, 'billing_update', { customer_id: 'C-2001', plan: 'platinum' }, /Invalid option.*at plan/);
  });

  test('refund_request is not idempotent: each call creates a new refund', async () => {
    const args = { ticket_id: 'T-1001', amount_cents: 4900, reason: 'duplicate charge on order #58213' };
    const first = textOf(await client.callTool({ name: 'refund_request', arguments: args }));
    const second = textOf(await client.callTool({ name: 'refund_request', arguments: args }));
    assert.match(first, /^Refund R-\d{6} of \$49\.00 submitted for order #58213 \(ticket T-1001, customer C-2001\)/);
    assert.notEqual(first.slice(0, 15), second.slice(0, 15));
  });

  test('billing_update, customer_database_write and account_deletion act on in-memory state', async () => {
    assert.match(
      textOf(await client.callTool({ name: 'billing_update', arguments: { customer_id: 'C-2002', plan: 'pro' } })),
      /moved from plan "basic" to "pro"/,
    );
    assert.match(
      textOf(await client.callTool({ name: 'customer_database_write', arguments: { table: 'notes', row: { ticket_id: 'T-1002', note: 'called' } } })),
      /Wrote 1 row with 2 column\(s\) to table "notes"/,
    );
    const unconfirmed = await client.callTool({ name: 'account_deletion', arguments: { customer_id: 'C-2003', confirm: false } });
    assert.equal(unconfirmed.isError, true);
    assert.match(textOf(await client.callTool({ name: 'account_deletion', arguments: { customer_id: 'C-2003', confirm: true } })), /Deleted customer C-2003/);
    const gone = await client.callTool({ name: 'read_crm_ticket', arguments: { ticket_id: 'T-1004' } });
    assert.equal(gone.isError, true);
  });

  test('exposes the ticket resource template and the summarise_ticket prompt', async () => {
    const { resourceTemplates } = await client.listResourceTemplates();
    assert.deepEqual(resourceTemplates.map((t) => t.uriTemplate), ['crm://tickets/{id}']);
    const { resources } = await client.listResources();
    assert.ok(resources.some((r) => r.uri === 'crm://tickets/T-1001'));
    const read = await client.readResource({ uri: 'crm://tickets/T-1001' });
    assert.match(String((read.contents[0] as { text?: string }).text), /Dana Whitfield/);
    await assert.rejects(client.readResource({ uri: 'crm://tickets/T-9999' }), /No ticket/);

    const { prompts } = await client.listPrompts();
    assert.deepEqual(prompts.map((p) => p.name), ['summarise_ticket']);
    const prompt = await client.getPrompt({ name: 'summarise_ticket', arguments: { ticket_id: 'T-1001' } });
    assert.equal(prompt.messages.length, 2);
    assert.match(String((prompt.messages[0].content as { text?: string }).text), /Summarise support ticket T-1001/);
    assert.equal(prompt.messages[1].content.type, 'resource');
  });

  test('logs nothing to stderr during normal operation', () => {
    assert.equal(stderr(), '');
  });
});

describe('demo-email over stdio', () => {
  let client: Client;
  before(async () => {
    ({ client } = await connect('email'));
  });
  after(async () => {
    await client.close();
  });

  test('lists send_reply_email as an open-world tool', async () => {
    assert.equal(client.getServerVersion()?.name, 'demo-email');
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name), ['send_reply_email']);
    assert.equal(tools[0].annotations?.openWorldHint, true);
    assert.equal(tools[0].inputSchema.additionalProperties, false);
    assert.deepEqual(tools[0].inputSchema.required, ['to', 'subject', 'body']);
  });

  test('send_reply_email pretends to send and returns a message id', async () => {
    const result = await client.callTool({
      name: 'send_reply_email',
      arguments: { to: 'dana.whitfield@example.com', subject: 'Your refund for order #58213', body: 'Hi Dana, we refunded the duplicate $49.00 charge.' },
    });
    assert.notEqual(result.isError, true);
    assert.match(textOf(result), /^queued message id <[0-9a-f]{16}@demo-email\.invalid> to dana\.whitfield@example\.com/);
  });

  test('refuses malformed recipients and multi-line subjects (header injection)', async () => {
    await assertRefused(client, 'send_reply_email', { to: 'not-an-address', subject: 's', body: 'b' }, /Invalid email address/);
    await assertRefused(client, 'send_reply_email', { to: 'a@example.com\r\nBcc: x@attacker.example', subject: 's', body: 'b' }, /Invalid email address/);
    await assertRefused(client, 'send_reply_email', { to: 'a@example.com', subject: 'hi\r\nBcc: x@attacker.example', body: 'b' }, /subject must be a single line/);
  });
});

describe('stdout hygiene', () => {
  for (const name of ['crm', 'email'] as const) {
    test(`${name}: every stdout line is a JSON-RPC message and the server exits when stdin closes`, async () => {
      const child = spawn(process.execPath, [serverScript(name)], { stdio: ['pipe', 'pipe', 'pipe'] });
      const lines: string[] = [];
      const responses = new Map<number, unknown>();
      const waiters = new Map<number, () => void>();
      createInterface({ input: child.stdout }).on('line', (line) => {
        lines.push(line);
        const msg = JSON.parse(line) as { id?: number };
        if (typeof msg.id === 'number') {
          responses.set(msg.id, msg);
          waiters.get(msg.id)?.();
        }
      });
      const send = (msg: object) => child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...msg })}\n`);
      const response = (id: number) =>
        responses.has(id) ? Promise.resolve() : new Promise<void>((resolve) => waiters.set(id, resolve));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      try {
        send({ id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } });
        await response(1);
        send({ method: 'notifications/initialized' });
        send({ id: 2, method: 'tools/list' });
        await response(2);
        child.stdin.end();
        assert.equal(await exited, 0);
      } finally {
        clearTimeout(timer);
        child.kill();
      }
      assert.ok(lines.length >= 2);
      for (const line of lines) assert.equal((JSON.parse(line) as { jsonrpc?: string }).jsonrpc, '2.0', line);
    });
  }
});
