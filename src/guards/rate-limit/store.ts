/**
 * Where token buckets live. The in-memory store serves one gateway; several
 * gateways share limits by putting a store with the same contract in front of a
 * shared database (e.g. Redis: the take below is one Lua script per call).
 */

export interface BucketSpec {
  /** Stable across gateways: "identity:NAME", "session:ID", "tool:IDENTITY:PATTERN". */
  readonly key: string;
  readonly capacity: number;
  /** Tokens added per millisecond. */
  readonly refillPerMs: number;
  /** One period of the limit: at most one burst alert per bucket per window. */
  readonly windowMs: number;
}

export interface TakeResult {
  /** One token was taken from every bucket. */
  readonly ok: boolean;
  /** When refused: milliseconds until every refusing bucket has a token again. */
  readonly retryAfterMs: number;
  /** When refused: the keys of the empty buckets. */
  readonly empty: readonly string[];
  /** Keys of empty buckets whose burst alert is due now (first refusal in the window). */
  readonly alerts: readonly string[];
}

export interface RateLimitStore {
  /** Atomically takes one token from every bucket, or none when any is empty. */
  take(buckets: readonly BucketSpec[], now: number): Promise<TakeResult>;
  close?(): Promise<void>;
}

interface Bucket {
  tokens: number;
  updated: number;
  lastAlert: number;
}

/**
 * Buckets in a Map kept in least-recently-used order. Memory is bounded by
 * maxBuckets (default 100 000, about 10 MB): past it the least recently used
 * buckets are dropped, which forgives their limit (a dropped bucket starts full
 * again) — the least recently used bucket is usually idle and full anyway.
 */
export class MemoryRateLimitStore implements RateLimitStore {
  readonly #buckets = new Map<string, Bucket>();
  readonly #max: number;

  constructor(options: { maxBuckets?: number } = {}) {
    this.#max = options.maxBuckets ?? 100_000;
  }

  get size(): number {
    return this.#buckets.size;
  }

  async take(specs: readonly BucketSpec[], now: number): Promise<TakeResult> {
    const states = specs.map((spec) => {
      let b = this.#buckets.get(spec.key);
      if (b) this.#buckets.delete(spec.key);
      else b = { tokens: spec.capacity, updated: now, lastAlert: -Infinity };
      b.tokens = Math.min(spec.capacity, b.tokens + Math.max(0, now - b.updated) * spec.refillPerMs);
      b.updated = now;
      this.#buckets.set(spec.key, b); // most recently used last
      return { spec, b };
    });
    const empty = states.filter((s) => s.b.tokens < 1);
    let result: TakeResult;
    if (empty.length === 0) {
      for (const s of states) s.b.tokens -= 1;
      result = { ok: true, retryAfterMs: 0, empty: [], alerts: [] };
    } else {
      const alerts: string[] = [];
      for (const s of empty) {
        if (now - s.b.lastAlert >= s.spec.windowMs) {
          s.b.lastAlert = now;
          alerts.push(s.spec.key);
        }
      }
      const retryAfterMs = Math.max(...empty.map((s) => (1 - s.b.tokens) / s.spec.refillPerMs));
      result = { ok: false, retryAfterMs, empty: empty.map((s) => s.spec.key), alerts };
    }
    this.#evict(specs);
    return result;
  }

  #evict(keep: readonly BucketSpec[]): void {
    if (this.#buckets.size <= this.#max) return;
    const protectedKeys = new Set(keep.map((k) => k.key));
    for (const [key] of this.#buckets) {
      if (this.#buckets.size <= this.#max) return;
      if (!protectedKeys.has(key)) this.#buckets.delete(key);
    }
  }
}
