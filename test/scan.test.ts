/**
 * `portcullis scan` on sample Claude Desktop, Cursor and VS Code configs
 * (test/fixtures/client-configs): table, JSON and SARIF compared with committed
 * snapshots (test/snapshots/scan-*; UPDATE_SNAPSHOTS=1 rewrites them), the
 * SARIF validated against the official SARIF 2.1.0 schema, and exit codes.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { analyseLaunch, parseClientConfig, scanConfigs, type ScanFinding } from '../src/admission/index.js';
import { Ajv } from 'ajv';
import { DIST, TempDirs, cliEnv, runCli } from './helpers/cli.js';
import { matchSnapshot } from './helpers/snapshot.js';

const ROOT = resolve(DIST, '..');
const FIXTURES = 'test/fixtures/client-configs';
const FAKE_TOKEN = 'ghp_Zk3q8WvT1nLp5Rx7Ye2Ub9Hc4Jd6Mf0Ag8Qs';
const dirs = new TempDirs();
after(() => dirs.cleanup());

const scan = (args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) => runCli(['scan', ...args], { cwd: options.cwd ?? ROOT, env: options.env });

describe('portcullis scan on the sample client configs', () => {
  test('acceptance: mcp-slack-notifyer next to mcp-slack-notifier is flagged with the intended name', async () => {
    const run = await scan([`${FIXTURES}/.cursor/mcp.json`, '--json']);
    const findings = JSON.parse(run.stdout).findings as ScanFinding[];
    const squats = findings.filter((f) => f.rule === 'typosquat');
    assert.deepEqual(squats.map((f) => [f.server, f.intended, f.line]), [['slack-alerts', 'mcp-slack-notifier', 10]]);
    assert.match(squats[0].message, /"mcp-slack-notifyer" looks like "mcp-slack-notifier"/);
  });

  test('every client shape is read and each kind of finding is reported', async () => {
    const run = await scan([FIXTURES, '--json']);
    const report = JSON.parse(run.stdout) as { files: { file: string; client: string }[]; findings: ScanFinding[] };
    assert.deepEqual(report.files.map((f) => [f.file, f.client]), [
      [`${FIXTURES}/.cursor/mcp.json`, 'cursor'],
      [`${FIXTURES}/.vscode/mcp.json`, 'vscode'],
      [`${FIXTURES}/claude_desktop_config.json`, 'claude-desktop'],
    ]);
    const of = (rule: string) => report.findings.filter((f) => f.rule === rule).map((f) => `${f.client}:${f.server}`).sort();
    assert.deepEqual(of('typosquat'), ['claude-desktop:filesystem', 'cursor:slack-alerts', 'vscode:memory']);
    assert.deepEqual(of('inline-secret'), ['claude-desktop:github', 'vscode:github-container'], '${input:…} and ${env:…} are not inline secrets');
    assert.deepEqual(of('insecure-url'), ['cursor:docs'], 'loopback http is fine');
    assert.deepEqual(of('unpinned-package'), ['claude-desktop:filesystem', 'claude-desktop:github', 'cursor:slack-alerts', 'vscode:github-container', 'vscode:time']);
    assert.ok(!of('no-sandbox').includes('claude-desktop:portcullis'), 'a server launched through portcullis stdio is sandboxed');
    assert.ok(!of('no-sandbox').includes('vscode:github-container'), 'a container is not reported as unsandboxed');
    assert.ok(!run.stdout.includes(FAKE_TOKEN.slice(4)), 'the secret itself is never printed');
  });

  for (const [format, flags, name] of [['table', [], 'scan-client-configs.txt'], ['json', ['--json'], 'scan-client-configs.json'], ['sarif', ['--sarif'], 'scan-client-configs.sarif']] as const) {
    test(`snapshot: ${format}`, async () => {
      const run = await scan([FIXTURES, ...flags]);
      assert.equal(run.code, 1, run.stderr);
      assert.equal(run.stderr, '');
      assert.doesNotMatch(run.stdout, /\/tmp\/|\/work\/|\d{4}-\d{2}-\d{2}T/, 'no absolute paths or timestamps');
      assert.ok(!run.stdout.includes(FAKE_TOKEN.slice(4)));
      await matchSnapshot(name, run.stdout);
    });
  }

  test('the SARIF output validates against the SARIF 2.1.0 JSON Schema', async () => {
    // The official OASIS schema (2.1.0-rtm.5), as shipped by @microsoft/jest-sarif. It declares draft-04;
    // its keywords are all draft-07 compatible, so it is compiled as draft-07. One of its patterns is not
    // valid with the u flag, hence unicodeRegExp: false.
    const require = createRequire(import.meta.url);
    const { $schema: _s, id: _id, ...schema } = JSON.parse(await readFile(require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json'), 'utf8')) as Record<string, unknown>;
    const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false });
    (require('ajv-formats') as (a: Ajv) => void)(ajv);
    const validate = ajv.compile(schema);
    const run = await scan([FIXTURES, '--sarif']);
    const sarif = JSON.parse(run.stdout) as { version: string; runs: { results: { ruleId: string; level: string; locations: { physicalLocation: { artifactLocation: { uri: string }; region?: { startLine: number } } }[] }[]; tool: { driver: { rules: { id: string }[] } } }[] };
    assert.ok(validate(sarif), JSON.stringify(validate.errors));
    assert.equal(sarif.version, '2.1.0');
    const results = sarif.runs[0].results;
    assert.ok(results.length > 0);
    for (const r of results) {
      assert.ok(sarif.runs[0].tool.driver.rules.some((rule) => rule.id === r.ruleId));
      assert.match(r.locations[0].physicalLocation.artifactLocation.uri, /^test\/fixtures\/client-configs\//, 'relative URI');
      assert.ok((r.locations[0].physicalLocation.region?.startLine ?? 0) > 0);
    }
    // A broken log must fail, or the check above proves nothing.
    assert.equal(validate({ version: '2.1.0', runs: [{ tool: { driver: {} } }] }), false);
  });
});

describe('portcullis scan exit codes and locations', () => {
  const onlyNote = { mcpServers: { gateway: { command: 'npx', args: ['portcullis@0.1.0', 'stdio', '--identity', 'a'] } } };
  const onlyWarning = { mcpServers: { notes: { command: 'node', args: ['/opt/notes/index.js'] } } };

  test('--fail-on sets the threshold: 1 at or above it, 0 below it', async () => {
    const dir = await dirs.make('portcullis-scan-');
    await writeFile(join(dir, 'note.json'), JSON.stringify(onlyNote));
    await writeFile(join(dir, 'warning.json'), JSON.stringify(onlyWarning));
    const code = async (file: string, failOn?: string) => (await scan([join(dir, file), ...(failOn ? ['--fail-on', failOn] : [])])).code;
    assert.equal(await code('note.json'), 0, 'default: error');
    assert.equal(await code('note.json', 'warning'), 0);
    assert.equal(await code('note.json', 'note'), 1);
    assert.equal(await code('warning.json'), 0);
    assert.equal(await code('warning.json', 'warning'), 1);
    assert.equal((await scan([FIXTURES, '--fail-on', 'error'])).code, 1);
  });

  test('usage errors exit 2', async () => {
    const missing = await scan(['no/such/file.json']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no\/such\/file\.json: no such file or directory/);
    assert.equal((await scan([FIXTURES, '--fail-on', 'fatal'])).code, 2);
    assert.equal((await scan([FIXTURES, '--json', '--sarif'])).code, 2);
  });

  test('no PATH: the default locations for the user, missing ones skipped with a note', async () => {
    const home = await dirs.make('portcullis-scan-home-');
    const empty = await scan([], { cwd: home, env: cliEnv({ HOME: home }) });
    assert.equal(empty.code, 0, empty.stderr);
    assert.match(empty.stdout, /0 config files, 0 servers/);
    assert.match(empty.stdout, /note: no config at .*\.config\/Claude\/claude_desktop_config\.json/);
    await mkdir(join(home, '.cursor'));
    await writeFile(join(home, '.cursor', 'mcp.json'), JSON.stringify(onlyWarning));
    const found = await scan(['--json'], { cwd: home, env: cliEnv({ HOME: home }) });
    assert.deepEqual(JSON.parse(found.stdout).files.map((f: { file: string; client: string }) => [f.file, f.client]), [['.cursor/mcp.json', 'cursor']]);
    assert.match(found.stderr, /note: no config at/);
  });

  test('a file that is not JSON is an invalid-config error; comments and trailing commas are fine', () => {
    const bad = parseClientConfig('{ "mcpServers": ', '/x/claude_desktop_config.json');
    assert.equal(scanConfigs([bad], '/x').findings[0].rule, 'invalid-config');
    const jsonc = parseClientConfig('{\n  // c\n  "servers": {\n    /* d */ "a": { "url": "https://x.example/mcp", },\n  },\n}\n', '/x/.vscode/mcp.json');
    assert.equal(jsonc.error, undefined);
    assert.equal(jsonc.client, 'vscode');
    assert.equal(jsonc.lineOf('/servers/a'), 4);
  });

  test('launchers: npm, PyPI and docker specs and their pins', () => {
    const l = (cmd: string, ...args: string[]) => {
      const x = analyseLaunch(cmd, args);
      return x && [x.launcher, x.name, x.version, x.pinned];
    };
    assert.deepEqual(l('npx', '-y', '@scope/pkg@1.2.3'), ['npx', '@scope/pkg', '1.2.3', true]);
    assert.deepEqual(l('npx', '--package=@scope/pkg@^1', 'bin'), ['npx', '@scope/pkg', '^1', false]);
    assert.deepEqual(l('pnpm', 'dlx', 'pkg@latest'), ['pnpm dlx', 'pkg', 'latest', false]);
    assert.deepEqual(l('uvx', '--from', 'mcp-server-git==0.6.2', 'mcp-server-git'), ['uvx', 'mcp-server-git', '0.6.2', true]);
    assert.deepEqual(l('pipx', 'run', 'mcp-server-time'), ['pipx run', 'mcp-server-time', undefined, false]);
    assert.deepEqual(l('docker', 'run', '-i', '--rm', '-e', 'X', 'img@sha256:ab'), ['docker run', 'img', 'sha256:ab', true]);
    assert.deepEqual(l('cmd', '/c', 'npx', '-y', 'pkg'), ['npx', 'pkg', undefined, false]);
    assert.equal(l('node', 'server.js'), undefined);
    assert.equal(l('npx', './local-server'), undefined);
  });
});

