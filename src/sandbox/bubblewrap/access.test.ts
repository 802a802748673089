import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accessProblem } from './access.js';

test('a path another uid cannot reach or write is reported with the directory and mode at fault', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-access-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const other = 65534 === process.getuid?.() ? 65533 : 65534;
  await mkdir(join(dir, 'inner'));
  await chmod(dir, 0o700);
  assert.match(accessProblem(join(dir, 'inner'), other, other, 'read')!, /cannot enter .* \(mode 700\)/);
  await chmod(dir, 0o755);
  await chmod(join(dir, 'inner'), 0o755);
  assert.equal(accessProblem(join(dir, 'inner'), other, other, 'read'), undefined);
  assert.match(accessProblem(join(dir, 'inner'), other, other, 'write')!, /cannot write .*mode 755/);
  await chmod(join(dir, 'inner'), 0o777);
  assert.equal(accessProblem(join(dir, 'inner'), other, other, 'write'), undefined);
  assert.match(accessProblem(join(dir, 'missing'), other, other, 'read')!, /does not exist/);
});
