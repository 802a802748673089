import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inferRuntime, packageDirOf, tooBroad } from './runtime.js';

test('a script mounts its package directory; an installed package mounts its node_modules', async (t) => {
  const dir = await realpath(await mkdtemp(join(tmpdir(), 'portcullis-rt-')));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const home = join(dir, 'home');
  await mkdir(join(dir, 'app', 'dist'), { recursive: true });
  await writeFile(join(dir, 'app', 'package.json'), '{}');
  await mkdir(join(dir, 'app', 'node_modules'));
  await writeFile(join(dir, 'app', 'dist', 'server.js'), '');
  assert.equal(packageDirOf(join(dir, 'app', 'dist', 'server.js'), home), join(dir, 'app'));

  await mkdir(join(dir, 'proj', 'node_modules', '@x', 'srv', 'dist'), { recursive: true });
  await writeFile(join(dir, 'proj', 'node_modules', '@x', 'srv', 'package.json'), '{}');
  await writeFile(join(dir, 'proj', 'node_modules', '@x', 'srv', 'dist', 'index.js'), '');
  assert.equal(packageDirOf(join(dir, 'proj', 'node_modules', '@x', 'srv', 'dist', 'index.js'), home), join(dir, 'proj', 'node_modules'));

  // A workspace package without its own node_modules: the hoisted one above it.
  await mkdir(join(dir, 'mono', 'node_modules'), { recursive: true });
  await mkdir(join(dir, 'mono', 'packages', 'srv'), { recursive: true });
  await writeFile(join(dir, 'mono', 'packages', 'srv', 'package.json'), '{}');
  await writeFile(join(dir, 'mono', 'packages', 'srv', 'main.js'), '');
  assert.equal(packageDirOf(join(dir, 'mono', 'packages', 'srv', 'main.js'), home), join(dir, 'mono'));
});

test('the home directory, its ancestors and shared scratch space are never mounted whole', () => {
  assert.equal(tooBroad('/home/alice', '/home/alice'), true);
  assert.equal(tooBroad('/home', '/home/alice'), true);
  assert.equal(tooBroad('/tmp', '/home/alice'), true);
  assert.equal(tooBroad('/', '/home/alice'), true);
  assert.equal(tooBroad('/home/alice/project', '/home/alice'), false);
});

test('a script directly in /tmp or the home mounts only itself', async (t) => {
  const home = await realpath(await mkdtemp(join(tmpdir(), 'portcullis-home-')));
  t.after(() => rm(home, { recursive: true, force: true }));
  await writeFile(join(home, 'server.js'), '');
  assert.equal(packageDirOf(join(home, 'server.js'), home), join(home, 'server.js'));
});

test('relative script args become absolute; data-file args are not mounted', async (t) => {
  const dir = await realpath(await mkdtemp(join(tmpdir(), 'portcullis-rt-')));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'package.json'), '{}');
  await writeFile(join(dir, 'server.mjs'), '');
  await writeFile(join(dir, 'secrets.env'), '');
  const r = inferRuntime({ command: 'node', args: ['./server.mjs', '--data', join(dir, 'secrets.env')], cwd: dir, searchPath: process.env.PATH ?? '/usr/bin', home: '/nonexistent-home', execPath: process.execPath });
  assert.deepEqual(r.args, [join(dir, 'server.mjs'), '--data', join(dir, 'secrets.env')]);
  assert.ok(r.mounts.some((m) => m.path === dir));
  assert.ok(r.command.endsWith('/node'));
  assert.throws(() => inferRuntime({ command: 'no-such-command-xyz', args: [], cwd: dir, searchPath: '/usr/bin', home: '/h', execPath: process.execPath }), /not on PATH/);
});
