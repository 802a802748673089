/**
 * Human approval end to end: held calls never reach the upstream until a human
 * approves that exact call, by MCP elicitation (the SDK client's handler) or out
 * of band (the `portcullis approvals` CLI in another process, the HTTP admin API
 * with an approver token, the in-process desk); approvals are bound, single use
 * and expire; agent credentials never approve; a webhook announces requests.
 * The recording fixture server proves what the upstream saw. 127.0.0.1 only.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema, McpError, type ElicitRequest, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { approvalDesk, issueApproverToken, type ApprovalDesk, type ApprovalView } from '../src/approvals/index.js';
import { verifyAuditLog, type AuditRecord } from '../src/audit/index.js';
import { issueToken, loadOrCreateSigningKey } from '../src/auth/index.js';
import { startHttpGateway, type RunningHttpGateway } from '../src/serve/http.js';
import { TempDirs, killAllChildren, runCli } from './helpers/cli.js';
import { MISBEHAVING, NODE, startGateway, textOf, type Harness } from './helpers/gateway.js';

const dirs = new TempDirs();
after(async () => {
  await killAllChildren();
  await dirs.cleanup();
});

const META = 'portcullis/approval';

/** A directory the sandboxed fixture server may write its call record to (it runs as another uid under root). */
async function recordDirectory(): Promise<string> {
  const dir = await dirs.make('portcullis-approvals-rec-');
  await chmod(dir, 0o777);
  return dir;
}

/** The recording fixture server; its sandbox may write only the record directory. */
function fixtureServer(recordDir: string): string {
  const recordFile = join(recordDir, 'calls.jsonl');
  return `{ command: ${JSON.stringify(NODE)}, args: [${JSON.stringify(MISBEHAVING)}], env: { RECORD_FILE: ${JSON.stringify(recordFile)} }, sandbox: { filesystem: { read_write: [${JSON.stringify(recordDir)}] } } }`;
}

function configYaml(recordDir: string, approvals: string): string {
  return `
servers:
  up: ${fixtureServer(recordDir)}
identities:
  agent:
    allowed_tools: [up.echo, up.write_note, up.login, up.structured]
    requires_human_approval_on: [up.write_note, up.login, up.structured]
  other-agent:
    allowed_tools: [up.write_note]
    requires_human_approval_on: [up.write_note]
approvals: ${approvals}
`;
}

async function calls(recordDir: string): Promise<{ name: string; args: Record<string, unknown> }[]> {
  const text = await readFile(join(recordDir, 'calls.jsonl'), 'utf8').catch(() => '');
  return text.trim() === '' ? [] : text.trim().split('\n').map((l) => JSON.parse(l));
}

interface Refused {
  rpc: number;
  code: string;
  id?: string;
  message: string;
}

/** Calls a tool that must be refused; returns the refusal's code and approval id. */
async function refused(client: Client, name: string, args: Record<string, unknown>, approval?: string, options?: { signal?: AbortSignal }): Promise<Refused> {
  let result: unknown;
  try {
    result = await client.callTool({ name, arguments: args, ...(approval ? { _meta: { [META]: approval } } : {}) }, undefined, options);
  } catch (error) {
    if (!(error instanceof McpError)) throw error;
    const data = (error.data ?? {}) as { code?: string; approvalId?: string };
    return { rpc: error.code, code: String(data.code), id: data.approvalId, message: error.message };
  }
  throw new Error(`expected ${name} to be refused, got ${JSON.stringify(result).slice(0, 300)}`);
}

async function run(client: Client, name: string, args: Record<string, unknown>, approval?: string): Promise<string> {
  return textOf(await client.callTool({ name, arguments: args, ...(approval ? { _meta: { [META]: approval } } : {}) }));
}

const alice = { name: 'alice', channel: 'api' as const };

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

const approvalRecords = async (h: Harness, id: string): Promise<AuditRecord[]> => (await h.auditRecords()).filter((r) => r.type === 'approval' && r.detail?.id === id);

