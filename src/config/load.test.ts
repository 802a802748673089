import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { ConfigError, parseConfig } from './load.js';
import { configJsonSchema } from './json-schema.js';

const base = `servers:
  crm:   { command: node, args: [./demo/crm-server.js] }
  email: { url: "http://127.0.0.1:9001/mcp" }
identities:
  support-agent-v1:
    allowed_tools: [crm.read_crm_ticket, email.send_reply_email, crm.refund_request, crm.account_deletion]
    denied_tools: ["*_database_write", "billing_*"]
    session_ttl_seconds: 300
    requires_human_approval_on: [crm.refund_request, crm.account_deletion]
`;

function problems(text: string): ConfigError['problems'] {
  try {
    parseConfig(text, 'p.yaml');
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
  assert.fail('expected the config to be refused');
}

test('the identity exactly as security teams write it loads', () => {
  const { config, identities } = parseConfig(base);
  assert.equal(config.mode, 'development');
  assert.equal(config.limits.max_message_bytes, 4 * 1024 * 1024);
  const id = identities.get('support-agent-v1')!;
  assert.equal(id.sessionTtlSeconds, 300);
  assert.equal(id.toolAccess('crm', 'billing_update').allowed, false);
});

test('an unknown server in a pattern names the path and line and suggests the server', () => {
  const [p] = problems(base.replace('email.send_reply_email', 'crm2.send_reply_email'));
  assert.equal(p.path, 'identities.support-agent-v1.allowed_tools[1]');
  assert.equal(p.line, 6);
  assert.match(p.message, /unknown server "crm2" .*did you mean "crm"\?/);
});

test('a misspelt field is refused with the intended name', () => {
  const [p] = problems(base.replace('denied_tools', 'denyed_tools'));
  assert.equal(p.path, 'identities.support-agent-v1.denyed_tools');
  assert.equal(p.line, 7);
  assert.match(p.message, /did you mean "denied_tools"/);
});

test('an exposed tool name used as a pattern is refused with the policy spelling', () => {
  const [p] = problems(base.replace('crm.read_crm_ticket', 'crm__read_crm_ticket'));
  assert.match(p.message, /write "crm\.read_crm_ticket"/);
});

test('a server with both command and url is refused', () => {
  const [p] = problems(base.replace('{ command: node, args: [./demo/crm-server.js] }', '{ command: node, url: "http://127.0.0.1:1/mcp" }'));
  assert.equal(p.path.startsWith('servers.crm'), true);
});

test('stdio server errors come from the stdio shape, not a vague union message', () => {
  const [p] = problems(base.replace('args: [./demo/crm-server.js]', 'args: 5'));
  assert.equal(p.path, 'servers.crm.args');
});

test('server names that would make exposed names ambiguous are refused at load', () => {
  const ps = problems(`servers:
  a: { command: node }
  a__b: { command: node }
identities:
  x: { allowed_tools: ["*"] }
`);
  assert.ok(ps.some((p) => /separator/.test(p.message)));
  const two = problems(`servers:
  a: { command: node, prefix: false }
  b: { command: node, prefix: false }
identities:
  x: { allowed_tools: ["*"] }
`);
  assert.match(two[0].message, /only one server may set prefix: false/);
  assert.equal(two[0].path, 'servers.b.prefix');
});

test('production mode refuses anonymous clients', () => {
  const [p] = problems(`mode: production\nanonymous_identity: support-agent-v1\n${base}`);
  assert.equal(p.path, 'anonymous_identity');
  assert.match(p.message, /production mode refuses/);
});

test('anonymous_identity must name a configured identity', () => {
  const [p] = problems(`anonymous_identity: support-agent\n${base}`);
  assert.match(p.message, /did you mean "support-agent-v1"/);
});

test('an argument constraint that is not valid JSON Schema is refused at load', () => {
  const ps = problems(`${base}    argument_constraints:\n      email.send_reply_email: { properties: { to: { type: strin } } }\n`);
  assert.match(ps[0].message, /not a valid JSON Schema/);
});

test('YAML syntax errors point at the line', () => {
  const [p] = problems('servers:\n  crm: { command: node\nidentities: {}\n');
  assert.ok(p.line! >= 2);
  assert.match(p.message, /fix the YAML syntax/);
});

test('an approval rule for a tool that is not allowed is a warning', () => {
  const { warnings } = parseConfig(base.replace('crm.refund_request, crm.account_deletion]\n    denied', 'crm.account_deletion]\n    denied'));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0].message, /not in allowed_tools/);
});

test('a server package that imitates another configured one is a warning naming the intended package, with its line', () => {
  const text = `servers:
  slack: { command: npx, args: [-y, mcp-slack-notifier@1.4.2] }
  slack-alerts:
    command: npx
    args: [-y, mcp-slack-notifyer]
identities:
  ops: { allowed_tools: ["slack.*", "slack-alerts.*"] }
`;
  const { warnings } = parseConfig(text, 'p.yaml');
  assert.deepEqual(warnings.map((w) => [w.path, w.line]), [['servers.slack-alerts.args[1]', 5]]);
  assert.match(warnings[0].message, /"mcp-slack-notifyer" looks like "mcp-slack-notifier"/);
});

test('screening: defaults quarantine flagged and spotlight untrusted output; overrides must name configured servers and tools', () => {
  const { config } = parseConfig(base);
  assert.deepEqual(
    { on_flagged: config.screening.on_flagged, untrusted: config.screening.untrusted, secrets: config.screening.secrets, pii: config.screening.pii, threshold: config.screening.threshold },
    { on_flagged: 'quarantine', untrusted: 'spotlight', secrets: 'redact', pii: 'allow', threshold: 0.5 },
  );
  const found = problems(`${base}screening:
  on_flagged: redact
  servers: { crn: { trust: untrusted } }
  tools: { crm2.read: { secrets: block } }
`);
  assert.deepEqual(found.map((p) => p.path), ['screening.servers.crn', 'screening.tools.crm2.read']);
  assert.match(found[0].message, /unknown server "crn" — did you mean "crm"\?/);
  const [bad] = problems(`${base}screening: { on_flagged: delete }
`);
  assert.equal(bad.path, 'screening.on_flagged');
});

test('JSON configs are accepted', () => {
  const { config } = parseConfig(JSON.stringify({ servers: { s: { command: 'node' } }, identities: { a: { allowed_tools: ['s.*'] } } }));
  assert.deepEqual(Object.keys(config.servers), ['s']);
});

test('the published JSON Schema is the one the loader uses', async () => {
  const published = JSON.parse(await readFile(new URL('../../../schema/portcullis.config.schema.json', import.meta.url), 'utf8'));
  assert.deepEqual(published, configJsonSchema(), 'regenerate with: node dist/src/cli/main.js config schema > schema/portcullis.config.schema.json');
});
