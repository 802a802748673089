/**
 * The CLI as a user runs it: every test spawns `node dist/src/cli/main.js …`
 * (or drives it as an MCP server over stdio) against the real demo servers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { LATEST_PROTOCOL_VERSION, McpError } from '@modelcontextprotocol/sdk/types.js';
import { AUDIT_FILE_NAME, computeRecordHash } from '../src/audit/index.js';
import { LocalJwtAuthenticator, loadOrCreateSigningKey, SIGNING_KEY_FILE } from '../src/auth/index.js';
import { loadConfigFile } from '../src/config/load.js';
import { Gateway } from '../src/gateway/gateway.js';
import { CLI, JsonLineReader, TempDirs, cliEnv, demoServers, exited, killAllChildren, runCli, spawnCli, writeYaml } from './helpers/cli.js';

const IDENTITY = 'support-agent-v1';
const LIMIT = 8192;
const ALLOWED = ['crm__read_crm_ticket', 'email__send_reply_email'];

const validConfig = {
  audit: { durability: 'write' },
  // 2048 (the brief's figure) would stall start-up: the crm server's tools/list
  // answer alone is ~4.4 KB and is dropped as oversized (see report).
  limits: { max_message_bytes: LIMIT },
  servers: demoServers(),
  identities: {
    [IDENTITY]: {
      allowed_tools: ['crm.read_crm_ticket', 'email.send_reply_email'],
      denied_tools: ['*_database_write', 'billing_*'],
      session_ttl_seconds: 600,
    },
  },
};

/** Two servers whose packages differ by one letter: the second is a typosquat suspect. */
const squatConfig = {
  servers: {
    slack: { command: 'npx', args: ['-y', 'mcp-slack-notifier@1.4.2'] },
    'slack-alerts': { command: 'npx', args: ['-y', 'mcp-slack-notifyer'] },
  },
  identities: { [IDENTITY]: { allowed_tools: ['slack.*'] } },
};

const dirs = new TempDirs();
let root: string;
let configFile: string;

before(async () => {
  root = await dirs.make('portcullis-cli-');
  ({ file: configFile } = await writeYaml(root, 'portcullis.yaml', validConfig));
});

