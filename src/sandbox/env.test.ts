import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../config/load.js';
import { describeEnv, resolveEnv, secretFiles } from './env.js';

test('secret references resolve at launch; errors name the variable, never a value', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-env-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'token'), 's3cret-from-file\n');
  const env = await resolveEnv('api', { PLAIN: 'x', A: { from_env: 'SOURCE_VAR' }, B: { from_file: join(dir, 'token') } }, { SOURCE_VAR: 's3cret-from-env' });
  assert.deepEqual(env, { PLAIN: 'x', A: 's3cret-from-env', B: 's3cret-from-file' });
  await assert.rejects(resolveEnv('api', { A: { from_env: 'MISSING_VAR' } }, {}), /servers\.api\.env\.A: from_env MISSING_VAR is not set/);
  await assert.rejects(resolveEnv('api', { B: { from_file: join(dir, 'nope') } }, {}), /servers\.api\.env\.B: cannot read from_file .*ENOENT/);
  assert.deepEqual(describeEnv({ PLAIN: 'x', A: { from_env: 'SOURCE_VAR' } }), ['PLAIN (value in the config)', 'A (from_env SOURCE_VAR)']);
});

test('the config accepts secret references and lists referenced files so no sandbox sees them', () => {
  const { config } = parseConfig(`servers:\n  s:\n    command: node\n    env: { A: { from_env: TOKEN }, B: { from_file: /run/secrets/b }, C: plain }\n`);
  assert.deepEqual(secretFiles(config), ['/run/secrets/b']);
  assert.throws(() => parseConfig(`servers:\n  s:\n    command: node\n    env: { A: { from_env: "no spaces" } }\n`), /servers\.s\.env\.A/);
});
