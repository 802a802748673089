import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import canonicalizeModule from 'canonicalize';
import { AuditLog, FileAuditStore, GENESIS_HASH, verifyAuditLog } from './index.js';
import type { AuditEvent, AuditRecord, AuditStore } from './index.js';

const canonicalize = canonicalizeModule as unknown as (v: unknown) => string;

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portcullis-audit-'));
  file = join(dir, 'audit.jsonl');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ev = (i: number): AuditEvent => ({
  type: 'call',
  session: 's1',
  identity: 'agent-a',
  server: 'fs',
  tool: 'read_file',
  decision: i % 3 === 0 ? 'deny' : 'allow',
  code: i % 3 === 0 ? 'tool.denied' : 'ok',
  args: { path: `/tmp/f${i}` },
});

async function readRecords(): Promise<AuditRecord[]> {
  const text = await readFile(file, 'utf8');
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
}

/** In-memory store, optionally failing on the Nth appendBatch call (1-based). */
class MemoryStore implements AuditStore {
  readonly location = 'memory://test';
  readonly stored: string[] = [];
  batches = 0;
  constructor(private readonly failOnBatch = Infinity) {}
  async tail() {
    return this.stored.length ? this.stored[this.stored.length - 1] : null;
  }
  async appendBatch(lines: string[]) {
    this.batches++;
    await new Promise((r) => setImmediate(r));
    if (this.batches >= this.failOnBatch) throw new Error('disk on fire (ENOSPC)');
    this.stored.push(...lines);
  }
  async *lines() {
    yield* this.stored;
  }
  async close() {}
}

