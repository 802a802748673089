import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { AuditLog, FileAuditStore, verifyAuditLog, type AuditStore } from '../src/audit/index.js';
import { MISBEHAVING, NODE, refusal, startGateway, textOf, type Harness } from './helpers/gateway.js';

async function recorded(file: string): Promise<{ name: string; args: Record<string, unknown> }[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.trim() === '' ? [] : text.trim().split('\n').map((l) => JSON.parse(l));
}

describe('gateway semantics with a recording upstream', () => {
  let h: Harness;
  let recordFile: string;
  let recordDir: string;

  before(async () => {
    recordDir = await mkdtemp(join(tmpdir(), 'portcullis-rec-'));
    // A gateway running as root runs sandboxes as an unprivileged uid, which must be able to write here.
    await chmod(recordDir, 0o777);
    recordFile = join(recordDir, 'calls.jsonl');
    h = await startGateway(`
servers:
  up:
    command: ${JSON.stringify(NODE)}
    args: [${JSON.stringify(MISBEHAVING)}]
    env: { RECORD_FILE: ${JSON.stringify(recordFile)} }
    timeout_seconds: 1
    sandbox: { filesystem: { read_write: [${JSON.stringify(recordDir)}] } }
identities:
  agent:
    allowed_tools: [up.echo, up.write_note, up.login, up.crash, up.hang, up.garbage, up.add_tools, up.slow_progress, up.structured, "late_*"]
    denied_tools: ["*_admin"]
    requires_human_approval_on: [up.write_note]
    argument_constraints:
      up.echo: { properties: { text: { pattern: "^[a-z ]*$" } } }
  reader:
    allowed_tools: ["up.e*"]
    denied_tools: ["echo"]
  echo-only:
    allowed_tools: [up.echo]
  short-lived:
    allowed_tools: [up.echo]
    session_ttl_seconds: 1
`);
  });
  after(async () => {
    await h.close();
    await rm(recordDir, { recursive: true, force: true });
  });

  test('a tool not allowed for the identity is absent from tools/list and uncallable', async () => {
    const client = await h.connect('echo-only');
    const names = (await client.listTools()).tools.map((t) => t.name);
    assert.deepEqual(names, ['up__echo']);
    const before = (await recorded(recordFile)).length;
    const message = await refusal(client, 'up__write_note', { note: 'x' });
    assert.match(message, /-32010.*TOOL_NOT_ALLOWED: tool up\.write_note is not in allowed_tools of identity echo-only/);
    assert.equal((await recorded(recordFile)).length, before, 'the upstream saw the refused call');
  });

  test('glob deny beats an allow that names the same tool', async () => {
    const reader = await h.connect('reader');
    const names = (await reader.listTools()).tools.map((t) => t.name);
    assert.deepEqual(names, [], 'up.e* allows echo but the unqualified deny "echo" must win');
    const message = await refusal(reader, 'up__echo', { text: 'hi' });
    assert.match(message, /TOOL_NOT_ALLOWED: .*denied_tools pattern "echo"/);
  });

  test('arguments failing the tool schema never reach the upstream and the error names the argument', async () => {
    const client = await h.connect('agent');
    const before = (await recorded(recordFile)).length;
    const message = await refusal(client, 'up__echo', { text: 'x'.repeat(101) });
    assert.match(message, /-32602/);
    assert.match(message, /INVALID_ARGUMENTS: arguments\.text/);
    const extra = await refusal(client, 'up__echo', { text: 'ok', smuggled: 'x' });
    assert.match(extra, /smuggled is not an accepted argument/);
    assert.equal((await recorded(recordFile)).length, before);
  });

  test('an argument constraint of the identity refuses values the tool schema would accept', async () => {
    const client = await h.connect('agent');
    const message = await refusal(client, 'up__echo', { text: 'Robert; DROP TABLE' });
    assert.match(message, /ARGUMENT_CONSTRAINT: arguments\.text must match/);
    const ok = await client.callTool({ name: 'up__echo', arguments: { text: 'hello world' } });
    assert.equal(textOf(ok), 'hello world');
  });

  test('a tool on the approval list is held and never executed without approval', async () => {
    const client = await h.connect('agent');
    const before = (await recorded(recordFile)).length;
    const message = await refusal(client, 'up__write_note', { note: 'x' });
    // No elicitation capability: the call is queued for an out-of-band approver (see test/approvals.test.ts).
    assert.match(message, /-32011.*APPROVAL_PENDING: held for approval as ap_/);
    assert.equal((await recorded(recordFile)).length, before, 'a held call reached the upstream');
    const records = await h.auditRecords();
    const held = records.filter((r) => r.tool === 'write_note');
    assert.equal(held.at(-1)?.decision, 'hold');
    assert.equal(held.at(-1)?.code, 'APPROVAL_PENDING');
    assert.ok(held.some((r) => r.type === 'approval' && r.code === 'APPROVAL_REQUIRED' && r.detail?.event === 'requested'), 'the approval request is audited with the rule that triggered it');
  });

  test('a session is refused once session_ttl_seconds has passed', async () => {
    const client = await h.connect('short-lived');
    assert.equal(textOf(await client.callTool({ name: 'up__echo', arguments: { text: 'early' } })), 'early');
    await new Promise((r) => setTimeout(r, 1100));
    const before = (await recorded(recordFile)).length;
    const message = await refusal(client, 'up__echo', { text: 'late' });
    assert.match(message, /SESSION_EXPIRED: .*re-authenticate/);
    assert.equal((await recorded(recordFile)).length, before);
  });

  test('a tool added after the server was pinned stays hidden, even when the allowlist covers it', async () => {
    const client = await h.connect('agent');
    let changed = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => void changed++);
    await client.callTool({ name: 'up__add_tools', arguments: {} });
    for (let i = 0; i < 50 && changed === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(changed > 0, 'list_changed was not relayed');
    const names = (await client.listTools()).tools.map((t) => t.name);
    assert.ok(!names.includes('up__late_tool'), 'late_* covers late_tool, but it was not pinned');
    assert.match(await refusal(client, 'up__late_tool'), /TOOL_NOT_PINNED: tool "late_tool" of server "up" was not there when the server was pinned/);
    // Authorisation answers first: an identity that may not use a tool learns nothing of its pin.
    assert.match(await refusal(client, 'up__late_admin'), /TOOL_NOT_ALLOWED/);
    const alert = (await h.auditRecords()).find((r) => r.type === 'alert' && r.tool === 'late_tool');
    assert.equal(alert?.code, 'TOOL_NOT_PINNED');
  });

  test('secret-named arguments are stored redacted in the audit log', async () => {
    const client = await h.connect('agent');
    await client.callTool({ name: 'up__login', arguments: { user: 'dana', password: 'hunter2-very-secret' } });
    const raw = await readFile(join(h.dataDir, 'audit.jsonl'), 'utf8');
    assert.ok(!raw.includes('hunter2-very-secret'), 'the password reached the audit log');
    const call = (await h.auditRecords()).find((r) => r.tool === 'login' && r.type === 'call');
    assert.deepEqual(call?.args, { user: 'dana', password: '[REDACTED]' });
  });

  test('structuredContent and _meta pass through unchanged', async () => {
    const client = await h.connect('agent');
    const result = await client.callTool({ name: 'up__structured', arguments: {} });
    assert.deepEqual(result.structuredContent, { n: 42 });
    assert.deepEqual(result._meta, { 'example.com/trace': 'abc' });
  });

  test('progress notifications reach the caller with its own token', async () => {
    const client = await h.connect('agent');
    const seen: number[] = [];
    const result = await client.callTool({ name: 'up__slow_progress', arguments: { steps: 3 } }, undefined, { onprogress: (p) => void seen.push(p.progress) });
    assert.equal(textOf(result), 'done');
    assert.deepEqual(seen, [1, 2, 3]);
  });

  test('a hung upstream call fails with UPSTREAM_TIMEOUT within the configured bound', async () => {
    const client = await h.connect('agent');
    const t0 = Date.now();
    const message = await refusal(client, 'up__hang');
    assert.match(message, /UPSTREAM_TIMEOUT/);
    assert.ok(Date.now() - t0 < 3000);
    assert.equal(textOf(await client.callTool({ name: 'up__echo', arguments: { text: 'still here' } })), 'still here');
  });

  test('garbage on the upstream stdout is audited and does not break the connection', async () => {
    const client = await h.connect('agent');
    assert.equal(textOf(await client.callTool({ name: 'up__garbage', arguments: {} })), 'after garbage');
    const records = await h.auditRecords();
    assert.ok(records.some((r) => r.type === 'upstream' && r.reason === 'protocol-error'));
  });

  test('an upstream crash mid-call gives the client a clear error and the server is restarted', async () => {
    const client = await h.connect('agent');
    const other = await h.connect('agent');
    const message = await refusal(client, 'up__crash');
    assert.match(message, /UPSTREAM_UNAVAILABLE: server "up" exited with code 3/);
    let answer = '';
    for (let i = 0; i < 40 && answer === ''; i++) {
      await new Promise((r) => setTimeout(r, 100));
      answer = await other.callTool({ name: 'up__echo', arguments: { text: 'back' } }).then(textOf, () => '');
    }
    assert.equal(answer, 'back', 'the gateway did not recover the upstream');
    const kinds = (await h.auditRecords()).filter((r) => r.type === 'upstream').map((r) => r.reason);
    assert.ok(kinds.includes('exited') && kinds.includes('restart-scheduled'));
  });

  test('every decision lands in an intact audit chain', async () => {
    const result = await verifyAuditLog(join(h.dataDir, 'audit.jsonl'));
    assert.equal(result.ok, true, JSON.stringify(result));
    const codes = new Set((await h.auditRecords()).map((r) => r.code));
    for (const code of ['TOOL_NOT_ALLOWED', 'INVALID_ARGUMENTS', 'ARGUMENT_CONSTRAINT', 'APPROVAL_REQUIRED', 'SESSION_EXPIRED', 'ALLOWED']) {
      assert.ok(codes.has(code), `no audit record with code ${code}`);
    }
  });
});