after(async () => {
  await killAllChildren();
  await dirs.cleanup();
});

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// Suites run side by side (each spawns processes that mostly wait); tests within a suite mostly in turn,
// so a loaded machine is not flooded with a score of Node processes at once.
describe('portcullis CLI', { concurrency: 3 }, () => {
  // ---- token issue -------------------------------------------------------------------

  describe('portcullis token issue', () => {
    test('prints only a token the gateway accepts, and keeps the signing key private (0600)', async () => {
      const data = join(await dirs.make('portcullis-token-'), 'data');
      const run = await runCli(['token', 'issue', '--identity', IDENTITY, '--config', configFile, '--data', data]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\n$/, 'stdout is the token alone, on one line');
      const token = run.stdout.trim();

      const keyFile = join(data, 'keys', SIGNING_KEY_FILE);
      assert.equal((await stat(keyFile)).mode & 0o777, 0o600, 'the private key is readable by its owner only');
      assert.equal((await stat(join(data, 'keys'))).mode & 0o777, 0o700);
      assert.doesNotMatch(run.stdout + run.stderr, /"d"\s*:/, 'key material never printed');

      const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as Record<string, number | string>;
      assert.equal(claims.sub, IDENTITY);
      assert.equal(claims.aud, 'portcullis');
      assert.equal(Number(claims.exp) - Number(claims.iat), 600, 'lifetime defaults to the identity session_ttl_seconds');

      // The gateway (same data dir) accepts it as that identity.
      const loaded = await loadConfigFile(configFile);
      const authenticator = new LocalJwtAuthenticator({
        key: await loadOrCreateSigningKey(data),
        audience: loaded.config.tokens.audience,
        issuer: loaded.config.tokens.issuer,
        isKnownIdentity: (n) => loaded.identities.has(n),
      });
      const verdict = await authenticator.authenticate({ authorization: `Bearer ${token}`, remoteAddress: '127.0.0.1' });
      assert.ok(verdict.ok, JSON.stringify(verdict));
      assert.equal(verdict.principal.identity, IDENTITY);
    });

    test('refuses to mint a token for an identity that is not configured, naming the configured ones', async () => {
      const data = join(await dirs.make('portcullis-token-'), 'data');
      const run = await runCli(['token', 'issue', '--identity', 'ghost-agent', '--config', configFile, '--data', data]);
      assert.notEqual(run.code, 0);
      assert.equal(run.stdout, '', 'no token on stdout');
      assert.match(run.stderr, /identity "ghost-agent" is not in .*portcullis\.yaml; configured: support-agent-v1/);
      await assert.rejects(stat(join(data, 'keys', SIGNING_KEY_FILE)), 'no key is created for a refused request');
    });
  });

  // ---- config check ------------------------------------------------------------------

  /** A config as text, so line numbers are known. */
  function configText(identityBody: string[]): string {
    return [
      'servers:',
      '  crm:',
      `    command: ${JSON.stringify(process.execPath)}`,
      `    args: [${JSON.stringify(demoServers().crm.args[0])}]`,
      '  email:',
      `    command: ${JSON.stringify(process.execPath)}`,
      `    args: [${JSON.stringify(demoServers().email.args[0])}]`,
      'identities:',
      `  ${IDENTITY}:`,
      ...identityBody.map((l) => `    ${l}`),
      '',
    ].join('\n');
  }

  const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

  describe('portcullis config check', () => {
    test('accepts a valid config', async () => {
      const run = await runCli(['config', 'check', configFile]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /portcullis\.yaml is valid: 2 servers, 1 identities, mode development/);
    });

    test('refuses a policy that names a server that does not exist (a typo that would silently deny), with path, line and fix', async () => {
      const dir = await dirs.make('portcullis-config-');
      const text = configText(['allowed_tools:', '  - crm2.read_crm_ticket']);
      const file = join(dir, 'bad-server.yaml');
      await writeFile(file, text);
      const run = await runCli(['config', 'check', file]);
      assert.notEqual(run.code, 0);
      const line = lineOf(text, 'crm2.read_crm_ticket');
      assert.ok(line > 0);
      assert.match(
        run.stderr,
        new RegExp(`${escape(file)}:${line}:\\d+ identities\\.support-agent-v1\\.allowed_tools\\[0\\]: unknown server "crm2" in pattern "crm2\\.read_crm_ticket" — did you mean "crm"\\?`),
      );
      assert.doesNotMatch(run.stdout, /is valid/);
    });

    test('refuses a misspelt field that would otherwise be ignored (policy silently missing), suggesting the right name', async () => {
      const dir = await dirs.make('portcullis-config-');
      const text = configText(['alowed_tools: [crm.read_crm_ticket]', 'denied_tools: ["billing_*"]']);
      const file = join(dir, 'typo.yaml');
      await writeFile(file, text);
      const run = await runCli(['config', 'check', file]);
      assert.notEqual(run.code, 0);
      const line = lineOf(text, 'alowed_tools');
      assert.match(run.stderr, new RegExp(`${escape(file)}:${line}:\\d+ identities\\.support-agent-v1\\.alowed_tools: unknown field "alowed_tools" — did you mean "allowed_tools"\\?`));
    });

    test('warns about a typosquat suspect among the configured servers, naming the intended package', async () => {
      const dir = await dirs.make('portcullis-config-');
      const { file } = await writeYaml(dir, 'squat.yaml', squatConfig);
      const run = await runCli(['config', 'check', file]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /warning: .*squat\.yaml: servers\.slack-alerts\.args\[1\]: package "mcp-slack-notifyer" looks like "mcp-slack-notifier"/);
      assert.match(run.stdout, /is valid: 2 servers/);
    });

    test('says clearly when the config file does not exist', async () => {
      const missing = join(root, 'no-such-config.yaml');
      const run = await runCli(['config', 'check', missing]);
      assert.notEqual(run.code, 0);
      assert.match(run.stderr, new RegExp(`${escape(missing)}: [\\s\\S]*cannot read the config file \\(ENOENT\\); pass --config`));
      assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace for a user error');
    });
  });

  // ---- audit verify ------------------------------------------------------------------

  describe('portcullis audit verify', { concurrency: 2 }, () => {
    let lines: string[];
    let denySeq: number;

    before(async () => {
      // A real log: the gateway with real upstreams and a client making allowed and denied calls.
      const data = await dirs.make('portcullis-audit-');
      const loaded = await loadConfigFile(configFile);
      const gateway = await Gateway.start({ config: loaded.config, dataDir: data });
      try {
        const client = new Client({ name: 'audit-producer', version: '1.0.0' });
        await client.connect(await gateway.connect(loaded.identities.get(IDENTITY)!));
        await client.listTools();
        await client.callTool({ name: 'crm__read_crm_ticket', arguments: { ticket_id: 'T-1001' } });
        await assert.rejects(client.callTool({ name: 'crm__customer_database_write', arguments: { table: 'customers', row: { id: 'C-2001' } } }), /TOOL_NOT_ALLOWED/);
        await assert.rejects(client.callTool({ name: 'crm__read_crm_ticket', arguments: { ticket_id: 'nope' } }), /INVALID_ARGUMENTS/);
        await client.callTool({ name: 'crm__read_crm_ticket', arguments: { ticket_id: 'T-1002' } });
        await client.close();
      } finally {
        await gateway.close();
      }
      const text = await readFile(join(data, AUDIT_FILE_NAME), 'utf8');
      assert.ok(text.endsWith('\n'));
      lines = text.slice(0, -1).split('\n');
      const deny = lines.map((l) => JSON.parse(l) as { seq: number; decision?: string; tool?: string }).find((r) => r.decision === 'deny' && r.tool === 'customer_database_write');
      assert.ok(deny, 'the log records the denied call');
      denySeq = deny.seq;
      assert.ok(denySeq > 2 && denySeq < lines.length - 1, 'the denied call sits mid-chain');
    });

    /** Writes `mutated` as the audit log of a fresh data dir and runs `audit verify` on it. */
    async function verify(mutated: string[]) {
      const data = await dirs.make('portcullis-tamper-');
      await writeFile(join(data, AUDIT_FILE_NAME), mutated.join('\n') + '\n');
      return { data, run: await runCli(['audit', 'verify', '--data', data]) };
    }

    const notIntact = (seq: number, reason: RegExp) => new RegExp(`is NOT intact: record ${seq} \\(line \\d+\\): ${reason.source}`);

    test('an untouched log verifies and reports its record count', async () => {
      const { data, run } = await verify(lines);
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.match(run.stdout, new RegExp(`audit log ${escape(join(data, AUDIT_FILE_NAME))} is intact: ${lines.length} records, last hash [0-9a-f]{64}`));
    });

    test('rewriting a denial into an allow is detected at that record', async () => {
      const i = denySeq - 1;
      const edited = [...lines];
      edited[i] = edited[i].replace('"decision":"deny"', '"decision":"allow"');
      assert.notEqual(edited[i], lines[i]);
      const { run } = await verify(edited);
      assert.equal(run.code, 1);
      assert.match(run.stdout, notIntact(denySeq, new RegExp(`record ${denySeq} was changed: its content does not match its hash`)));
    });

    test('deleting the record of a denied call is detected and names the missing record', async () => {
      const removed = lines.filter((_, i) => i !== denySeq - 1);
      const { run } = await verify(removed);
      assert.equal(run.code, 1);
      assert.match(run.stdout, notIntact(denySeq, new RegExp(`record ${denySeq} is missing: record ${denySeq + 1} follows record ${denySeq - 1}`)));
    });

    test('swapping two records (rewriting the order of events) is detected', async () => {
      const swapped = [...lines];
      [swapped[denySeq - 1], swapped[denySeq]] = [swapped[denySeq], swapped[denySeq - 1]];
      const { run } = await verify(swapped);
      assert.equal(run.code, 1);
      assert.match(run.stdout, notIntact(denySeq, new RegExp(`records ${denySeq} and ${denySeq + 1} were swapped`)));
    });

    test('inserting a forged record with a valid hash and link is detected', async () => {
      const prev = JSON.parse(lines[denySeq - 1]) as { hash: string; ts: string; session: string; identity: string };
      const forged: Record<string, unknown> = {
        v: 1,
        seq: denySeq + 1,
        ts: prev.ts,
        prev: prev.hash,
        type: 'call',
        session: prev.session,
        identity: prev.identity,
        server: 'crm',
        tool: 'customer_database_write',
        method: 'tools/call',
        decision: 'allow',
        code: 'ALLOWED',
        reason: 'approved by admin',
      };
      const line = JSON.stringify({ ...forged, hash: computeRecordHash(forged) });
      const inserted = [...lines.slice(0, denySeq), line, ...lines.slice(denySeq)];
      const { run } = await verify(inserted);
      assert.equal(run.code, 1);
      assert.match(run.stdout, notIntact(denySeq + 1, new RegExp(`record ${denySeq + 1} appears twice`)));
    });

    test('a missing audit log fails verification instead of passing vacuously', async () => {
      const run = await runCli(['audit', 'verify', '--data', join(root, 'no-such-data')]);
      assert.equal(run.code, 1);
      assert.match(run.stdout, /NOT intact: .*no audit log found/);
    });
  });

  // ---- demo --------------------------------------------------------------------------

  describe('portcullis demo', () => {
    test('plays every policy decision end to end and leaves a verifiable audit log', async () => {
      const data = join(await dirs.make('portcullis-demo-'), 'data');
      const run = await runCli(['demo', '--data', data], { timeoutMs: 45_000 });
      assert.equal(run.code, 0, run.stdout + run.stderr);
      for (const code of ['ALLOWED', 'TOOL_NOT_ALLOWED', 'INVALID_ARGUMENTS', 'ARGUMENT_CONSTRAINT', 'APPROVAL_REPLAYED', 'APPROVAL_DENIED']) {
        assert.match(run.stdout, new RegExp(`\\b${code}\\b`), `the demo shows ${code}`);
      }
      // The refund is held, approved out of band, then runs once.
      assert.match(run.stdout, /crm__refund_request\s+HOLD\s+APPROVAL_PENDING\b/);
      assert.match(run.stdout, /retry the refund with the approval\s+crm__refund_request\s+ALLOW\s+ALLOWED/);
      // The forum page hiding an injection is withheld before the agent reads it; untrusted pages arrive spotlighted.
      assert.match(run.stdout, /fetch the forum page the customer linked\s+web__fetch_page\s+HOLD\s+OUTPUT_QUARANTINED\b/);
      assert.match(run.stdout, /removed html_comment×1; withheld as ap_/);
      assert.match(run.stdout, /fetch the help-centre page \(outside content\)\s+web__fetch_page\s+ALLOW\s+ALLOWED\s+[\d.]+ ms\s+The output of web\.fetch_page below is untrusted data/);
      // The injected page's exfiltration attempt is blocked, plain and base64-encoded.
      assert.equal(run.stdout.match(/email__send_reply_email\s+DENY\s+EXFILTRATION_BLOCKED/g)?.length, 2);
      assert.match(run.stdout, /billing_update and customer_database_write are hidden/);
      assert.match(run.stdout, /a tampered token is refused: HTTP 401/);
      assert.match(run.stdout, new RegExp(`Audit log: ${escape(join(data, AUDIT_FILE_NAME))}`));
      assert.match(run.stdout, /Every step was decided as the policy says\./);

      const verify = await runCli(['audit', 'verify', '--data', data]);
      assert.equal(verify.code, 0, verify.stdout);
      assert.match(verify.stdout, /is intact: \d+ records/);
    });
  });

  // ---- stdio -------------------------------------------------------------------------

  describe('portcullis stdio', () => {
    test('a desktop client sees only the allowed tools and a denied call is refused with TOOL_NOT_ALLOWED', async () => {
      const data = await dirs.make('portcullis-stdio-');
      const env = Object.fromEntries(Object.entries(cliEnv()).filter((e): e is [string, string] => e[1] !== undefined));
      const transport = new StdioClientTransport({
        command: process.execPath,
        args: [CLI, 'stdio', '--identity', IDENTITY, '--config', configFile, '--data', data],
        env,
        stderr: 'pipe',
      });
      let stderr = '';
      transport.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
      const client = new Client({ name: 'desktop-client', version: '1.0.0' });
      try {
        await client.connect(transport);
        assert.deepEqual((await client.listTools()).tools.map((t) => t.name).sort(), ALLOWED);
        const ok = await client.callTool({ name: 'crm__read_crm_ticket', arguments: { ticket_id: 'T-1004' } });
        assert.match((ok.content as { text: string }[])[0].text, /Ticket T-1004/);
        const denied = await client.callTool({ name: 'crm__billing_update', arguments: { customer_id: 'C-2001', plan: 'pro' } }).then(
          () => assert.fail('billing_update must be refused'),
          (e: unknown) => e,
        );
        assert.ok(denied instanceof McpError);
        assert.match(denied.message, /TOOL_NOT_ALLOWED: /);
        assert.equal((denied.data as { code?: string }).code, 'TOOL_NOT_ALLOWED');
      } finally {
        const pid = transport.pid;
        await client.close();
        // Closing stdin ends the gateway, which must leave no process behind.
        if (pid) {
          const deadline = Date.now() + 5000;
          while (Date.now() < deadline && alive(pid)) await new Promise((r) => setTimeout(r, 50));
          assert.equal(alive(pid), false, `stdio gateway ${pid} still running after stdin closed; stderr:\n${stderr}`);
        }
      }
      const records = (await readFile(join(data, AUDIT_FILE_NAME), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
      assert.ok(records.some((r) => r.type === 'session.start' && r.identity === IDENTITY && r.detail?.method === 'stdio'));
      assert.ok(records.some((r) => r.type === 'call' && r.tool === 'billing_update' && r.decision === 'deny' && r.code === 'TOOL_NOT_ALLOWED'));
      assert.equal(records.at(-1)?.type, 'gateway.stop', 'the gateway shut down cleanly');
    });

    test('malformed and oversized lines get JSON-RPC errors and the gateway keeps answering (no crash, no silent drop)', async () => {
      const data = await dirs.make('portcullis-stdio-');
      // One upstream is enough here, and keeps this test light on a loaded machine.
      const { file: crmOnly } = await writeYaml(data, 'crm-only.yaml', {
        ...validConfig,
        servers: { crm: demoServers().crm },
        identities: { [IDENTITY]: { allowed_tools: ['crm.read_crm_ticket'], denied_tools: ['*_database_write', 'billing_*'] } },
      });
      const child = spawnCli(['stdio', '--identity', IDENTITY, '--config', crmOnly, '--data', data]);
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
      const out = new JsonLineReader(child.stdout);
      const send = (line: string) => child.stdin.write(line + '\n');
      const errorWith = (code: number) => (m: Record<string, any>) => m.error?.code === code;

      send('this is { not json');
      const parse = (await out.next(errorWith(-32700))) as Record<string, any>;
      assert.equal(parse.id, null);
      assert.match(parse.error.message, /^Parse error/);

      send(JSON.stringify({ jsonrpc: '2.0', id: 'big', method: 'tools/call', params: { name: 'crm__read_crm_ticket', arguments: { ticket_id: 'T-1001', pad: 'x'.repeat(2 * LIMIT) } } }));
      const big = (await out.next(errorWith(-32030))) as Record<string, any>;
      assert.match(big.error.message, new RegExp(`^MESSAGE_TOO_LARGE: message exceeds the ${LIMIT}-byte limit`));
      assert.equal(big.id, 'big', 'the error answers the oversized request by its id, so the client is not left waiting');

      send(JSON.stringify({ hello: 1, id: 'h' }));
      const notRpc = (await out.next(errorWith(-32600))) as Record<string, any>;
      assert.equal(notRpc.id, 'h');

      send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'raw', version: '0' } } }));
      assert.ok(((await out.next((m) => m.id === 1)) as Record<string, any>).result?.serverInfo);
      send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
      send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }));
      send(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'ping' }));
      const list = (await out.next((m) => m.id === 2)) as Record<string, any>;
      assert.deepEqual(list.result.tools.map((t: { name: string }) => t.name), ['crm__read_crm_ticket']);
      assert.deepEqual(((await out.next((m) => m.id === 3)) as Record<string, any>).result, {});

      assert.equal(out.messages.filter((m) => m.id === 'big' && !m.error).length, 0, 'the oversized call was never executed');
      assert.deepEqual(out.nonJson, [], 'stdout carries only JSON-RPC');

      child.stdin.end();
      const exit = await exited(child, 20_000);
      assert.equal(exit.code, 0, stderr);
      const log = await readFile(join(data, AUDIT_FILE_NAME), 'utf8');
      assert.doesNotMatch(log, /"pad"/, 'nothing of the oversized call was relayed or logged as a call');
    });

    test('reports typosquat suspects on stderr as soon as the config is loaded', async () => {
      const dir = await dirs.make('portcullis-stdio-');
      const { file } = await writeYaml(dir, 'squat.yaml', squatConfig);
      const run = await runCli(['stdio', '--identity', 'ghost-agent', '--config', file, '--data', dir]);
      assert.equal(run.stdout, '', 'nothing on the protocol channel');
      assert.match(run.stderr, /servers\.slack-alerts\.args\[1\]: package \\?"mcp-slack-notifyer\\?" looks like \\?"mcp-slack-notifier\\?"/);
    });

    test('refuses to start for an identity that is not configured', async () => {
      const data = await dirs.make('portcullis-stdio-');
      const run = await runCli(['stdio', '--identity', 'ghost-agent', '--config', configFile, '--data', data]);
      assert.notEqual(run.code, 0);
      assert.equal(run.stdout, '', 'nothing on the protocol channel');
      assert.match(run.stderr, /identity "ghost-agent" is not in .*; configured: support-agent-v1/);
    });
  });

  // ---- help --------------------------------------------------------------------------

  describe('portcullis --help', () => {
    test('lists every command a user needs', async () => {
      const run = await runCli(['--help']);
      assert.equal(run.code, 0, run.stderr);
      for (const command of ['demo', 'serve', 'stdio', 'token', 'audit', 'config', 'approvals', 'risk', 'detect', 'scan', 'import', 'pin', 'keygen', 'sign', 'verify-lock']) {
        assert.match(run.stdout, new RegExp(`^\\s+${command}\\b`, 'm'), `--help lists ${command}`);
      }
    });
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