/** A loopback chat-ops bot that collects webhook deliveries. */
async function webhookReceiver(): Promise<{ url: string; received: { headers: Record<string, unknown>; body: Record<string, unknown> }[]; close(): Promise<void> }> {
  const received: { headers: Record<string, unknown>; body: Record<string, unknown> }[] = [];
  const server: Server = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (text += c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(text) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hooks/approvals`, received, close: () => new Promise((r) => server.close(() => r())) };
}

// ---- the out-of-band queue ----------------------------------------------------

describe('approvals: out-of-band queue (client without elicitation)', () => {
  let h: Harness;
  let recordDir: string;
  let configFile: string;
  let desk: ApprovalDesk;
  let hook: Awaited<ReturnType<typeof webhookReceiver>>;

  before(async () => {
    recordDir = await recordDirectory();
    hook = await webhookReceiver();
    const yaml = configYaml(recordDir, `{ approvers: [alice, secops-bot], out_of_band_on: [up.structured], webhook: { url: ${JSON.stringify(hook.url)}, headers: { Authorization: "Bearer bot-secret" } } }`);
    h = await startGateway(yaml);
    configFile = join(h.dataDir, 'portcullis.yaml');
    await writeFile(configFile, yaml);
    desk = approvalDesk(h.gateway);
  });
  after(async () => {
    await h.close();
    await hook.close();
  });

  const cli = (...args: string[]) => runCli(['approvals', ...args, '--data', h.dataDir, ...(args[0] === 'approve' || args[0] === 'deny' ? ['--config', configFile] : [])]);

  test('a held call is not executed until approved: the upstream sees nothing, then the approved retry runs exactly once (CLI approve)', async () => {
    const client = await h.connect('agent');
    const before = (await calls(recordDir)).length;
    const first = await refused(client, 'up__write_note', { note: 'refund 49.00' });
    assert.equal(first.rpc, -32011);
    assert.equal(first.code, 'APPROVAL_PENDING');
    assert.match(first.message, /APPROVAL_PENDING: held for approval as ap_.*retry exactly the same call with _meta \{"portcullis\/approval": "ap_/);
    assert.equal((await calls(recordDir)).length, before, 'the upstream saw a held call');

    const list = await cli('list');
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`${first.id}\\s+pending\\s+\\S+\\s+agent\\s+up\\.write_note\\s+up\\.write_note`));
    const show = await cli('show', first.id!);
    assert.match(show.stdout, /"note":"refund 49\.00"/);
    assert.match(show.stdout, /held by\s+calls to up\.write_note need a human's approval/);
    assert.match(show.stdout, /risk\s+(not rated|permission: .+; blast radius: .+; reversibility: .+; tier: \S+)/);
    assert.equal((await calls(recordDir)).length, before, 'looking at a request must not run it');

    const approve = await cli('approve', first.id!, '--as', 'alice', '--reason', 'customer was double charged');
    assert.equal(approve.code, 0, approve.stderr);
    assert.match(approve.stdout, new RegExp(`${first.id} approved by alice`));

    assert.equal(await run(client, 'up__write_note', { note: 'refund 49.00' }, first.id), 'stored');
    const seen = await calls(recordDir);
    assert.equal(seen.length, before + 1);
    assert.deepEqual(seen.at(-1), { name: 'write_note', args: { note: 'refund 49.00' } });

    const events = (await approvalRecords(h, first.id!)).map((r) => r.detail?.event);
    assert.deepEqual(events.filter((e) => e !== 'webhook-delivered'), ['requested', 'decided', 'consumed']);
    const decided = (await approvalRecords(h, first.id!)).find((r) => r.detail?.event === 'decided')!;
    assert.equal(decided.detail?.approver, 'alice');
    assert.equal(decided.detail?.channel, 'cli');
    assert.equal(decided.detail?.approverReason, 'customer was double charged');
    const allowed = (await h.auditRecords()).filter((r) => r.type === 'call' && r.tool === 'write_note' && r.decision === 'allow').at(-1)!;
    assert.equal((allowed.detail?.approval as { id?: string }).id, first.id, 'the executed call names its approval');
  });

  test('replaying a used approval is refused and nothing runs', async () => {
    const client = await h.connect('agent');
    const { id } = await refused(client, 'up__write_note', { note: 'once' });
    await desk.approve(id!, alice);
    assert.equal(await run(client, 'up__write_note', { note: 'once' }, id), 'stored');
    const before = (await calls(recordDir)).length;
    const replay = await refused(client, 'up__write_note', { note: 'once' }, id);
    assert.equal(replay.code, 'APPROVAL_REPLAYED');
    assert.match(replay.message, /already used/);
    assert.equal((await calls(recordDir)).length, before);
    assert.ok((await approvalRecords(h, id!)).some((r) => r.detail?.event === 'refused' && r.code === 'APPROVAL_REPLAYED'), 'the replay is audited');
  });

  test('concurrent retries with one approval (replay race) run the call once', async () => {
    const client = await h.connect('agent');
    const { id } = await refused(client, 'up__write_note', { note: 'race' });
    await desk.approve(id!, alice);
    const before = (await calls(recordDir)).length;
    const outcomes = await Promise.allSettled([1, 2, 3, 4].map(() => run(client, 'up__write_note', { note: 'race' }, id)));
    assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1);
    assert.equal((await calls(recordDir)).length, before + 1);
  });

  test('an approval cannot run different arguments (argument swap) and is not burned by the attempt', async () => {
    const client = await h.connect('agent');
    const { id } = await refused(client, 'up__write_note', { note: 'refund 5.00' });
    await desk.approve(id!, alice);
    const before = (await calls(recordDir)).length;
    const swapped = await refused(client, 'up__write_note', { note: 'refund 5000.00' }, id);
    assert.equal(swapped.code, 'APPROVAL_MISMATCH');
    assert.match(swapped.message, /different call \(arguments differ\)/);
    const otherTool = await refused(client, 'up__login', { user: 'x', password: 'y' }, id);
    assert.equal(otherTool.code, 'APPROVAL_MISMATCH');
    assert.match(otherTool.message, /tool, arguments differ/);
    assert.equal((await calls(recordDir)).length, before, 'the swapped call reached the upstream');
    assert.equal(await run(client, 'up__write_note', { note: 'refund 5.00' }, id), 'stored', 'the approved call itself still runs once');
  });

  test('an approval is bound to its session and identity: another session or agent cannot use it', async () => {
    const owner = await h.connect('agent');
    const { id } = await refused(owner, 'up__write_note', { note: 'mine' });
    await desk.approve(id!, alice);
    const before = (await calls(recordDir)).length;
    const sibling = await h.connect('agent');
    const stolen = await refused(sibling, 'up__write_note', { note: 'mine' }, id);
    assert.equal(stolen.code, 'APPROVAL_MISMATCH');
    assert.match(stolen.message, /\(session differ\)/);
    const other = await h.connect('other-agent');
    const foreign = await refused(other, 'up__write_note', { note: 'mine' }, id);
    assert.equal(foreign.code, 'APPROVAL_MISMATCH');
    assert.match(foreign.message, /identity, session differ/);
    const made = await refused(owner, 'up__write_note', { note: 'mine' }, 'ap_AAAAAAAAAAAAAAAA');
    assert.equal(made.code, 'APPROVAL_MISMATCH', 'a made-up id');
    assert.equal((await calls(recordDir)).length, before);
    assert.equal(await run(owner, 'up__write_note', { note: 'mine' }, id), 'stored');
  });

  test('repeating the exact call without the id reuses its request (no duplicate asks) and runs once approved', async () => {
    const client = await h.connect('agent');
    const a = await refused(client, 'up__write_note', { note: 'again' });
    const b = await refused(client, 'up__write_note', { note: 'again' });
    assert.equal(a.id, b.id);
    await desk.approve(a.id!, alice);
    assert.equal(await run(client, 'up__write_note', { note: 'again' }), 'stored');
    const c = await refused(client, 'up__write_note', { note: 'again' });
    assert.notEqual(c.id, a.id, 'a used approval never covers a second run');
  });

  test('a denial (CLI deny --reason) refuses the retry with the reason, and the call is not asked again meanwhile', async () => {
    const client = await h.connect('agent');
    const { id } = await refused(client, 'up__write_note', { note: 'deny me' });
    const deny = await cli('deny', id!, '--as', 'secops-bot', '--reason', 'not during the freeze');
    assert.equal(deny.code, 0, deny.stderr);
    const before = (await calls(recordDir)).length;
    const retry = await refused(client, 'up__write_note', { note: 'deny me' }, id);
    assert.equal(retry.code, 'APPROVAL_DENIED');
    assert.match(retry.message, /denied by secops-bot via cli: not during the freeze/);
    const again = await refused(client, 'up__write_note', { note: 'deny me' });
    assert.equal(again.code, 'APPROVAL_DENIED');
    assert.equal((await calls(recordDir)).length, before);
    const late = await cli('approve', id!, '--as', 'alice');
    assert.notEqual(late.code, 0, 'a decided request cannot be flipped');
    assert.match(late.stderr, /already denied by secops-bot/);
  });

  test("an agent identity cannot approve through the CLI, nor can a name that is not a configured approver", async () => {
    const client = await h.connect('agent');
    const { id } = await refused(client, 'up__write_note', { note: 'self-approve' });
    const self = await cli('approve', id!, '--as', 'agent');
    assert.notEqual(self.code, 0);
    assert.match(self.stderr, /"agent" is an agent identity; an agent's credential can never approve/);
    const stranger = await cli('approve', id!, '--as', 'mallory');
    assert.notEqual(stranger.code, 0);
    assert.match(stranger.stderr, /"mallory" is not a configured approver/);
    await assert.rejects(desk.approve(id!, { name: 'agent', channel: 'api' }), /can never approve/);
    assert.equal((await desk.get(id!))?.status, 'pending');
  });

  test('the webhook announces each new request (secrets redacted, configured headers sent) and its delivery is audited', async () => {
    const client = await h.connect('agent');
    const { id } = await refused(client, 'up__login', { user: 'dana', password: 'hunter2' });
    const delivery = await waitFor('the webhook', async () => hook.received.find((d) => d.body.id === id));
    const body = delivery.body;
    assert.equal(delivery.headers.authorization, 'Bearer bot-secret');
    assert.equal(body.identity, 'agent');
    assert.equal(body.server, 'up');
    assert.equal(body.tool, 'login');
    assert.deepEqual(body.arguments, { user: 'dana', password: '[REDACTED]' });
    assert.equal((body.trigger as { rule?: string }).rule, 'up.login');
    const risk = body.risk as { permission?: unknown; blastRadius?: unknown; reversibility?: unknown; tier?: unknown } | null;
    assert.ok(risk === null || ['permission', 'blastRadius', 'reversibility', 'tier'].every((k) => typeof (risk as Record<string, unknown>)[k] === 'string'), 'risk is null or the three answers and the tier');
    assert.match(String(body.expiresAt), /^\d{4}-\d\d-\d\dT/);
    assert.match(String(body.argumentsSha256), /^[0-9a-f]{64}$/);
    assert.doesNotMatch(JSON.stringify(hook.received), /hunter2/);
    const stored = await readFile(join(h.dataDir, 'approvals', `${id}.request.json`), 'utf8');
    assert.doesNotMatch(stored, /hunter2/, 'the queue on disk holds no secret values');
    await waitFor('the webhook audit record', async () => ((await approvalRecords(h, id!)).some((r) => r.detail?.event === 'webhook-delivered') ? true : undefined));
  });

  test('out_of_band_on tools go to the queue even when the client could approve by elicitation', async () => {
    let asked = 0;
    const client = await h.connect('agent', { capabilities: { elicitation: {} } });
    client.setRequestHandler(ElicitRequestSchema, async () => {
      asked++;
      return { action: 'accept', content: {} };
    });
    const r = await refused(client, 'up__structured', {});
    assert.equal(r.code, 'APPROVAL_PENDING');
    assert.equal(asked, 0, "the agent's own client was asked to approve an out-of-band tool");
  });

  test('every approval event lands in the intact audit chain', async () => {
    const result = await verifyAuditLog(join(h.dataDir, 'audit.jsonl'));
    assert.equal(result.ok, true, JSON.stringify(result));
  });
});

// ---- elicitation ----------------------------------------------------------------

describe('approvals: MCP elicitation to a client that declares it', () => {
  let h: Harness;
  let recordDir: string;

  before(async () => {
    recordDir = await recordDirectory();
    // A webhook nobody listens on: its failure must be audited and must not block or decide anything.
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    h = await startGateway(configYaml(recordDir, `{ approvers: [alice], webhook: { url: "http://127.0.0.1:${deadPort}/hook", timeout_seconds: 1 } }`));
  });
  after(async () => h.close());

  async function eliciting(answer: (req: ElicitRequest) => ElicitResult | Promise<ElicitResult>): Promise<{ client: Client; asked: ElicitRequest[] }> {
    const asked: ElicitRequest[] = [];
    const client = await h.connect('agent', { capabilities: { elicitation: {} } });
    client.setRequestHandler(ElicitRequestSchema, async (req) => {
      asked.push(req);
      return answer(req);
    });
    return { client, asked };
  }

  test('accept executes the call once; the form shows the tool, the arguments and what triggered the hold', async () => {
    const { client, asked } = await eliciting(() => ({ action: 'accept', content: { note: 'looks right' } }));
    const before = (await calls(recordDir)).length;
    assert.equal(await run(client, 'up__write_note', { note: 'refund 12.00' }), 'stored');
    assert.equal(asked.length, 1);
    const message = asked[0].params.message;
    assert.match(message, /Tool: up\.write_note \(called as up__write_note\)/);
    assert.match(message, /"note": "refund 12\.00"/);
    assert.match(message, /Why it is held: calls to up\.write_note need a human's approval.*rule "up\.write_note".*\[APPROVAL_REQUIRED by guard approval\]/);
    assert.match(message, /Risk: (not rated|permission: .+; blast radius: .+; reversibility: .+; tier: \S+)/);
    assert.equal((await calls(recordDir)).length, before + 1);
    const decided = (await h.auditRecords()).filter((r) => r.type === 'approval' && r.detail?.event === 'decided' && r.detail?.channel === 'elicitation').at(-1)!;
    assert.equal(decided.decision, 'allow');
    assert.equal(decided.detail?.note, 'looks right');
  });

  test('decline and cancel refuse with APPROVAL_DENIED and the upstream sees nothing', async () => {
    for (const action of ['decline', 'cancel'] as const) {
      const { client } = await eliciting(() => ({ action }));
      const before = (await calls(recordDir)).length;
      const r = await refused(client, 'up__write_note', { note: `refund (${action})` });
      assert.equal(r.code, 'APPROVAL_DENIED');
      assert.match(r.message, action === 'decline' ? /declined/ : /cancelled/);
      assert.equal((await calls(recordDir)).length, before, `${action} let the call through`);
    }
  });

  test('an elicitation handler that fails refuses the call (errors never approve)', async () => {
    const { client } = await eliciting(() => {
      throw new Error('UI crashed');
    });
    const before = (await calls(recordDir)).length;
    const r = await refused(client, 'up__write_note', { note: 'refund (error)' });
    assert.equal(r.code, 'APPROVAL_DENIED');
    assert.match(r.message, /elicitation failed/);
    assert.equal((await calls(recordDir)).length, before);
  });

  test('the form never shows secret argument values, and the approved call still gets them', async () => {
    const { client, asked } = await eliciting(() => ({ action: 'accept' }));
    assert.equal(await run(client, 'up__login', { user: 'dana', password: 'hunter2' }), 'welcome dana');
    assert.doesNotMatch(JSON.stringify(asked[0].params), /hunter2/);
    assert.match(asked[0].params.message, /"password": "\[REDACTED\]"/);
    assert.deepEqual((await calls(recordDir)).at(-1), { name: 'login', args: { user: 'dana', password: 'hunter2' } });
  });

  test('a client without the elicitation capability gets the queue instead; a failing webhook is audited and blocks nothing', async () => {
    const client = await h.connect('agent');
    const r = await refused(client, 'up__write_note', { note: 'no elicitation' });
    assert.equal(r.code, 'APPROVAL_PENDING');
    assert.match(String(r.id), /^ap_/);
    const failed = await waitFor('the webhook failure record', async () => (await approvalRecords(h, r.id!)).find((x) => x.detail?.event === 'webhook-failed'));
    assert.match(String(failed.reason), /webhook failed for ap_.*ECONNREFUSED/);
    await approvalDesk(h.gateway).approve(r.id!, alice);
    assert.equal(await run(client, 'up__write_note', { note: 'no elicitation' }, r.id), 'stored');
  });
});

// ---- expiry -----------------------------------------------------------------------

describe('approvals: expiry (ttl_seconds: 1)', () => {
  let h: Harness;
  let recordDir: string;
  let configFile: string;

  before(async () => {
    recordDir = await recordDirectory();
    const yaml = configYaml(recordDir, '{ approvers: [alice], ttl_seconds: 1 }');
    h = await startGateway(yaml);
    configFile = join(h.dataDir, 'portcullis.yaml');
    await writeFile(configFile, yaml);
  });
  after(async () => h.close());

  test('no decision before the deadline is a denial: a late approval fails and the retry is refused (expired approval)', async () => {
    const client = await h.connect('agent');
    const { id } = await refused(client, 'up__write_note', { note: 'slow human' });
    await sleep(1100);
    const late = await runCli(['approvals', 'approve', id!, '--as', 'alice', '--config', configFile, '--data', h.dataDir]);
    assert.notEqual(late.code, 0);
    assert.match(late.stderr, /expired at .*counts as denied/);
    const retry = await refused(client, 'up__write_note', { note: 'slow human' }, id);
    assert.equal(retry.code, 'APPROVAL_EXPIRED');
    assert.deepEqual(await calls(recordDir), []);
    await waitFor('the expiry audit record', async () => ((await approvalRecords(h, id!)).some((r) => r.detail?.event === 'expired') ? true : undefined));
  });

  test('an approval not used before the deadline expires', async () => {
    const client = await h.connect('agent');
    const { id } = await refused(client, 'up__write_note', { note: 'slow agent' });
    await approvalDesk(h.gateway).approve(id!, alice);
    await sleep(1100);
    const retry = await refused(client, 'up__write_note', { note: 'slow agent' }, id);
    assert.equal(retry.code, 'APPROVAL_EXPIRED');
    assert.deepEqual(await calls(recordDir), []);
  });
});

// ---- waiting ------------------------------------------------------------------------

describe('approvals: the call waits (wait_seconds: 30) with progress', () => {
  let h: Harness;
  let recordDir: string;
  let configFile: string;

  before(async () => {
    recordDir = await recordDirectory();
    // Long enough for an approver's CLI process to start on a loaded machine; the test ends as soon as it approves.
    const yaml = configYaml(recordDir, '{ approvers: [alice], wait_seconds: 30 }');
    h = await startGateway(yaml);
    configFile = join(h.dataDir, 'portcullis.yaml');
    await writeFile(configFile, yaml);
  });
  after(async () => h.close());

  const pendingFor = (note: string) => async () => (await approvalDesk(h.gateway).list()).find((v: ApprovalView) => (v.arguments as { note?: string }).note === note);

  test('the held call stays open with progress notifications and runs when approved from another process', async () => {
    const client = await h.connect('agent');
    const progress: { message?: string }[] = [];
    const call = client.callTool({ name: 'up__write_note', arguments: { note: 'wait for me' } }, undefined, { onprogress: (p) => void progress.push(p) });
    const view = await waitFor('the queued request', pendingFor('wait for me'));
    assert.deepEqual(await calls(recordDir), [], 'the waiting call ran before approval');
    const approve = await runCli(['approvals', 'approve', view.id, '--as', 'alice', '--config', configFile, '--data', h.dataDir]);
    assert.equal(approve.code, 0, approve.stderr);
    assert.equal(textOf(await call), 'stored');
    assert.ok(progress.length >= 1, 'no progress while waiting');
    assert.match(String(progress[0].message), new RegExp(`waiting for a human to approve ${view.id}`));
    assert.equal((await calls(recordDir)).length, 1);
  });

  test('a call the client cancelled while waiting never runs, even if approved afterwards', async () => {
    const client = await h.connect('agent');
    const abort = new AbortController();
    const call = client.callTool({ name: 'up__write_note', arguments: { note: 'changed my mind' } }, undefined, { signal: abort.signal }).catch((e: unknown) => e);
    const view = await waitFor('the queued request', pendingFor('changed my mind'));
    abort.abort();
    await call;
    await sleep(100);
    await approvalDesk(h.gateway).approve(view.id, alice);
    await sleep(500);
    assert.equal((await calls(recordDir)).filter((c) => c.args.note === 'changed my mind').length, 0);
    assert.equal((await approvalDesk(h.gateway).get(view.id))?.status, 'approved', 'the approval was not used');
  });
});

describe('approvals: a wait nobody answers (wait_seconds: 2)', () => {
  let h: Harness;
  let recordDir: string;

  before(async () => {
    recordDir = await recordDirectory();
    h = await startGateway(configYaml(recordDir, '{ approvers: [alice], wait_seconds: 2 }'));
  });
  after(async () => h.close());

  test('when nobody decides within wait_seconds the call answers APPROVAL_PENDING with the id to retry', async () => {
    const client = await h.connect('agent');
    const started = Date.now();
    const r = await refused(client, 'up__write_note', { note: 'nobody home' });
    assert.equal(r.code, 'APPROVAL_PENDING');
    assert.ok(Date.now() - started >= 1900, 'answered before wait_seconds');
    await approvalDesk(h.gateway).approve(r.id!, alice);
    assert.equal(await run(client, 'up__write_note', { note: 'nobody home' }, r.id), 'stored');
  });

});

// ---- HTTP admin API -----------------------------------------------------------------

describe('approvals: HTTP admin API and Streamable HTTP agents', () => {
  let h: Harness;
  let http: RunningHttpGateway;
  let recordDir: string;
  let hook: Awaited<ReturnType<typeof webhookReceiver>>;
  let agentToken: string;
  let approverToken: string;
  const clients: Client[] = [];

  before(async () => {
    recordDir = await recordDirectory();
    hook = await webhookReceiver();
    h = await startGateway(configYaml(recordDir, `{ approvers: [alice], webhook: { url: ${JSON.stringify(hook.url)} } }`));
    http = await startHttpGateway({ gateway: h.gateway, loaded: h.loaded, dataDir: h.dataDir, host: '127.0.0.1', port: 0 });
    const key = await loadOrCreateSigningKey(h.dataDir);
    const { audience, issuer } = h.loaded.config.tokens;
    agentToken = await issueToken(key, { identity: 'agent', ttlSeconds: 300, audience, issuer });
    approverToken = await issueApproverToken(key, { approver: 'alice', ttlSeconds: 300, audience, issuer });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await http.close();
    await h.close();
    await hook.close();
  });

  async function agent(elicit?: (req: ElicitRequest) => ElicitResult): Promise<Client> {
    const client = new Client({ name: 'http-agent', version: '1.0.0' }, elicit ? { capabilities: { elicitation: {} } } : undefined);
    client.onerror = () => {};
    if (elicit) client.setRequestHandler(ElicitRequestSchema, async (req) => elicit(req));
    await client.connect(new StreamableHTTPClientTransport(http.url, { requestInit: { headers: { Authorization: `Bearer ${agentToken}` } } }));
    clients.push(client);
    return client;
  }

  const admin = (path: string, init: { method?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
    fetch(new URL(path, http.url), {
      method: init.method ?? 'GET',
      headers: { ...(init.token ? { Authorization: `Bearer ${init.token}` } : {}), ...(init.body ? { 'Content-Type': 'application/json' } : {}), ...init.headers },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });

  test('an approver token lists, shows and approves over HTTP; the agent\'s retry over Streamable HTTP then runs', async () => {
    const client = await agent();
    const { id, code } = await refused(client, 'up__write_note', { note: 'via http' });
    assert.equal(code, 'APPROVAL_PENDING');
    assert.deepEqual(await calls(recordDir), []);

    const list = await admin('/admin/approvals', { token: approverToken });
    assert.equal(list.status, 200);
    assert.ok(((await list.json()) as { approvals: ApprovalView[] }).approvals.some((v) => v.id === id));
    const show = await admin(`/admin/approvals/${id}`, { token: approverToken });
    assert.equal(((await show.json()) as ApprovalView).status, 'pending');

    const delivery = await waitFor('the webhook', async () => hook.received.find((d) => d.body.id === id));
    assert.equal(delivery.body.approve_url, `${http.url.origin}/admin/approvals/${id}/approve`);

    const ok = await admin(delivery.body.approve_url as string, { method: 'POST', token: approverToken, body: { reason: 'checked the ticket' } });
    assert.equal(ok.status, 200, await ok.clone().text());
    const decided = (await ok.json()) as ApprovalView;
    assert.equal(decided.status, 'approved');
    assert.equal(decided.decision?.approver, 'alice');
    assert.equal(decided.decision?.channel, 'http');

    assert.equal(await run(client, 'up__write_note', { note: 'via http' }, id), 'stored');
    assert.equal((await calls(recordDir)).length, 1);
    const again = await admin(`/admin/approvals/${id}/deny`, { method: 'POST', token: approverToken });
    assert.equal(again.status, 409, 'a decision is final');
  });

  test("an agent's token gets 403 on the admin API and decides nothing; no token gets 401", async () => {
    const client = await agent();
    const { id } = await refused(client, 'up__write_note', { note: 'self approval' });
    const forbidden = await admin(`/admin/approvals/${id}/approve`, { method: 'POST', token: agentToken, body: {} });
    assert.equal(forbidden.status, 403);
    assert.match(((await forbidden.json()) as { message: string }).message, /agent credential.*can never approve/);
    const listing = await admin('/admin/approvals', { token: agentToken });
    assert.equal(listing.status, 403, 'agents cannot even read the queue');
    const anonymous = await admin(`/admin/approvals/${id}/approve`, { method: 'POST' });
    assert.equal(anonymous.status, 401);
    assert.match(String(anonymous.headers.get('www-authenticate')), /^Bearer realm="portcullis"/);
    const garbage = await admin(`/admin/approvals/${id}/approve`, { method: 'POST', token: 'not.a.jwt' });
    assert.equal(garbage.status, 401);
    assert.equal((await approvalDesk(h.gateway).get(id!))?.status, 'pending');
    assert.equal(await refused(client, 'up__write_note', { note: 'self approval' }, id).then((r) => r.code), 'APPROVAL_PENDING');
  });

  test('an approver token cannot act as an agent on the MCP endpoint', async () => {
    const res = await fetch(http.url, {
      method: 'POST',
      headers: { Authorization: `Bearer ${approverToken}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '0' } } }),
    });
    assert.equal(res.status, 401);
    await res.arrayBuffer();
  });

  test('the admin API keeps the DNS-rebinding checks and refuses bad input', async () => {
    const origin = await admin('/admin/approvals', { token: approverToken, headers: { Origin: 'http://evil.example' } });
    assert.equal(origin.status, 403);
    const unknown = await admin('/admin/approvals/ap_AAAAAAAAAAAAAAAA', { token: approverToken });
    assert.equal(unknown.status, 404);
    const traversal = await admin('/admin/approvals/..%2F..%2Fkeys/approve', { method: 'POST', token: approverToken });
    assert.equal(traversal.status, 404);
    const badReason = await admin('/admin/approvals/ap_AAAAAAAAAAAAAAAA/approve', { method: 'POST', token: approverToken, body: { reason: 42 } });
    assert.equal(badReason.status, 400);
    const wrongMethod = await admin('/admin/approvals', { method: 'DELETE', token: approverToken });
    assert.equal(wrongMethod.status, 405);
    const elsewhere = await admin('/adminx', { token: approverToken });
    assert.equal(elsewhere.status, 404);
  });

  test('elicitation reaches an HTTP client on the call\'s own stream; accept runs the call', async () => {
    let asked = 0;
    const client = await agent(() => {
      asked++;
      return { action: 'accept' };
    });
    const before = (await calls(recordDir)).length;
    assert.equal(await run(client, 'up__write_note', { note: 'elicited over http' }), 'stored');
    assert.equal(asked, 1);
    assert.equal((await calls(recordDir)).length, before + 1);
  });
});