describe('aggregation', () => {
  test('a paged tool list is reachable page by page and a forged cursor is refused', async () => {
    const h = await startGateway(`
servers:
  up: { command: ${JSON.stringify(NODE)}, args: [${JSON.stringify(MISBEHAVING)}], env: { PAGE_SIZE: "7", BULK_TOOLS: "20" }, prefix: false }
identities:
  agent: { allowed_tools: ["*"] }
`);
    try {
      const client = await h.connect('agent');
      const first = await client.listTools();
      assert.equal(first.tools.length, 7, 'the upstream page size must pass through');
      const names = first.tools.map((t) => t.name);
      let cursor = first.nextCursor;
      while (cursor) {
        const page = await client.listTools({ cursor });
        names.push(...page.tools.map((t) => t.name));
        cursor = page.nextCursor;
      }
      assert.equal(names.length, 30);
      assert.ok(names.includes('bulk_020') && names.includes('echo'));
      await assert.rejects(client.listTools({ cursor: 'not-a-cursor' }), /Invalid cursor/);
    } finally {
      await h.close();
    }
  });

  test('several servers aggregate into one namespaced list and calls route to the right one', async () => {
    const h = await startGateway(`
servers:
  one: { command: ${JSON.stringify(NODE)}, args: [${JSON.stringify(MISBEHAVING)}] }
  two: { command: ${JSON.stringify(NODE)}, args: [${JSON.stringify(MISBEHAVING)}], env: { BULK_TOOLS: "1" } }
identities:
  agent: { allowed_tools: ["one.echo", "two.bulk_001", "two.echo"] }
`);
    try {
      const client = await h.connect('agent');
      const names = (await client.listTools()).tools.map((t) => t.name).sort();
      assert.deepEqual(names, ['one__echo', 'two__bulk_001', 'two__echo']);
      assert.equal(textOf(await client.callTool({ name: 'two__bulk_001', arguments: {} })), 'bulk_001');
      const unknown = await client.callTool({ name: 'one__bulk_001', arguments: {} });
      assert.equal(unknown.isError, true);
      assert.match(textOf(unknown), /^UNKNOWN_TOOL: no configured server offers a tool named "one__bulk_001"/);
    } finally {
      await h.close();
    }
  });

  test('an upstream answer over the size limit fails its call at once, not at the timeout', async () => {
    const h = await startGateway(`
limits: { max_message_bytes: 16384 }
servers:
  up: { command: ${JSON.stringify(NODE)}, args: [${JSON.stringify(MISBEHAVING)}], timeout_seconds: 60 }
identities:
  agent: { allowed_tools: ["*"] }
`);
    try {
      const client = await h.connect('agent');
      const t0 = Date.now();
      assert.match(await refusal(client, 'up__huge'), /MESSAGE_TOO_LARGE: the server's \d+-byte answer exceeds limits\.max_message_bytes \(16384\)/);
      assert.ok(Date.now() - t0 < 5000, 'the call waited for the timeout');
      assert.equal(textOf(await client.callTool({ name: 'up__echo', arguments: { text: 'next' } })), 'next');
    } finally {
      await h.close();
    }
  });

  test('a guard that throws refuses the call (fail closed)', async () => {
    const h = await startGateway(
      `
servers:
  up: { command: ${JSON.stringify(NODE)}, args: [${JSON.stringify(MISBEHAVING)}] }
identities:
  agent: { allowed_tools: ["*"] }
`,
      { guards: [{ name: 'broken', onInvoke: () => { throw new Error('bug'); } }] },
    );
    try {
      const client = await h.connect('agent');
      assert.match(await refusal(client, 'up__echo', { text: 'x' }), /GUARD_ERROR: guard broken failed \(bug\)/);
    } finally {
      await h.close();
    }
  });

  test('an upstream that cannot start stops the gateway with the reason and its stderr', async () => {
    await assert.rejects(
      startGateway(`
servers:
  bad: { command: ${JSON.stringify(NODE)}, args: ["-e", "console.error('missing API key'); process.exit(1)"] }
identities:
  agent: { allowed_tools: ["*"] }
`),
      /server "bad" did not start: .*missing API key/s,
    );
  });

  test('a result is withheld when the audit log cannot record it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portcullis-audit-fail-'));
    const file = await FileAuditStore.open(join(dir, 'audit.jsonl'));
    let failing = false;
    const store: AuditStore = {
      location: file.location,
      tail: () => file.tail(),
      lines: () => file.lines(),
      close: () => file.close(),
      appendBatch: (lines, durable) => (failing ? Promise.reject(new Error('disk full')) : file.appendBatch(lines, durable)),
    };
    const auditLog = await AuditLog.open({ dir, store });
    const h = await startGateway(
      `
servers:
  up: { command: ${JSON.stringify(NODE)}, args: [${JSON.stringify(MISBEHAVING)}] }
identities:
  agent: { allowed_tools: ["*"] }
`,
      { auditLog },
    );
    try {
      const client = await h.connect('agent');
      failing = true;
      const message = await refusal(client, 'up__echo', { text: 'must not leak' });
      assert.match(message, /AUDIT_UNAVAILABLE: the audit log could not be written/);
      assert.doesNotMatch(message, /must not leak/);
    } finally {
      failing = false;
      await h.close().catch(() => {});
      await rm(dir, { recursive: true, force: true });
    }
  });
});
