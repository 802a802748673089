/**
 * verifyAuditLog: the reader side of the tamper-evident audit log.
 *
 * Streams the log once (memory stays flat however large it is) and reports
 * the FIRST record that breaks the chain, with a sentence saying what most
 * likely happened, because the person reading it is usually an incident
 * responder, not the author of this code.
 *
 * Limits, by design of a bare hash chain: someone able to rewrite the file can
 * recompute every hash after their edit, and cutting whole records off the end
 * leaves a valid shorter chain. Signed checkpoints (a later layer over these
 * same hashes) close both gaps; this check catches everything else.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readLines } from './file-store.js';
import { AUDIT_FILE_NAME } from './log.js';
import { checkLine, GENESIS_HASH } from './record.js';
import type { AuditStore, AuditVerifyResult } from './types.js';

/**
 * Verify a log given as a file path, a data directory (its `audit.jsonl` is
 * checked), or an AuditStore.
 */
export async function verifyAuditLog(fileOrStore: string | AuditStore): Promise<AuditVerifyResult> {
  let source: AsyncIterable<string>;
  let location: string;
  if (typeof fileOrStore === 'string') {
    location = fileOrStore;
    const found = await statOrNull(location);
    if (found === 'missing') return { ok: false, seq: 0, line: 0, reason: `no audit log found at ${location}` };
    if (found instanceof Error) return { ok: false, seq: 0, line: 0, reason: `cannot read audit log at ${location}: ${found.message}` };
    if (found.isDirectory()) {
      location = join(location, AUDIT_FILE_NAME);
      const inDir = await statOrNull(location);
      if (inDir === 'missing') return { ok: false, seq: 0, line: 0, reason: `no audit log found at ${location}` };
      if (inDir instanceof Error) return { ok: false, seq: 0, line: 0, reason: `cannot read audit log at ${location}: ${inDir.message}` };
    }
    source = readLines(location);
  } else {
    location = fileOrStore.location;
    source = fileOrStore.lines();
  }

  const it = source[Symbol.asyncIterator]();
  let lineNo = 0;
  let count = 0;
  let lastHash = GENESIS_HASH;
  const fail = (seq: number, line: number, reason: string): AuditVerifyResult => ({ ok: false, seq, line, reason });

  try {
    for (;;) {
      const next = await it.next();
      if (next.done) break;
      lineNo++;
      const expected = count + 1;
      const check = checkLine(next.value);

      if (!check.ok) {
        // Report the position (expected seq), not the claimed one: if the seq
        // field itself was edited, the claim is exactly what cannot be trusted.
        if (check.kind === 'malformed') {
          return fail(expected, lineNo, `record ${expected} is unreadable: line ${lineNo} ${check.problem}${explainMalformed(check.problem)}`);
        }
        if (check.kind === 'hash') {
          return fail(expected, lineNo, `record ${expected} was changed: its content does not match its hash`);
        }
        return fail(
          expected,
          lineNo,
          `record ${expected} was changed: line ${lineNo} is not byte-for-byte as written (re-formatted, or duplicate keys that other parsers may read differently)`,
        );
      }

      const rec = check.record;
      if (rec.seq === expected) {
        if (rec.prev !== lastHash) {
          const reason =
            expected === 1
              ? `record 1 does not start a chain (its prev is not the genesis hash): records before it were removed, or it was replaced`
              : `record ${expected} does not chain to record ${expected - 1} (prev hash mismatch): a record was inserted or replaced`;
          return fail(expected, lineNo, reason);
        }
        count = expected;
        lastHash = rec.hash;
        continue;
      }

      if (rec.seq < expected) {
        // Records 1..count sit on lines 1..count, so the earlier copy is on line rec.seq.
        return fail(rec.seq, lineNo, `record ${rec.seq} appears twice (lines ${rec.seq} and ${lineNo}): a record was inserted, replayed or moved back`);
      }

      // rec.seq > expected: records were removed, reordered, or something was
      // inserted with a made-up seq. Which one is told apart by whether the
      // expected record turns up later, so read on (only on this failure path).
      const found = await findSeq(it, expected, lineNo);
      if (found !== null) {
        if (rec.seq === expected + 1 && found === lineNo + 1) {
          return fail(expected, lineNo, `records ${expected} and ${rec.seq} were swapped: record ${rec.seq} is at line ${lineNo}, before record ${expected} at line ${found}`);
        }
        return fail(
          expected,
          lineNo,
          `record ${expected} is out of place: line ${lineNo} holds record ${rec.seq} instead, and record ${expected} appears later at line ${found}; records were reordered or a record was inserted`,
        );
      }
      if (expected > 1 && rec.prev === lastHash) {
        return fail(
          expected,
          lineNo,
          `record ${expected} was replaced: line ${lineNo} claims to be record ${rec.seq} yet chains to record ${expected - 1}, so it was forged and inserted (or records were removed and it was re-hashed)`,
        );
      }
      const span = rec.seq === expected + 1 ? `record ${expected} is missing` : `records ${expected} to ${rec.seq - 1} are missing`;
      const after = expected === 1 ? `the log starts at record ${rec.seq}` : `record ${rec.seq} follows record ${expected - 1}`;
      return fail(expected, lineNo, `${span}: ${after}`);
    }
  } catch (err) {
    return fail(count + 1, lineNo + 1, `cannot read audit log at ${location} after line ${lineNo}: ${(err as Error).message}`);
  } finally {
    await it.return?.();
  }
  return { ok: true, count, lastHash };
}

function explainMalformed(problem: string): string {
  return problem === 'is not valid JSON' ? ' — the file was truncated mid-record, a write was cut short, or the line was edited' : '';
}

/** Line number of the first later line claiming `seq`, or null. */
async function findSeq(it: AsyncIterator<string>, seq: number, fromLine: number): Promise<number | null> {
  let lineNo = fromLine;
  for (;;) {
    const next = await it.next();
    if (next.done) return null;
    lineNo++;
    let parsed: unknown;
    try {
      parsed = JSON.parse(next.value);
    } catch {
      continue;
    }
    if (parsed !== null && typeof parsed === 'object' && (parsed as { seq?: unknown }).seq === seq) return lineNo;
  }
}

async function statOrNull(path: string) {
  try {
    return await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing' as const;
    return err as Error;
  }
}
