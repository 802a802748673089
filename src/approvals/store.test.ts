import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApprovalStore, argumentsHash, isApprovalId, newApprovalId } from './store.js';
import { ApprovalError, type ApprovalRequestRecord } from './types.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portcullis-approvals-store-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function request(now: number, ttlMs = 600_000, args: unknown = { amount: 1 }): ApprovalRequestRecord {
  return {
    v: 1,
    id: newApprovalId(),
    createdAt: new Date(now).toISOString(),
    expiresAt: new Date(now + ttlMs).toISOString(),
    binding: { identity: 'agent', session: 's1', server: 'crm', tool: 'refund', argumentsSha256: argumentsHash(args) },
    exposedName: 'crm__refund',
    arguments: args,
    trigger: { code: 'APPROVAL_REQUIRED', guard: 'approval', reason: 'rule', rule: 'crm.refund' },
  };
}

const alice = { name: 'alice', channel: 'api' as const };

describe('argument binding hash', () => {
  test('is the RFC 8785 canonical hash: key order and spacing do not matter, values do', () => {
    assert.equal(argumentsHash({ a: 1, b: { c: [1, 2], d: 'x' } }), argumentsHash({ b: { d: 'x', c: [1, 2] }, a: 1 }));
    assert.notEqual(argumentsHash({ amount: 100 }), argumentsHash({ amount: 1000 }));
    assert.notEqual(argumentsHash({ amount: 100 }), argumentsHash({ amount: '100' }));
    assert.notEqual(argumentsHash({ to: ['a', 'b'] }), argumentsHash({ to: ['b', 'a'] }));
    assert.match(argumentsHash({}), /^[0-9a-f]{64}$/);
  });
});

describe('ApprovalStore', () => {
  test('a new request is pending, decided once, used once (replay and double decision fail)', async () => {
    const store = new ApprovalStore(dir);
    const r = request(Date.now());
    await store.create(r);
    assert.equal((await store.get(r.id))?.status, 'pending');
    assert.deepEqual((await store.list()).map((v) => v.id).includes(r.id), true);
    const approved = await store.decide(r.id, 'approved', { ...alice, reason: 'ok' });
    assert.equal(approved.status, 'approved');
    assert.equal(approved.decision?.approver, 'alice');
    await assert.rejects(store.decide(r.id, 'denied', { name: 'bob', channel: 'cli' }), (e: unknown) => e instanceof ApprovalError && e.kind === 'already_decided');
    assert.equal(await store.consume(r.id, 's1'), true);
    assert.equal(await store.consume(r.id, 's1'), false, 'a second use must fail');
    assert.equal((await store.get(r.id))?.status, 'consumed');
    assert.equal((await store.list()).some((v) => v.id === r.id), false, 'used requests leave the default list');
    assert.equal((await store.list({ all: true })).some((v) => v.id === r.id), true);
  });

  test('concurrent approve and deny (race between two approvers or processes): exactly one wins', async () => {
    const store = new ApprovalStore(dir);
    for (let i = 0; i < 10; i++) {
      const r = request(Date.now());
      await store.create(r);
      const results = await Promise.allSettled([store.decide(r.id, 'approved', alice), store.decide(r.id, 'denied', { name: 'bob', channel: 'cli' })]);
      assert.equal(results.filter((x) => x.status === 'fulfilled').length, 1);
      const uses = await Promise.all([store.consume(r.id, 's1'), store.consume(r.id, 's1'), store.consume(r.id, 's1')]);
      assert.equal(uses.filter(Boolean).length, 1, 'concurrent retries (replay race): exactly one use');
    }
  });

  test('no decision by the deadline is a denial: an expired request cannot be approved', async () => {
    let now = Date.now();
    const store = new ApprovalStore(dir, () => now);
    const r = request(now, 1000);
    await store.create(r);
    now += 1000;
    assert.equal((await store.get(r.id))?.status, 'expired');
    await assert.rejects(store.decide(r.id, 'approved', alice), (e: unknown) => e instanceof ApprovalError && e.kind === 'expired');
  });

  test('an approval not used by the deadline expires', async () => {
    let now = Date.now();
    const store = new ApprovalStore(dir, () => now);
    const r = request(now, 1000);
    await store.create(r);
    await store.decide(r.id, 'approved', alice);
    now += 1001;
    assert.equal((await store.get(r.id))?.status, 'expired');
  });

  test('ids that could walk out of the directory are refused (path traversal)', async () => {
    const store = new ApprovalStore(dir);
    for (const id of ['../../etc/passwd', 'ap_../../../etc', 'ap_short', '', 'ap_AAAAAAAAAAAAAAAA/x']) {
      assert.equal(isApprovalId(id), false, id);
      assert.equal(await store.get(id), undefined);
      await assert.rejects(store.decide(id, 'approved', alice), (e: unknown) => e instanceof ApprovalError && e.kind === 'invalid_id');
    }
    await assert.rejects(store.decide(newApprovalId(), 'approved', alice), (e: unknown) => e instanceof ApprovalError && e.kind === 'not_found');
  });

  test('the queue is private to the gateway user (0700 directory, 0600 files) and leaves no temp files', { skip: process.platform === 'win32' }, async () => {
    const store = new ApprovalStore(dir);
    const r = request(Date.now());
    await store.create(r);
    assert.equal((await stat(store.dir)).mode & 0o777, 0o700);
    assert.equal((await stat(join(store.dir, `${r.id}.request.json`))).mode & 0o777, 0o600);
    assert.deepEqual((await readdir(store.dir)).filter((n) => n.endsWith('.tmp')), []);
  });
});