describe('hash chain: records cannot be silently altered, dropped or reordered', () => {
  test('a chain of N records verifies, each linked to the one before', async () => {
    const log = await AuditLog.open({ dir });
    assert.equal(log.path, file);
    const recs: AuditRecord[] = [];
    for (let i = 1; i <= 25; i++) recs.push(await log.append(ev(i)));
    await log.close();

    const onDisk = await readRecords();
    assert.deepEqual(onDisk, recs);
    assert.equal(onDisk[0].prev, GENESIS_HASH);
    onDisk.forEach((r, i) => {
      assert.equal(r.v, 1);
      assert.equal(r.seq, i + 1);
      assert.match(r.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      if (i > 0) assert.equal(r.prev, onDisk[i - 1].hash);
    });
    assert.deepEqual(await verifyAuditLog(file), { ok: true, count: 25, lastHash: recs[24].hash });
  });

  test('the hash depends only on canonical content (RFC 8785), not on line layout', async () => {
    const log = await AuditLog.open({ dir });
    const rec = await log.append({ type: 'call', tool: 't', args: { z: 1, a: [1, 'é', { y: null, b: 2.5 }] } });
    await log.close();
    const { hash, ...rest } = (await readRecords())[0];
    // Same content, different key order: same canonical form, same hash.
    const shuffled = Object.fromEntries(Object.entries(rest).reverse());
    assert.equal(createHash('sha256').update(canonicalize(shuffled)).digest('hex'), hash);
    assert.equal(rec.hash, hash);
  });

  test('the writer\'s hash agrees with the canonicalize package on awkward content (no false tamper alarms)', async () => {
    const awkward: unknown[] = [
      { z: 1, a: { y: [3, { d: 1, c: 2 }], b: null } }, // unsorted keys, nested in arrays
      { '10': 'x', '9': 'y', '01': 'z', b: 1, a: 2 }, // array-index keys: JS enumerates them out of insertion order
      { '\u20ac': 1, '\ud83d\ude00': 2, '\r': 3, 'ö': 4, A: 5, a: 6, '': 7 }, // RFC 8785 sorts by UTF-16 code units
      { n: [1e21, 1e-7, 0.1, -0, 333333333.33333329, 4.5, 2 ** 53 + 2, -1.5e300] }, // ES number formatting
      [{ b: 1, a: 1 }, 'str', true, null],
    ];
    const log = await AuditLog.open({ dir });
    const written: AuditRecord[] = [];
    for (const args of awkward) written.push(await log.append({ type: 'call', args }));
    written.push(await log.append({ type: 'result', detail: { y: 1, x: [{ b: 0, a: 0 }] }, result: { sha256: 'ab', bytes: 3, isError: false } }));
    written.push(await log.append({ type: 'result', detail: { y: 1, x: { '2': 0, '1': 0 } } }));
    await log.close();
    const onDisk = await readRecords();
    onDisk.forEach((r, i) => {
      const { hash, ...rest } = r;
      assert.equal(createHash('sha256').update(canonicalize(rest)).digest('hex'), hash, `record ${i + 1}`);
      assert.equal(written[i].hash, hash);
    });
    assert.equal((await verifyAuditLog(file)).ok, true);
  });

  test('close and reopen continues the chain instead of starting a second one', async () => {
    let log = await AuditLog.open({ dir });
    for (let i = 1; i <= 3; i++) await log.append(ev(i));
    await log.close();
    log = await AuditLog.open({ dir });
    const r4 = await log.append(ev(4));
    await log.append(ev(5));
    await log.close();

    const recs = await readRecords();
    assert.equal(r4.seq, 4);
    assert.equal(r4.prev, recs[2].hash);
    assert.deepEqual(await verifyAuditLog(file), { ok: true, count: 5, lastHash: recs[4].hash });
  });

  test('one writer at a time: a second open is refused while the first is open; a dead writer\'s lock is taken over', async () => {
    const log = await AuditLog.open({ dir });
    await assert.rejects(AuditLog.open({ dir }), new RegExp(`another process \\(pid ${process.pid}\\) is writing the audit log .*; two writers would fork its hash chain`));
    await log.close();
    // A crashed gateway leaves its lock behind; its pid no longer runs.
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    await writeFile(`${file}.lock`, `${dead}\n`);
    const again = await AuditLog.open({ dir });
    await again.append(ev(1));
    await again.close();
    assert.equal((await verifyAuditLog(file)).ok, true);
  });

  test('a complete last record missing its newline (e.g. appended by hand) is continued cleanly', async () => {
    const log = await AuditLog.open({ dir });
    await log.append(ev(1));
    await log.close();
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.trimEnd());
    const again = await AuditLog.open({ dir });
    await again.append(ev(2));
    await again.close();
    assert.equal((await verifyAuditLog(file)).ok, true);
    assert.equal((await readRecords()).length, 2);
  });

  test('strings with newlines, U+2028 and odd unicode cannot split a record across lines', async () => {
    const log = await AuditLog.open({ dir });
    await log.append({ type: 'alert', reason: 'line1\nline2\r\n{"seq":99}\u2028\u2029 🦀 \ud800 lone surrogate', args: { 'k\ney': 'v\n' } });
    await log.append(ev(2));
    await log.close();
    const text = await readFile(file, 'utf8');
    assert.equal(text.split('\n').length, 3); // two lines + trailing ''
    assert.deepEqual(await verifyAuditLog(file), { ok: true, count: 2, lastHash: (await readRecords())[1].hash });
  });

  test('event fields cannot override the chain fields (no forging seq/prev/hash through an event)', async () => {
    const log = await AuditLog.open({ dir });
    const rec = await log.append({ type: 'call', seq: 99, prev: 'f'.repeat(64), hash: 'x', v: 7, ts: 'then' } as unknown as AuditEvent);
    await log.close();
    assert.equal(rec.seq, 1);
    assert.equal(rec.prev, GENESIS_HASH);
    assert.equal(rec.v, 1);
    assert.equal((await verifyAuditLog(file)).ok, true);
  });

  test('an invalid event is rejected and leaves no hole in the chain', async () => {
    const log = await AuditLog.open({ dir });
    await assert.rejects(log.append({ type: '' }), /non-empty string "type"/);
    await assert.rejects(log.append({ type: 'call', decision: 'maybe' } as unknown as AuditEvent), /decision/);
    const rec = await log.append(ev(1));
    await log.close();
    assert.equal(rec.seq, 1);
    assert.equal((await verifyAuditLog(file)).ok, true);
  });
});

describe('storage: the log must not be readable by other users', () => {
  test('directory is created 0700 and file 0600', { skip: process.platform === 'win32' }, async () => {
    const sub = join(dir, 'nested', 'data');
    const log = await AuditLog.open({ dir: sub });
    await log.append(ev(1));
    await log.close();
    assert.equal((await stat(sub)).mode & 0o777, 0o700);
    assert.equal((await stat(join(sub, 'audit.jsonl'))).mode & 0o777, 0o600);
  });
});

describe('damaged tail: never chain new records onto a broken log', () => {
  test('a last line cut short mid-record makes open refuse, saying what to do', async () => {
    const log = await AuditLog.open({ dir });
    for (let i = 1; i <= 3; i++) await log.append(ev(i));
    await log.close();
    const { size } = await stat(file);
    await truncate(file, size - 20);
    await assert.rejects(AuditLog.open({ dir }), (err: Error) => {
      assert.match(err.message, /is damaged at its last record/);
      assert.match(err.message, /not valid JSON/);
      assert.ok(err.message.includes(file));
      assert.ok(err.message.includes(`portcullis audit verify --data ${dir}`));
      assert.match(err.message, /move the file aside/);
      return true;
    });
  });

  test('a last record whose content no longer matches its hash makes open refuse', async () => {
    const log = await AuditLog.open({ dir });
    for (let i = 1; i <= 3; i++) await log.append(ev(i));
    await log.close();
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace(/"decision":"deny"(?=[^\n]*\n$)/, '"decision":"allow"'));
    await assert.rejects(AuditLog.open({ dir }), /damaged at its last record \(seq 3: hash mismatch\)/);
  });
});

