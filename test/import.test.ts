/**
 * `portcullis import` on the sample Claude Desktop, Cursor and VS Code configs
 * (test/fixtures/client-configs): the generated Portcullis config loads with
 * the real loader, holds no inline secret, keeps servers sandboxed, and the
 * printed client entry really starts the gateway in front of a real server.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { SECRET_PLACEHOLDER } from '../src/admission/index.js';
import { loadConfigFile, parseConfig } from '../src/config/load.js';
import { isStdioServer } from '../src/config/schema.js';
import { DIST, TempDirs, runCli } from './helpers/cli.js';
import { MEMORY, NODE } from './helpers/real.js';

const ROOT = resolve(DIST, '..');
const FIXTURES = join(ROOT, 'test/fixtures/client-configs');
const FAKE_TOKEN = 'ghp_Zk3q8WvT1nLp5Rx7Ye2Ub9Hc4Jd6Mf0Ag8Qs';
const dirs = new TempDirs();
after(() => dirs.cleanup());

/** Runs `portcullis import FILE --out …` in a fresh directory; returns the written config, stdout and the client JSON. */
async function importTo(file: string, extra: string[] = []) {
  const dir = await dirs.make('portcullis-import-');
  const out = join(dir, 'portcullis.yaml');
  const run = await runCli(['import', file, '--out', out, '--data', join(dir, 'data'), ...extra]);
  assert.equal(run.code, 0, run.stderr);
  const lines = run.stdout.split('\n');
  const start = lines.indexOf('{');
  const client = JSON.parse(lines.slice(start, lines.indexOf('}', start) + 1).join('\n')) as Record<string, Record<string, { command: string; args: string[]; env?: Record<string, string>; type?: string }>>;
  return { dir, out, run, text: await readFile(out, 'utf8'), loaded: await loadConfigFile(out), client };
}

