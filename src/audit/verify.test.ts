import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog, computeRecordHash, GENESIS_HASH, verifyAuditLog } from './index.js';
import type { AuditStore } from './index.js';

const N = 10;
let dir: string;
let file: string;
/** The untampered lines (without newlines), index 0 = record 1. */
let lines: string[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portcullis-audit-'));
  file = join(dir, 'audit.jsonl');
  const log = await AuditLog.open({ dir, durability: 'write' });
  for (let i = 1; i <= N; i++) {
    await log.append({ type: 'call', identity: 'agent-a', tool: 'exec', decision: 'deny', code: 'tool.denied', args: { cmd: `rm -rf /${i}` } });
  }
  await log.close();
  lines = (await readFile(file, 'utf8')).split('\n').slice(0, N);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const write = (ls: string[]) => writeFile(file, ls.map((l) => l + '\n').join(''));
const rec = (k: number) => JSON.parse(lines[k - 1]);
/** A record an attacker built with a correct hash over their own content. */
function forge(fields: Record<string, unknown>): string {
  const body = { v: 1, ts: new Date().toISOString(), type: 'call', identity: 'agent-a', tool: 'exec', decision: 'allow', ...fields };
  return JSON.stringify({ ...body, hash: computeRecordHash(body) });
}

async function expectBroken(seq: number, line: number, reason: RegExp) {
  const res = await verifyAuditLog(file);
  assert.equal(res.ok, false, 'tampering went undetected');
  if (res.ok) return;
  assert.equal(res.seq, seq, `wrong first bad seq: ${res.reason}`);
  assert.equal(res.line, line, `wrong line: ${res.reason}`);
  assert.match(res.reason, reason);
}

describe('tamper detection: verify reports the FIRST record that was interfered with', () => {
  test('an untouched log verifies', async () => {
    assert.deepEqual(await verifyAuditLog(file), { ok: true, count: N, lastHash: rec(N).hash });
  });

  test('editing a field (deny → allow) is caught at that record', async () => {
    const t = [...lines];
    t[3] = t[3].replace('"decision":"deny"', '"decision":"allow"');
    t[7] = t[7].replace('"decision":"deny"', '"decision":"allow"'); // a later edit must not mask the first
    await write(t);
    await expectBroken(4, 4, /^record 4 was changed: its content does not match its hash$/);
  });

  test('editing the seq field itself is reported at the record\'s true position', async () => {
    const t = [...lines];
    t[4] = t[4].replace('"seq":5,', '"seq":50,');
    await write(t);
    await expectBroken(5, 5, /^record 5 was changed/);
  });

  test('deleting a record is caught', async () => {
    await write(lines.filter((_, i) => i !== 4));
    await expectBroken(5, 5, /^record 5 is missing: record 6 follows record 4$/);
  });

  test('deleting several records is caught', async () => {
    await write([...lines.slice(0, 2), ...lines.slice(5)]);
    await expectBroken(3, 3, /^records 3 to 5 are missing: record 6 follows record 2$/);
  });

  test('deleting the first record is caught', async () => {
    await write(lines.slice(1));
    await expectBroken(1, 1, /^record 1 is missing: the log starts at record 2$/);
  });

  test('swapping two records is caught', async () => {
    const t = [...lines];
    [t[5], t[6]] = [t[6], t[5]];
    await write(t);
    await expectBroken(6, 6, /^records 6 and 7 were swapped: record 7 is at line 6, before record 6 at line 7$/);
  });

  test('moving a record later in the file is caught', async () => {
    const t = [...lines];
    const [moved] = t.splice(2, 1);
    t.splice(7, 0, moved);
    await write(t);
    await expectBroken(3, 3, /^record 3 is out of place: line 3 holds record 4 instead, and record 3 appears later at line 8/);
  });

  test('moving a record earlier (a replay of an old record) is caught', async () => {
    await write([...lines.slice(0, 6), lines[1], ...lines.slice(6)]);
    await expectBroken(2, 7, /^record 2 appears twice \(lines 2 and 7\)/);
  });

  test('inserting a forged record with a self-computed hash and a fake seq is caught', async () => {
    const t = [...lines];
    t.splice(4, 0, forge({ seq: 999, prev: rec(4).hash }));
    await write(t);
    await expectBroken(5, 5, /^record 5 is out of place: line 5 holds record 999 instead, and record 5 appears later at line 6; records were reordered or a record was inserted$/);
  });

  test('inserting a forged copy of the next seq (correctly chained) is caught when the real one follows', async () => {
    const t = [...lines];
    t.splice(4, 0, forge({ seq: 5, prev: rec(4).hash }));
    await write(t);
    await expectBroken(5, 6, /^record 5 appears twice \(lines 5 and 6\): a record was inserted/);
  });

  test('replacing a record with a self-consistent forgery is caught where the chain breaks', async () => {
    const t = [...lines];
    t[4] = forge({ seq: 5, prev: rec(4).hash });
    await write(t);
    await expectBroken(6, 6, /^record 6 does not chain to record 5 \(prev hash mismatch\): a record was inserted or replaced$/);
  });

  test('replacing a record with a forgery under a made-up seq is caught', async () => {
    const t = [...lines];
    t[4] = forge({ seq: 77, prev: rec(4).hash });
    await write(t);
    await expectBroken(5, 5, /^record 5 was replaced: line 5 claims to be record 77 yet chains to record 4/);
  });

  test('appending a forged record that does not chain is caught', async () => {
    await write([...lines, forge({ seq: N + 1, prev: 'a'.repeat(64) })]);
    await expectBroken(N + 1, N + 1, new RegExp(`^record ${N + 1} does not chain to record ${N} \\(prev hash mismatch\\)`));
  });

  test('a forged first record that does not start from the genesis hash is caught', async () => {
    await write([forge({ seq: 1, prev: 'b'.repeat(64) }), ...lines.slice(1)]);
    await expectBroken(1, 1, /^record 1 does not start a chain/);
    assert.notEqual(GENESIS_HASH, 'b'.repeat(64));
  });

  test('truncating the file mid-line is caught at the cut record', async () => {
    const { size } = await stat(file);
    await truncate(file, size - 30);
    await expectBroken(N, N, new RegExp(`^record ${N} is unreadable: line ${N} is not valid JSON — the file was truncated mid-record`));
  });

  test('a non-JSON line is caught', async () => {
    const t = [...lines];
    t.splice(2, 0, 'hello, I am definitely an audit record');
    await write(t);
    await expectBroken(3, 3, /^record 3 is unreadable: line 3 is not valid JSON/);
  });

  test('a blank line is caught', async () => {
    const t = [...lines];
    t.splice(2, 0, '');
    await write(t);
    await expectBroken(3, 3, /^record 3 is unreadable: line 3 is empty$/);
  });

  test('records with missing fields or the wrong version are caught', async () => {
    const noHash = JSON.parse(lines[2]);
    delete noHash.hash;
    await write([...lines.slice(0, 2), JSON.stringify(noHash), ...lines.slice(3)]);
    await expectBroken(3, 3, /^record 3 is unreadable: line 3 is missing required field "hash"$/);

    const v2 = JSON.parse(lines[2]);
    v2.v = 2;
    await write([...lines.slice(0, 2), JSON.stringify(v2), ...lines.slice(3)]);
    await expectBroken(3, 3, /^record 3 is unreadable: line 3 has format version 2, expected 1$/);

    await write([...lines.slice(0, 2), '[1,2,3]', ...lines.slice(3)]);
    await expectBroken(3, 3, /^record 3 is unreadable: line 3 is not a JSON object$/);
  });

  test('a duplicate key smuggled in front (read differently by other parsers) is caught', async () => {
    const t = [...lines];
    // JSON.parse keeps the last "decision" (deny, so the hash still matches);
    // a first-wins SIEM parser would read "allow".
    t[2] = t[2].replace('{"v":1,', '{"v":1,"decision":"allow",');
    await write(t);
    await expectBroken(3, 3, /^record 3 was changed: line 3 is not byte-for-byte as written/);
  });
});

describe('verify inputs', () => {
  test('a missing log is reported, not mistaken for an empty one', async () => {
    const missing = join(dir, 'nope.jsonl');
    assert.deepEqual(await verifyAuditLog(missing), { ok: false, seq: 0, line: 0, reason: `no audit log found at ${missing}` });
  });

  test('an empty log is a valid log of zero records', async () => {
    await writeFile(file, '');
    assert.deepEqual(await verifyAuditLog(file), { ok: true, count: 0, lastHash: GENESIS_HASH });
  });

  test('a data directory resolves to its audit.jsonl', async () => {
    assert.deepEqual(await verifyAuditLog(dir), { ok: true, count: N, lastHash: rec(N).hash });
    const empty = await mkdtemp(join(tmpdir(), 'portcullis-audit-empty-'));
    try {
      const res = await verifyAuditLog(empty);
      assert.equal(res.ok, false);
      assert.match(!res.ok ? res.reason : '', /^no audit log found at .*audit\.jsonl$/);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  test('any AuditStore can be verified, not just files', async () => {
    const store = (ls: string[]): AuditStore => ({
      location: 'memory://x',
      tail: async () => ls.at(-1) ?? null,
      appendBatch: async () => {},
      lines: async function* () {
        yield* ls;
      },
      close: async () => {},
    });
    assert.deepEqual(await verifyAuditLog(store(lines)), { ok: true, count: N, lastHash: rec(N).hash });
    const bad = await verifyAuditLog(store([lines[0], lines[2]]));
    assert.deepEqual(bad, { ok: false, seq: 2, line: 2, reason: 'record 2 is missing: record 3 follows record 1' });
  });
});
