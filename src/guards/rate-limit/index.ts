import { allow, deny, type Decision, type Guard, type Invocation, type RequestContext } from '../../pipeline/types.js';
import type { RateLimitRule } from '../../policy/rate-limits.js';
import { MemoryRateLimitStore, type BucketSpec, type RateLimitStore } from './store.js';

export { MemoryRateLimitStore, type RateLimitStore, type BucketSpec, type TakeResult } from './store.js';

export interface RateLimitGuardOptions {
  /** Where buckets live; one in-memory store per guard by default. Share a store to share limits between gateways. */
  store?: RateLimitStore;
}

/**
 * Token buckets from the identity's rate_limits: per identity (all its sessions),
 * per session, and per tool pattern (all sessions; one bucket per pattern). A call
 * takes a token from every bucket that applies, or from none: a call refused by
 * one bucket does not drain the others. Refusals carry RATE_LIMITED with the
 * seconds until a token is back; the first refusal of a bucket within one of its
 * periods also writes an `alert` audit record (RATE_LIMIT_BURST), so a runaway
 * agent yields one alert per period, not one per call.
 */
export function rateLimit(options: RateLimitGuardOptions = {}): Guard {
  const store = options.store ?? new MemoryRateLimitStore();
  return {
    name: 'rate-limit',
    async onInvoke(ctx: RequestContext, inv: Invocation): Promise<Decision> {
      const identity = ctx.session.identity;
      const limits = identity.rateLimits;
      if (!limits) return allow();
      const buckets: { spec: BucketSpec; label: string; limit: RateLimitRule }[] = [];
      const add = (key: string, label: string, limit: RateLimitRule) =>
        buckets.push({ spec: { key, capacity: limit.capacity, refillPerMs: limit.rate / limit.periodMs, windowMs: limit.periodMs }, label, limit });
      if (limits.perIdentity) add(`identity:${identity.name}`, `rate_limits.per_identity of identity ${identity.name}`, limits.perIdentity);
      if (limits.perSession) add(`session:${ctx.session.id}`, `rate_limits.per_session of identity ${identity.name}`, limits.perSession);
      if (inv.kind === 'tool') {
        for (const t of limits.perTool) {
          if (t.pattern.matches(inv.server, inv.name)) add(`tool:${identity.name}:${t.pattern.source}`, `rate_limits.per_tool "${t.pattern.source}" of identity ${identity.name}`, t.limit);
        }
      }
      if (buckets.length === 0) return allow();
      const taken = await store.take(buckets.map((b) => b.spec), ctx.now);
      if (taken.ok) return allow('within rate limits');
      const empty = buckets.filter((b) => taken.empty.includes(b.spec.key));
      // (less a hair, so float noise does not turn 3600 s into 3601 s)
      const retryAfterSeconds = Math.max(1, Math.ceil(taken.retryAfterMs / 1000 - 1e-6));
      const subject = inv.kind === 'resource' ? inv.uri : `${inv.server}.${inv.name}`;
      for (const b of empty.filter((e) => taken.alerts.includes(e.spec.key))) {
        ctx.record?.({
          type: 'alert',
          method: ctx.method,
          code: 'RATE_LIMIT_BURST',
          reason: `burst of calls: ${b.label} (${b.limit.text}) is exhausted; further refusals in the next ${b.limit.per} are not alerted again`,
          detail: { bucket: b.spec.key, limit: b.limit.text, subject, ...(ctx.callId ? { call: ctx.callId } : {}) },
        });
      }
      return {
        ...deny('RATE_LIMITED', `${empty.map((b) => `${b.label} (${b.limit.text})`).join(' and ')} exhausted; retry after ${retryAfterSeconds} s`),
        retryAfterSeconds,
        detail: { buckets: empty.map((b) => b.spec.key), retry_after_seconds: retryAfterSeconds },
      };
    },
  };
}