describe('portcullis import', () => {
  test('Claude Desktop: the config loads, secrets become from_env references and never appear in the output', async () => {
    const { out, run, text, loaded, client } = await importTo(join(FIXTURES, 'claude_desktop_config.json'));
    const { servers, identities } = loaded.config;
    assert.deepEqual(Object.keys(servers), ['filesystem', 'github', 'notes'], 'the entry that already runs portcullis is not imported');
    const github = servers.github;
    assert.ok(isStdioServer(github));
    assert.deepEqual(github.env, { GITHUB_TOKEN: { from_env: 'GITHUB_TOKEN' } });
    for (const output of [text, run.stdout, run.stderr]) assert.ok(!output.includes(FAKE_TOKEN.slice(4)), 'the inline token is not copied anywhere');
    assert.match(run.stdout, /env GITHUB_TOKEN held a github token in plain text; it is now \{ from_env: GITHUB_TOKEN \} and was not copied\. Rotate it/);
    assert.deepEqual(identities['claude-desktop'].allowed_tools, ['filesystem.*', 'github.*', 'notes.*']);
    assert.ok(loaded.identities.get('claude-desktop')!.toolAccess('github', 'create_issue').allowed);
    assert.deepEqual(client.mcpServers.portcullis.args.slice(1), ['stdio', '--identity', 'claude-desktop', '--config', out, '--data', join(out, '..', 'data')]);
  });

  test('Claude Desktop: sandboxes keep no network unless the package obviously needs one, with absolute paths declared', async () => {
    const { loaded, run } = await importTo(join(FIXTURES, 'claude_desktop_config.json'));
    const { filesystem, github, notes } = loaded.config.servers;
    assert.ok(isStdioServer(filesystem) && isStdioServer(github) && isStdioServer(notes));
    assert.ok(filesystem.sandbox !== 'none' && github.sandbox !== 'none' && notes.sandbox !== 'none');
    assert.equal(filesystem.sandbox.network, 'none');
    assert.deepEqual(filesystem.sandbox.filesystem.read_only, ['/Users/me/Documents'], 'a look-alike of server-filesystem gets its directory read-only, not read-write');
    assert.deepEqual(github.sandbox.network, { allow: ['api.github.com:443'] });
    assert.equal(notes.sandbox.network, 'none');
    assert.deepEqual(notes.sandbox.filesystem, { read_only: [], read_write: [] }, 'a script is mounted by the sandbox itself');
    assert.match(run.stdout, /github: npx @modelcontextprotocol\/server-github@latest downloads the package at every start.*pin an exact version \(it asks for "latest"/);
    assert.match(run.stdout, /warning: servers\.filesystem\.args\[1\]: package "@modelcontext-protocol\/server-filesystem" looks like "@modelcontextprotocol\/server-filesystem"/);
  });

  test('Cursor: ${env:…} references pass through the gateway entry; the typosquat and plain-HTTP remote are noted', async () => {
    const { loaded, run, client } = await importTo(join(FIXTURES, '.cursor', 'mcp.json'));
    assert.deepEqual(Object.keys(loaded.config.servers), ['slack', 'slack-alerts', 'fetch', 'docs', 'local-dev']);
    const slack = loaded.config.servers.slack;
    assert.ok(isStdioServer(slack));
    assert.deepEqual(slack.env, { SLACK_BOT_TOKEN: { from_env: 'SLACK_BOT_TOKEN' } });
    assert.deepEqual(client.mcpServers.portcullis.env, { SLACK_BOT_TOKEN: '${env:SLACK_BOT_TOKEN}' });
    assert.match(run.stdout, /servers\.slack-alerts\.args\[1\]: package "mcp-slack-notifyer" looks like "mcp-slack-notifier"/);
    assert.match(run.stdout, /slack-alerts: npx mcp-slack-notifyer .*pin an exact version \(it has no version/);
    assert.match(run.stdout, /docs: http:\/\/mcp\.example\.com is plain HTTP to a remote host/);
    assert.doesNotMatch(run.stdout, /local-dev: http/, 'loopback HTTP is fine');
  });

  test('VS Code: the client entry is in VS Code\'s shape and keeps the inputs it still prompts for', async () => {
    const { loaded, text, client, run } = await importTo(join(FIXTURES, '.vscode', 'mcp.json'), ['--identity', 'vscode-agent']);
    assert.deepEqual([...loaded.identities.keys()], ['vscode-agent']);
    assert.ok(!text.includes(FAKE_TOKEN.slice(4)) && !run.stdout.includes(FAKE_TOKEN.slice(4)));
    const entry = client.servers.portcullis;
    assert.equal(entry.type, 'stdio');
    assert.deepEqual(entry.env, { GITHUB_PERSONAL_ACCESS_TOKEN: '${input:github-token}' });
    assert.deepEqual((client.inputs as unknown as { id: string }[]).map((i) => i.id), ['github-token']);
    assert.match(run.stdout, /github-container: runs ghcr\.io\/github\/github-mcp-server with docker run, which needs the Docker socket/);
  });

  test('without --out the config is printed, and the whole output still loads as a config (the rest is comments)', async () => {
    const run = await runCli(['import', join(FIXTURES, 'claude_desktop_config.json')], { cwd: await dirs.make('portcullis-import-') });
    assert.equal(run.code, 0, run.stderr);
    const { config } = parseConfig(run.stdout);
    assert.deepEqual(Object.keys(config.servers), ['filesystem', 'github', 'notes']);
    assert.match(run.stdout, /^# Claude Desktop: replace "mcpServers" in /m);
  });

  test('--out refuses to overwrite an existing file unless --force', async () => {
    const dir = await dirs.make('portcullis-import-');
    const out = join(dir, 'portcullis.yaml');
    await writeFile(out, 'mine\n');
    const refused = await runCli(['import', join(FIXTURES, 'claude_desktop_config.json'), '--out', out]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /portcullis\.yaml exists; pass --force to overwrite it/);
    assert.equal(await readFile(out, 'utf8'), 'mine\n');
    const forced = await runCli(['import', join(FIXTURES, 'claude_desktop_config.json'), '--out', out, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(await readFile(out, 'utf8'), /^servers:/m);
  });

  test('secrets in arguments and headers are replaced, and odd server names renamed, still loading', async () => {
    const dir = await dirs.make('portcullis-import-');
    const file = join(dir, 'claude_desktop_config.json');
    await writeFile(
      file,
      JSON.stringify({
        mcpServers: {
          'my tools': { command: 'node', args: ['/opt/tools/server.js', '--api-key', 'sk-proj-4fJ9cQ2xL7mN1pR8tV3wY6zB0dG5hK'] },
          'a__b': { url: 'https://mcp.example.com/mcp', headers: { Authorization: `Bearer ${FAKE_TOKEN}` } },
        },
      }),
    );
    const { loaded, text, run } = await importTo(file);
    assert.deepEqual(Object.keys(loaded.config.servers), ['my-tools', 'a_b']);
    assert.ok(!text.includes('sk-proj-4fJ9') && !text.includes(FAKE_TOKEN.slice(4)) && !run.stdout.includes('sk-proj-4fJ9'));
    const tools = loaded.config.servers['my-tools'];
    assert.ok(isStdioServer(tools));
    assert.equal(tools.args[2], SECRET_PLACEHOLDER);
    assert.match(run.stdout, /my-tools: argument 3 held a .* in plain text; it was not copied/);
    assert.match(run.stdout, /a_b: header Authorization holds a secret in plain text/);
  });

  test('the printed client entry starts the gateway in front of the imported server (real server-memory, sandboxed)', async () => {
    const dir = await dirs.make('portcullis-import-');
    const file = join(dir, 'claude_desktop_config.json');
    await writeFile(file, JSON.stringify({ mcpServers: { memory: { command: NODE, args: [MEMORY] } } }));
    const { client } = await importTo(file);
    const entry = client.mcpServers.portcullis;
    const mcp = new Client({ name: 'imported-client', version: '1.0.0' });
    await mcp.connect(new StdioClientTransport({ command: entry.command, args: entry.args, env: { PATH: process.env.PATH ?? '', PORTCULLIS_LOG_LEVEL: 'warn' }, stderr: 'ignore' }));
    try {
      const { tools } = await mcp.listTools();
      assert.ok(tools.some((t) => t.name === 'memory__read_graph'), tools.map((t) => t.name).join(', '));
    } finally {
      await mcp.close();
    }
  });
});
