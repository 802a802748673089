/**
 * Building, hashing and checking individual audit records. Shared by the
 * writer (AuditLog), the reader that resumes a chain on open, and the verifier,
 * so all three agree byte-for-byte on what a valid record is.
 */
import * as crypto from 'node:crypto';
import canonicalizeModule from 'canonicalize';
import { redactForRecord } from './redact.js';
import type { AuditEvent, AuditRecord } from './types.js';

// canonicalize is CommonJS whose typings say `export default`; under NodeNext
// TypeScript therefore types the default import as the module object, while at
// runtime it is the function itself. The cast states the runtime truth.
const canonicalize = canonicalizeModule as unknown as (input: unknown) => string | undefined;

// One-shot crypto.hash (Node >= 20.12) is about twice as fast as
// createHash().update().digest() for record-sized input; hashing is on the
// append hot path, so use it when present.
const sha256hex: (data: string) => string =
  typeof (crypto as { hash?: unknown }).hash === 'function'
    ? (data) => crypto.hash('sha256', data, 'hex')
    : (data) => crypto.createHash('sha256').update(data, 'utf8').digest('hex');

export const FORMAT_VERSION = 1 as const;
/** `prev` of the first record: there is no previous hash. */
export const GENESIS_HASH = '0'.repeat(64);

const HEX64 = /^[0-9a-f]{64}$/;
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const STRING_FIELDS = ['type', 'session', 'identity', 'server', 'tool', 'method', 'decision', 'code', 'reason', 'guard'] as const;
const DECISIONS = new Set(['allow', 'deny', 'hold']);

/** Every top-level key a v1 record written by AuditLog can have, except `hash`. */
const RECORD_FIELDS = ['v', 'seq', 'ts', 'prev', ...STRING_FIELDS, 'args', 'result', 'detail'] as const;
const CANONICAL_ORDER = [...RECORD_FIELDS].sort();

/**
 * The hash covers the RFC 8785 canonical form, not the bytes on disk, so it
 * depends only on content: a SIEM or a later Merkle/checkpoint layer can
 * recompute it from the parsed object regardless of key order or whitespace.
 */
export function computeRecordHash(withoutHash: Record<string, unknown>): string {
  const canonical = canonicalize(withoutHash);
  if (canonical === undefined) throw new TypeError('audit record is not serialisable');
  return sha256hex(canonical);
}

/**
 * Turn an event into a complete record at (seq, prev). Only the known event
 * fields are copied, so a caller (or an attacker-influenced object) cannot
 * smuggle in its own `seq`, `prev` or `hash`. Throws TypeError on an invalid event.
 *
 * The hash is exactly what `computeRecordHash` gives for the record, but
 * usually computed faster (append throughput is bounded by this function's
 * CPU cost): see the canonicalSafe path below. The verifier always uses the
 * generic path, and every test that verifies a written log checks the two agree.
 */
export function buildRecord(event: AuditEvent, seq: number, prev: string, ts: string): { record: AuditRecord; line: string } {
  if (event === null || typeof event !== 'object') throw new TypeError('audit event must be an object');
  if (typeof event.type !== 'string' || event.type === '') throw new TypeError('audit event needs a non-empty string "type"');

  // Insertion order is the order on disk: chain position first, then the
  // event, then the hash, which reads naturally in a SIEM or a terminal.
  const rec: Record<string, unknown> = { v: FORMAT_VERSION, seq, ts, prev };
  for (const f of STRING_FIELDS) {
    const val = event[f];
    if (val === undefined) continue;
    if (typeof val !== 'string') throw new TypeError(`audit event field "${f}" must be a string`);
    rec[f] = val;
  }
  if (event.decision !== undefined && !DECISIONS.has(event.decision)) {
    throw new TypeError(`audit event "decision" must be allow, deny or hold, not ${JSON.stringify(event.decision)}`);
  }
  // Stays true while every value's JSON.stringify is already canonical.
  let canonicalSafe = true;
  if (event.args !== undefined) {
    const r = redactForRecord(event.args);
    rec.args = r.value;
    canonicalSafe &&= r.canonical;
  }
  if (event.result !== undefined) {
    const r = event.result;
    if (r === null || typeof r !== 'object' || !Number.isFinite(r.bytes) || typeof r.sha256 !== 'string' || typeof r.isError !== 'boolean') {
      throw new TypeError('audit event "result" must be { bytes: number, sha256: string, isError: boolean }');
    }
    rec.result = { bytes: r.bytes, isError: r.isError, sha256: r.sha256 }; // keys in canonical order
  }
  if (event.detail !== undefined) {
    const r = redactForRecord(event.detail);
    rec.detail = r.value;
    canonicalSafe &&= r.canonical;
  }

  // Each member is serialised once and its text used twice: in canonical key
  // order for the hash and in insertion order for the line. Member names are
  // plain ASCII, so '"' + name + '"' is their JSON.
  const members: Record<string, string> = {};
  for (const k of Object.keys(rec)) members[k] = JSON.stringify(rec[k]);
  let canonical: string;
  if (canonicalSafe) {
    // Nested objects are already key-sorted by redactForRecord, so this is the
    // RFC 8785 text (strings and numbers serialise identically).
    canonical = joinMembers(CANONICAL_ORDER, members);
  } else {
    canonical = canonicalize(rec)!;
  }
  const hash = sha256hex(canonical);
  rec.hash = hash;
  members.hash = `"${hash}"`;

  // Byte for byte what JSON.stringify(rec) gives, which checkLine relies on.
  // JSON escapes every control character, including newlines, so a record is
  // always exactly one line whatever strings the event contains.
  const line = joinMembers(Object.keys(rec), members);
  return { record: rec as unknown as AuditRecord, line };
}

