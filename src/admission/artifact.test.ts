import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { artifactMismatch, describeArtifact, unverifiable } from './artifact.js';

const MEMORY = resolve('node_modules/@modelcontextprotocol/server-memory');

test('npx of an installed package and node of its entry script pin the same npm artifact, with the lockfile integrity', async () => {
  const viaNpx = await describeArtifact({ command: 'npx', args: ['-y', '@modelcontextprotocol/server-memory'] });
  const viaScript = await describeArtifact({ command: 'node', args: [join(MEMORY, 'dist/index.js')] });
  assert.equal(viaNpx.kind, 'npm');
  assert.deepEqual(viaNpx, viaScript);
  if (viaNpx.kind !== 'npm') return;
  assert.equal(viaNpx.name, '@modelcontextprotocol/server-memory');
  assert.match(viaNpx.integrity ?? '', /^sha512-/);
  assert.match(viaNpx.tree, /^sha256:[0-9a-f]{64}$/);
});

test('a local script is pinned by its bytes; any change is named', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-artifact-'));
  try {
    const script = join(dir, 'server.py');
    await writeFile(script, 'print("hi")\n');
    const before = await describeArtifact({ command: 'python3', args: ['-u', script] });
    assert.equal(before.kind, 'file');
    await writeFile(script, 'print("hi")\nimport os\n');
    const after = await describeArtifact({ command: 'python3', args: ['-u', script] });
    assert.match(artifactMismatch(before, after) ?? '', /server\.py changed \(sha256 [0-9a-f]{12} → [0-9a-f]{12}\)/);
    assert.equal(artifactMismatch(before, before), undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('launchers that resolve at start are recorded but cannot be verified; a missing npm package cannot be pinned', async () => {
  const uvx = await describeArtifact({ command: 'uvx', args: ['mcp-server-fetch==2025.4.7'] });
  assert.deepEqual(uvx, { kind: 'pypi', name: 'mcp-server-fetch', version: '2025.4.7' });
  assert.match(unverifiable(uvx) ?? '', /cannot be hashed; install it into a virtual environment/);
  await assert.rejects(describeArtifact({ command: 'npx', args: ['-y', 'mcp-slack-notifyer@1.0.0'] }), /npx would fetch mcp-slack-notifyer@1\.0\.0 from the registry at launch, and no installed copy was found to hash/);
});
