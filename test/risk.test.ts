/**
 * `portcullis risk`: the inventory of the demo configuration (real demo servers)
 * as table, JSON, Markdown and HTML, compared with committed snapshots
 * (test/snapshots/risk-demo.*; UPDATE_SNAPSHOTS=1 rewrites them), and the CLI.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { parseConfig, type LoadedConfig } from '../src/config/load.js';
import { demoConfig } from '../src/demo/config.js';
import { buildInventory, collectInventory, type Inventory } from '../src/risk/inventory.js';
import { renderInventory } from '../src/risk/render.js';
import { TempDirs, demoServers, runCli, writeYaml } from './helpers/cli.js';
import { matchSnapshot } from './helpers/snapshot.js';

const dirs = new TempDirs();
after(() => dirs.cleanup());

describe('portcullis risk on the demo config', () => {
  let demo: Inventory;
  before(async () => {
    const loaded = parseConfig(stringify(demoConfig()), 'demo');
    demo = await collectInventory(loaded.config, loaded.identities);
  });

  test('every demo tool is rated with the three answers, their sources, the tier and the gate per identity', () => {
    assert.deepEqual(demo.servers.map((s) => [s.name, s.status, s.tools]), [['crm', 'ok', 5], ['email', 'ok', 1], ['web', 'ok', 1]]);
    const row = (tool: string) => demo.tools.find((t) => t.tool === tool)!;
    const deletion = row('account_deletion');
    assert.deepEqual([deletion.permission.value, deletion.permission.source, deletion.tier.value], ['delete', 'heuristic', 'critical']);
    assert.deepEqual(deletion.access.map((a) => [a.identity, a.gate, a.triggers]), [['support-agent-v1', 'approval', ['rule', 'tier']]]);
    assert.deepEqual(row('customer_database_write').access, [], 'denied by *_database_write: nobody may call it');
    assert.equal(row('read_crm_ticket').tier.value, 'low');
    assert.deepEqual(row('read_crm_ticket').labels.value, ['private']);
    assert.deepEqual(row('send_reply_email').labels.value, ['sink']);
    assert.deepEqual(row('fetch_page').labels.value, ['untrusted']);
    assert.deepEqual(row('fetch_page').access.map((a) => [a.identity, a.gate]), [['triage-agent-v1', 'allowed']]);
    assert.deepEqual(demo.tools.map((t) => t.tier.value), ['critical', 'critical', 'high', 'high', 'high', 'low', 'low'], 'most dangerous first');
  });

  for (const format of ['table', 'json', 'md', 'html'] as const) {
    test(`snapshot: ${format}`, async () => {
      const text = renderInventory(demo, format);
      assert.doesNotMatch(text, /\/tmp\/|\/work\/|\d{4}-\d{2}-\d{2}T/, 'no paths or timestamps');
      await matchSnapshot(`risk-demo.${format === 'table' ? 'txt' : format}`, text);
    });
  }

  test('the CLI prints the same report: portcullis risk --demo --json', async () => {
    const run = await runCli(['risk', '--demo', '--json']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, renderInventory(demo, 'json'));
  });
});

describe('portcullis risk --config', () => {
  test('config overrides, production gates and an unreachable server show in the report; exit 1 names the server', async () => {
    const dir = await dirs.make('portcullis-risk-');
    const { file } = await writeYaml(dir, 'portcullis.yaml', {
      mode: 'production',
      // The report reviews servers, so it needs no lock; production config still names a signer.
      admission: { trusted_keys: { ci: 'ci.pub' } },
      servers: {
        ...demoServers(),
        crm: { ...demoServers().crm, risk: { blast_radius: 'enterprise' }, labels: { read_crm_ticket: ['private', 'untrusted'] } },
        broken: { command: process.execPath, args: ['-e', 'process.exit(3)'] },
      },
      identities: {
        'support-agent-v1': { allowed_tools: ['crm.read_crm_ticket', 'email.*'] },
        auditor: { allowed_tools: ['crm.read_*'] },
      },
    });
    const run = await runCli(['risk', '--config', file, '--format', 'md']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /server broken could not be reached/);
    assert.match(run.stdout, /\| \*\*critical\*\* \| crm \| `refund_request` \| write \(a\) \| enterprise \(C\) \|/);
    assert.match(run.stdout, /\| medium \| crm \| `read_crm_ticket` \| read \(a\) \| enterprise \(C\) \| reversible \(a\) \| private, untrusted \(C\) \| auditor: allowed<br>support-agent-v1: allowed \|/);
    // High tier, allowed only by the glob email.*: held for approval by the production gate.
    assert.match(run.stdout, /`send_reply_email` .* support-agent-v1: approval \(tier\) \|/);
    assert.match(run.stdout, /## Unreachable servers\n\n- \*\*broken\*\*: /);
  });
});

describe('buildInventory', () => {
  const tools = (defs: Partial<Tool>[]) => ({ tools: defs.map((d) => ({ inputSchema: { type: 'object' as const }, ...d }) as Tool) });
  let loaded: LoadedConfig;
  before(() => {
    loaded = parseConfig(
      stringify({
        servers: { ops: { command: 'x', risk: { tools: { 'read_*': { permission: 'read', reversibility: 'reversible' } } } } },
        identities: { ops: { allowed_tools: ['ops.*'] }, named: { allowed_tools: ['ops.run_shell'] } },
        risk: { gates: { critical: 'deny-unless-explicit' } },
      }),
    );
  });

  test('a deny-unless-explicit gate denies glob-allowed identities and lets the one naming the tool through', () => {
    const inv = buildInventory(loaded.config, loaded.identities, new Map([['ops', tools([{ name: 'run_shell', description: 'Runs a shell command.' }, { name: 'read_logs' }])]]));
    const shell = inv.tools.find((t) => t.tool === 'run_shell')!;
    assert.equal(shell.tier.value, 'critical');
    assert.deepEqual(shell.access.map((a) => `${a.identity}:${a.gate}`), ['named:allowed', 'ops:denied']);
    const logs = inv.tools.find((t) => t.tool === 'read_logs')!;
    assert.deepEqual([logs.permission.value, logs.permission.source, logs.tier.value], ['read', 'config', 'low']);
  });
});
