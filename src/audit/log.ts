/**
 * AuditLog: the writer side of the tamper-evident audit log.
 *
 * Every record carries the hash of the one before it, so removing, changing,
 * inserting or reordering records breaks the chain and `verifyAuditLog` finds
 * the first break.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FileAuditStore } from './file-store.js';
import { buildRecord, checkLine, GENESIS_HASH } from './record.js';
import type { AuditEvent, AuditLogOptions, AuditRecord, AuditStore } from './types.js';

export const AUDIT_FILE_NAME = 'audit.jsonl';

/**
 * Upper bound on one write, in UTF-16 units of line text (≈ bytes for ASCII).
 * A large backlog is flushed as several writes so the joined batch buffer
 * stays small next to the records already queued in memory.
 */
const MAX_BATCH_CHARS = 8 * 1024 * 1024;

let lastMs = NaN;
let lastIso = '';
/** ISO-8601 now; formatted once per millisecond, since at full speed dozens of records share one. */
function isoNow(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

interface Pending {
  line: string;
  record: AuditRecord;
  resolve: (record: AuditRecord) => void;
  reject: (err: Error) => void;
}

export class AuditLog {
  /** Where the records go: the file path, or the custom store's location. */
  readonly path: string;
  private readonly dir: string;
  private readonly store: AuditStore;
  private readonly durable: boolean;
  private seq: number;
  private lastHash: string;
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;
  private failure: Error | null = null;
  private closing: Promise<void> | null = null;

  private constructor(dir: string, store: AuditStore, durable: boolean, seq: number, lastHash: string) {
    this.dir = dir;
    this.store = store;
    this.path = store.location;
    this.durable = durable;
    this.seq = seq;
    this.lastHash = lastHash;
  }

  /**
   * Open the log in `opts.dir` (or `opts.store`), continuing its chain.
   *
   * Only the last record is checked, which keeps start-up O(1) in the log's
   * size; that is enough to refuse extending a chain whose end is damaged
   * (typically a write cut short by a crash), since new records would
   * otherwise chain onto garbage. Full checks are `verifyAuditLog`'s job.
   *
   * On success the log owns the store and closes it in {@link close}.
   */
  static async open(opts: AuditLogOptions): Promise<AuditLog> {
    const durability = opts.durability ?? 'fsync';
    if (durability !== 'fsync' && durability !== 'write') {
      throw new TypeError(`audit durability must be "fsync" or "write", not ${JSON.stringify(durability)}`);
    }
    let store = opts.store;
    const ownStore = store === undefined;
    if (store === undefined) {
      // 0700/0600: the log names identities, tools and arguments; other local
      // users have no business reading it, let alone appending to it.
      await mkdir(opts.dir, { recursive: true, mode: 0o700 });
      store = await FileAuditStore.open(join(opts.dir, AUDIT_FILE_NAME));
    }
    try {
      let seq = 0;
      let lastHash = GENESIS_HASH;
      const tail = await store.tail();
      if (tail !== null) {
        const check = checkLine(tail);
        if (!check.ok) {
          let what: string;
          if (check.kind === 'hash') what = `seq ${check.record.seq}: hash mismatch`;
          else if (check.kind === 'form') what = `seq ${check.record.seq}: line was re-formatted or has duplicate keys`;
          else {
            what = `${check.claimedSeq !== undefined ? `seq ${check.claimedSeq}: ` : ''}last line ${check.problem}`;
            if (check.problem === 'is not valid JSON') what += ', typically a write cut short by a crash or a full disk';
          }
          throw new Error(
            `audit log ${store.location} is damaged at its last record (${what}); ` +
              `run "portcullis audit verify --data ${opts.dir}" to inspect it, then move the file aside to start a new chain`,
          );
        }
        seq = check.record.seq;
        lastHash = check.record.hash;
      }
      return new AuditLog(opts.dir, store, durability === 'fsync', seq, lastHash);
    } catch (err) {
      if (ownStore) await store.close().catch(() => {});
      throw err;
    }
  }

  /**
   * Append an event. The record's seq, prev and hash are fixed synchronously,
   * in call order, so concurrent callers get a total order matching the file.
   * Resolves with the record once it is durable (per `durability`); rejects if
   * the event is invalid, the log is closed, or storage failed — callers
   * should treat a rejection as "do not proceed" (fail closed).
   */
  append(event: AuditEvent): Promise<AuditRecord> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new Error(`audit log ${this.path} is closed`));
    let built: ReturnType<typeof buildRecord>;
    try {
      built = buildRecord(event, this.seq + 1, this.lastHash, isoNow());
    } catch (err) {
      // Nothing was assigned yet, so a bad event leaves no hole in the chain.
      return Promise.reject(err);
    }
    this.seq = built.record.seq;
    this.lastHash = built.record.hash;
    return new Promise<AuditRecord>((resolve, reject) => {
      this.queue.push({ line: built.line, record: built.record, resolve, reject });
      if (!this.flushing) this.flushing = this.flushLoop();
    });
  }

  /** Wait for every pending append to settle, then close the store. Idempotent. */
  close(): Promise<void> {
    if (!this.closing) {
      this.closing = (async () => {
        while (this.flushing) await this.flushing;
        await this.store.close();
      })();
    }
    return this.closing;
  }

  /**
   * Group commit. An fdatasync costs about the same for one record as for a
   * thousand, so instead of one write+sync per record (a few hundred records/s
   * at best), everything appended while a sync is in flight is written and
   * synced together by the next round. Latency stays one or two syncs;
   * throughput scales with the number of concurrent callers.
   *
   * Never rejects: failures are delivered to the pending appends.
   */
  private async flushLoop(): Promise<void> {
    // Yield once so a synchronous burst of appends (e.g. Promise.all over a
    // loop) is committed as one batch rather than first-record-alone.
    await Promise.resolve();
    try {
      while (this.queue.length > 0) {
        const batch = this.takeBatch();
        try {
          await this.store.appendBatch(batch.map((p) => p.line), this.durable);
        } catch (err) {
          this.fail(err, batch);
          return;
        }
        for (const p of batch) p.resolve(p.record);
      }
    } finally {
      this.flushing = null;
    }
  }

  private takeBatch(): Pending[] {
    let chars = 0;
    let n = 0;
    while (n < this.queue.length && (n === 0 || chars + this.queue[n].line.length <= MAX_BATCH_CHARS)) {
      chars += this.queue[n].line.length + 1;
      n++;
    }
    if (n === this.queue.length) {
      const all = this.queue;
      this.queue = [];
      return all;
    }
    const batch = this.queue.slice(0, n);
    this.queue = this.queue.slice(n);
    return batch;
  }

  /**
   * After a failed write the file may end in a partial line and the in-memory
   * chain is ahead of the disk, so no later record could be trusted: the log
   * goes permanently into a failed state and every append rejects, which makes
   * the gateway refuse traffic rather than act unaudited.
   */
  private fail(err: unknown, batch: Pending[]): void {
    const cause = err instanceof Error ? err : new Error(String(err));
    this.failure = new Error(
      `audit log ${this.path} failed to write (${cause.message}); refusing further audit records — ` +
        `fix the storage, run "portcullis audit verify --data ${this.dir}", and restart`,
      { cause },
    );
    const rejected = batch.concat(this.queue);
    this.queue = [];
    for (const p of rejected) p.reject(this.failure);
  }
}
