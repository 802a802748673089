import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bwrapArgs, type BwrapPlan } from './args.js';

const plan = (over: Partial<BwrapPlan> = {}): BwrapPlan => ({
  mounts: [
    { path: '/srv/app/data', mode: 'rw', why: 'declared read_write' },
    { path: '/srv/app', mode: 'ro', why: 'package' },
  ],
  hide: [{ path: '/srv/app/portcullis-data', directory: true }, { path: '/elsewhere/key', directory: false }, { path: '/srv/app/secret.txt', directory: false }],
  files: [{ src: '/tmp/x/passwd', dest: '/etc/passwd' }],
  home: '/home/sandbox',
  tmpBytes: 1024,
  chdir: '/home/sandbox',
  hostname: 'sandbox',
  command: ['/usr/bin/prlimit', '--', '/usr/bin/node', 'server.js'],
  ...over,
});

const index = (a: string[], ...seq: string[]) => a.findIndex((_, i) => seq.every((s, j) => a[i + j] === s));

test('every namespace is new, privileges are dropped and the sandbox dies with the gateway', () => {
  const a = bwrapArgs(plan());
  for (const flag of ['--unshare-all', '--unshare-user', '--disable-userns', '--die-with-parent', '--new-session']) assert.ok(a.includes(flag), flag);
  assert.ok(!a.includes('--share-net'));
  assert.ok(index(a, '--cap-drop', 'ALL') >= 0);
});

test('no host home, no host /etc/passwd, size-limited private /tmp and home, read-only root', () => {
  const a = bwrapArgs(plan());
  assert.ok(index(a, '--size', '1024', '--perms', '1777', '--tmpfs', '/tmp') >= 0);
  assert.ok(index(a, '--size', '1024', '--perms', '0700', '--tmpfs', '/home/sandbox') >= 0);
  assert.ok(index(a, '--size', '1024', '--tmpfs', '/dev/shm') >= 0);
  assert.ok(!a.some((x) => x === '/home' || x === '/root' || x === '/etc'), 'a whole home or /etc is mounted');
  assert.ok(index(a, '--ro-bind', '/tmp/x/passwd', '/etc/passwd') >= 0);
  assert.ok(index(a, '--remount-ro', '/') > index(a, '--ro-bind', '/tmp/x/passwd', '/etc/passwd'));
  assert.deepEqual(a.slice(a.indexOf('--') + 1), ['/usr/bin/prlimit', '--', '/usr/bin/node', 'server.js']);
});

test('parents are mounted before what is inside them, and hidden paths are covered last', () => {
  const a = bwrapArgs(plan());
  const parent = index(a, '--ro-bind', '/srv/app', '/srv/app');
  const child = index(a, '--bind', '/srv/app/data', '/srv/app/data');
  assert.ok(parent >= 0 && child > parent);
  const cover = index(a, '--tmpfs', '/srv/app/portcullis-data');
  assert.ok(cover > child, 'the data dir must be covered after the mount that contains it');
  assert.ok(index(a, '--ro-bind', '/dev/null', '/srv/app/secret.txt') > child);
  assert.equal(index(a, '--ro-bind', '/dev/null', '/elsewhere/key'), -1, 'paths outside every mount need no cover');
});
