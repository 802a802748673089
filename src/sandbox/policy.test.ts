import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, parseConfig } from '../config/load.js';
import { isStdioServer, type SandboxPolicyConfig } from '../config/schema.js';
import { buildPolicy } from './policy.js';

const server = (yaml: string, mode = 'development') => `mode: ${mode}\n${mode === 'production' ? 'admission: { trusted_keys: { ci: ci.pub } }\n' : ''}servers:\n  s:\n    command: node\n${yaml}\n`;
const sandboxOf = (yaml: string): SandboxPolicyConfig => {
  const s = parseConfig(server(yaml)).config.servers.s;
  assert.ok(isStdioServer(s) && s.sandbox !== 'none');
  return s.sandbox;
};
const problems = (text: string) => {
  try {
    parseConfig(text);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems.map((p) => `${p.path}: ${p.message}`);
  }
  assert.fail('expected the config to be refused');
};

test('a stdio server is sandboxed by default: no network, no declared paths, default limits', () => {
  const s = sandboxOf('');
  assert.deepEqual(s.filesystem, { read_only: [], read_write: [] });
  assert.equal(s.network, 'none');
  assert.deepEqual(s.limits, { memory_mb: 1024, cpu_seconds: 3600, processes: 128, open_files: 1024, tmp_mb: 64, stderr_kb: 1024 });
});

test('sandbox mistakes are refused with the path and the fix', () => {
  assert.match(problems(server('    sandbox: { filesytem: {} }'))[0], /servers\.s\.sandbox\.filesytem: unknown field .*did you mean "filesystem"/);
  assert.match(problems(server('    sandbox: { filesystem: { read_only: [relative/dir] } }'))[0], /read_only\[0\]: use an absolute path/);
  assert.match(problems(server('    sandbox: { filesystem: { read_write: ["/"] } }'))[0], /read_write\[0\]: mounting \/ would expose the whole host/);
  assert.deepEqual(problems(server('    sandbox: { network: { allow: ["example.com"] } }')), ['servers.s.sandbox.network.allow[0]: write "host:port", e.g. "api.example.com:443" ("*.example.com:443" for any subdomain, "[::1]:8080" for IPv6)']);
  assert.match(problems(server('    sandbox: { network: everything }'))[0], /servers\.s\.sandbox\.network: network is "none" or \{ allow/);
  assert.match(problems(server('    sandbox: off'))[0], /servers\.s\.sandbox: sandbox is "none" or a mapping/);
  assert.match(problems(server('    sandbox: { filesystem: { read_only: [/a], read_write: [/a] } }'))[0], /read_only\[0\]: "\/a" is also in read_write/);
  assert.match(problems('servers:\n  r: { url: "http://127.0.0.1:1/mcp", sandbox: none }\n')[0], /servers\.r\.sandbox: remote \(HTTP\) servers are not sandboxed/);
});

test('sandbox: none is a warning in development and refused in production', () => {
  const dev = parseConfig(server('    sandbox: none'));
  assert.ok(dev.warnings.some((w) => w.path === 'servers.s.sandbox' && /unsandboxed/.test(w.message)));
  assert.match(problems(server('    sandbox: none', 'production'))[0], /servers\.s\.sandbox: production mode refuses unsandboxed stdio servers/);
});

test("a declared path containing or inside the gateway's data dir is refused", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-policy-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const dataDir = join(dir, 'data');
  await mkdir(join(dataDir, 'keys'), { recursive: true });
  assert.throws(() => buildPolicy('s', sandboxOf(`    sandbox: { filesystem: { read_only: [${JSON.stringify(dir)}] } }`), { dataDir }), /servers\.s\.sandbox\.filesystem\.read_only\[0\]: .* contains the gateway's data dir/);
  assert.throws(() => buildPolicy('s', sandboxOf(`    sandbox: { filesystem: { read_write: [${JSON.stringify(join(dataDir, 'keys'))}] } }`), { dataDir }), /read_write\[0\]: .* is inside the gateway's data dir/);
  const ok = buildPolicy('s', sandboxOf(`    sandbox: { filesystem: { read_write: [${JSON.stringify(join(dir, 'work'))}] }, network: { allow: ["api.example.com:443"] } }`), { dataDir, secretFiles: ['/run/secrets/x'] });
  assert.deepEqual(ok.filesystem.readWrite, [join(dir, 'work')]);
  assert.deepEqual(ok.network, { allow: ['api.example.com:443'] });
  assert.ok(ok.hidden.includes('/run/secrets/x'));
});