describe('portcullis scan --connect', () => {
  test('starts each server sandboxed and flags poisoned definitions; benign reference servers pass; unreachable ones are noted', async () => {
    const dir = await dirs.make('portcullis-scan-connect-');
    const node = process.execPath;
    const config = {
      mcpServers: {
        memory: { command: node, args: [join(ROOT, 'node_modules/@modelcontextprotocol/server-memory/dist/index.js')], env: { MEMORY_FILE_PATH: '/tmp/portcullis-scan-memory.json' } },
        calc: { command: node, args: [join(DIST, 'test/fixtures/servers/rug-pull.js')], env: { POISONED: '1' } },
        broken: { command: node, args: ['-e', 'process.exit(3)'] },
      },
    };
    await writeFile(join(dir, 'claude_desktop_config.json'), JSON.stringify(config));
    const run = await scan([join(dir, 'claude_desktop_config.json'), '--connect', '--json'], { cwd: dir });
    assert.equal(run.code, 1, run.stderr);
    const findings = (JSON.parse(run.stdout) as { findings: ScanFinding[] }).findings;
    const poisoning = findings.filter((f) => f.rule === 'tool-poisoning');
    assert.ok(poisoning.some((f) => f.server === 'calc' && f.severity === 'error' && /tool "add"/.test(f.message)), JSON.stringify(poisoning));
    assert.ok(!poisoning.some((f) => f.server === 'memory'), `server-memory flagged: ${JSON.stringify(poisoning)}`);
    assert.ok(findings.some((f) => f.rule === 'not-connected' && f.server === 'broken' && f.severity === 'note'));
    // Without --connect nothing is started, so nothing about definitions is said.
    const plain = JSON.parse((await scan([join(dir, 'claude_desktop_config.json'), '--json'], { cwd: dir })).stdout) as { findings: ScanFinding[] };
    assert.ok(!plain.findings.some((f) => f.rule === 'tool-poisoning' || f.rule === 'not-connected'));
  });
});