function joinMembers(order: readonly string[], members: Record<string, string>): string {
  let out = '';
  for (const k of order) {
    const text = members[k];
    if (text !== undefined) out += `${out === '' ? '{' : ','}"${k}":${text}`;
  }
  return `${out}}`;
}

/** Outcome of checking one line in isolation (no chain context). */
export type LineCheck =
  | { ok: true; record: AuditRecord }
  | { ok: false; kind: 'malformed'; problem: string; claimedSeq?: number }
  | { ok: false; kind: 'hash'; record: AuditRecord }
  | { ok: false; kind: 'form'; record: AuditRecord };

/**
 * Parse a line and check it is a well-formed record whose hash matches its
 * content. Chain checks (seq/prev against the neighbours) are the caller's.
 */
export function checkLine(line: string): LineCheck {
  if (line.trim() === '') return { ok: false, kind: 'malformed', problem: 'is empty' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return { ok: false, kind: 'malformed', problem: 'is not valid JSON' };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { ok: false, kind: 'malformed', problem: 'is not a JSON object' };
  }
  const obj = parsed as Record<string, unknown>;
  const claimedSeq = Number.isSafeInteger(obj.seq) && (obj.seq as number) > 0 ? (obj.seq as number) : undefined;
  const bad = (problem: string): LineCheck => ({ ok: false, kind: 'malformed', problem, claimedSeq });
  if (!('v' in obj)) return bad('is missing required field "v"');
  if (obj.v !== FORMAT_VERSION) return bad(`has format version ${JSON.stringify(obj.v)}, expected ${FORMAT_VERSION}`);
  for (const f of ['seq', 'ts', 'prev', 'type', 'hash']) {
    if (!(f in obj)) return bad(`is missing required field "${f}"`);
  }
  if (claimedSeq === undefined) return bad(`has an invalid "seq" (${JSON.stringify(obj.seq)}), expected a positive integer`);
  if (typeof obj.ts !== 'string' || !ISO_MS.test(obj.ts)) return bad('has an invalid "ts", expected an ISO-8601 UTC timestamp');
  if (typeof obj.prev !== 'string' || !HEX64.test(obj.prev)) return bad('has an invalid "prev", expected 64 hex digits');
  if (typeof obj.hash !== 'string' || !HEX64.test(obj.hash)) return bad('has an invalid "hash", expected 64 hex digits');
  if (typeof obj.type !== 'string' || obj.type === '') return bad('has an invalid "type", expected a non-empty string');

  const { hash, ...rest } = obj;
  let actual: string;
  try {
    actual = computeRecordHash(rest);
  } catch {
    return bad('cannot be canonicalised');
  }
  const record = obj as unknown as AuditRecord;
  if (actual !== hash) return { ok: false, kind: 'hash', record };
  // The hash matches the *parsed* content, but JSON.parse keeps the last of
  // duplicate keys while other parsers keep the first: a line with an extra
  // `"decision":"allow"` placed before the real one would verify here yet read
  // as "allow" in a SIEM. Lines are written with JSON.stringify, which a parse
  // round trip reproduces exactly, so any other byte form means an edit.
  if (JSON.stringify(obj) !== line) return { ok: false, kind: 'form', record };
  return { ok: true, record };
}