describe('durability: an acknowledged record is never lost', () => {
  for (const durability of ['fsync', 'write'] as const) {
    test(`append resolves only once the record is in the file (${durability})`, async () => {
      const log = await AuditLog.open({ dir, durability });
      for (let i = 1; i <= 5; i++) {
        const rec = await log.append(ev(i));
        const text = await readFile(file, 'utf8');
        assert.ok(text.endsWith(JSON.stringify(rec) + '\n'), `record ${i} not in file when append resolved`);
      }
      await log.close();
    });
  }

  test('1000 concurrent appends get contiguous seqs in call order and form one valid chain', async () => {
    const log = await AuditLog.open({ dir });
    const recs = await Promise.all(Array.from({ length: 1000 }, (_, i) => log.append(ev(i))));
    // plus a second wave launched while the first batch may still be syncing
    const more = await Promise.all(Array.from({ length: 10 }, async (_, i) => {
      await new Promise((r) => setImmediate(r));
      return log.append(ev(i));
    }));
    await log.close();
    assert.deepEqual(recs.map((r) => r.seq), Array.from({ length: 1000 }, (_, i) => i + 1));
    assert.deepEqual(more.map((r) => r.seq).sort((a, b) => a - b), Array.from({ length: 10 }, (_, i) => 1001 + i));
    const onDisk = await readRecords();
    assert.deepEqual(onDisk.map((r) => r.seq), Array.from({ length: 1010 }, (_, i) => i + 1));
    assert.deepEqual(await verifyAuditLog(file), { ok: true, count: 1010, lastHash: onDisk[1009].hash });
  });

  test('group commit: appends made together share one write+sync instead of one each', async () => {
    const inner = await FileAuditStore.open(file);
    let batches = 0;
    const counting: AuditStore = {
      location: inner.location,
      tail: () => inner.tail(),
      appendBatch: (lines, durable) => {
        batches++;
        return inner.appendBatch(lines, durable);
      },
      lines: () => inner.lines(),
      close: () => inner.close(),
    };
    const log = await AuditLog.open({ dir, store: counting });
    await Promise.all(Array.from({ length: 500 }, (_, i) => log.append(ev(i))));
    await log.close();
    assert.equal(batches, 1);
    assert.equal((await verifyAuditLog(file)).ok, true);
  });

  test('close waits for appends still in flight', async () => {
    const log = await AuditLog.open({ dir });
    const pending = [log.append(ev(1)), log.append(ev(2))];
    await log.close();
    await Promise.all(pending);
    assert.equal((await readRecords()).length, 2);
    await assert.rejects(log.append(ev(3)), /is closed/);
    await log.close(); // idempotent
  });
});

describe('fail closed: if the audit record cannot be stored, the caller must not proceed', () => {
  test('a store whose write fails makes every pending append reject, and later ones too', async () => {
    const store = new MemoryStore(1);
    const log = await AuditLog.open({ dir, store });
    const results = await Promise.allSettled([log.append(ev(1)), log.append(ev(2)), log.append(ev(3))]);
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      assert.match((r as PromiseRejectedResult).reason.message, /memory:\/\/test failed to write \(disk on fire \(ENOSPC\)\)/);
    }
    await assert.rejects(log.append(ev(4)), /failed to write.*refusing further audit records/);
    await log.close();
    assert.equal(store.stored.length, 0);
  });

  test('a failure mid-stream rejects the failed batch and everything queued behind it', async () => {
    const store = new MemoryStore(2);
    const log = await AuditLog.open({ dir, store });
    const first = log.append(ev(1)); // batch 1: succeeds
    await new Promise((r) => setImmediate(r)); // let batch 1 start
    const queued = [log.append(ev(2)), log.append(ev(3))]; // batch 2: fails
    assert.equal((await first).seq, 1);
    for (const r of await Promise.allSettled(queued)) assert.equal(r.status, 'rejected');
    await assert.rejects(log.append(ev(4)));
    await log.close();
    assert.equal(store.stored.length, 1);
    assert.equal((await verifyAuditLog(store)).ok, true);
  });

  test('a custom store is resumed from its tail like the file', async () => {
    const store = new MemoryStore();
    let log = await AuditLog.open({ dir, store });
    await log.append(ev(1));
    await log.close();
    log = await AuditLog.open({ dir, store });
    assert.equal(log.path, 'memory://test');
    assert.equal((await log.append(ev(2))).seq, 2);
    await log.close();
    assert.equal((await verifyAuditLog(store)).ok, true);
  });
});
