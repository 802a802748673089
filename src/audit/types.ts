/**
 * Types for the tamper-evident audit log.
 *
 * The on-disk format is deliberately flat (one JSON object per line, event
 * fields at the top level) so a SIEM can ingest it without a custom parser;
 * the chain fields (`v`, `seq`, `ts`, `prev`, `hash`) ride alongside.
 */

/** One gateway event, as handed to {@link AuditLog.append}. */
export interface AuditEvent {
  /** e.g. 'session.start' | 'session.end' | 'list' | 'call' | 'result' | 'error' | 'upstream' | 'alert' */
  type: string;
  session?: string;
  identity?: string;
  server?: string;
  tool?: string;
  method?: string;
  decision?: 'allow' | 'deny' | 'hold';
  /** Machine-readable reason code for the decision (stable, greppable). */
  code?: string;
  /** Human-readable explanation. */
  reason?: string;
  /** Which guard produced the decision. */
  guard?: string;
  /** Call arguments. Stored, but secret-named fields are redacted before hashing. */
  args?: unknown;
  /**
   * A fingerprint of the result rather than the result itself: results can be
   * large and sensitive, and a digest is enough to prove later what was returned.
   */
  result?: { bytes: number; sha256: string; isError: boolean };
  /** Free-form extra context. Redacted like `args`. */
  detail?: Record<string, unknown>;
}

/** A record as written to the log: the event plus its position in the hash chain. */
export interface AuditRecord extends AuditEvent {
  /** Format version. */
  v: 1;
  /** 1-based, contiguous. */
  seq: number;
  /** ISO-8601 with milliseconds, UTC. */
  ts: string;
  /** `hash` of the previous record; 64 zeros for the first record. */
  prev: string;
  /** hex sha256 of the RFC 8785 canonical JSON of this record without `hash`. */
  hash: string;
}

/**
 * Where audit lines live. The file store is the default; the interface exists so
 * a database (e.g. PostgreSQL) can replace it without touching the chain logic.
 * A store deals only in opaque lines; hashing and chaining stay in AuditLog.
 */
export interface AuditStore {
  /** The last line stored (without its newline), or null if the store is empty. */
  tail(): Promise<string | null>;
  /**
   * Append lines in order. Resolves once they are written; when `durable` is
   * true, only once they would survive a power loss.
   */
  appendBatch(lines: string[], durable: boolean): Promise<void>;
  /** Every stored line, oldest first, without newlines. */
  lines(): AsyncIterable<string>;
  close(): Promise<void>;
  /** Human-readable location, used in error messages (a path, a table name...). */
  readonly location: string;
}

/**
 * Outcome of verifyAuditLog. On failure, `seq` is the first chain position
 * that is wrong (the record that should be there), `line` the 1-based line
 * where that was detected, and `reason` a sentence for a human. Both numbers
 * are 0 when the log could not be found or opened at all.
 */
export type AuditVerifyResult =
  | { ok: true; count: number; lastHash: string }
  | { ok: false; seq: number; line: number; reason: string };

export type AuditDurability = 'fsync' | 'write';

export interface AuditLogOptions {
  /** Directory holding `audit.jsonl`. Created with mode 0700 if missing. */
  dir: string;
  /**
   * 'fsync' (default): append resolves once the record is on stable storage.
   * 'write': once the OS has it (survives a process crash, not a power loss).
   */
  durability?: AuditDurability;
  /** Replace the file store (tests, or a database-backed store). */
  store?: AuditStore;
}
