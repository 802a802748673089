import { parseNamePattern, type NamePattern } from './patterns.js';

export type RatePeriod = 'second' | 'minute' | 'hour' | 'day';

export const PERIOD_MS: Readonly<Record<RatePeriod, number>> = { second: 1000, minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/** `rate` calls per `per`, with bursts of up to `burst` (default: rate) calls at once. */
export interface RateLimitOptions {
  rate: number;
  per: RatePeriod;
  burst?: number;
}

export interface RateLimitsOptions {
  /** Across every session of the identity. */
  perIdentity?: RateLimitOptions;
  /** Within one session. */
  perSession?: RateLimitOptions;
  /** Tool pattern → limit across every session of the identity; one bucket per pattern, shared by the tools it matches. */
  perTool?: Readonly<Record<string, RateLimitOptions>>;
}

/** A token bucket: `capacity` tokens, refilled at rate/per. */
export interface RateLimitRule {
  readonly rate: number;
  readonly per: RatePeriod;
  readonly capacity: number;
  readonly periodMs: number;
  /** How the limit reads in messages: "100/minute (burst 20)". */
  readonly text: string;
}

export interface CompiledRateLimits {
  readonly perIdentity?: RateLimitRule;
  readonly perSession?: RateLimitRule;
  readonly perTool: readonly { readonly pattern: NamePattern; readonly limit: RateLimitRule }[];
}

export function compileRateLimits(identity: string, options: RateLimitsOptions | undefined): CompiledRateLimits | undefined {
  if (!options) return undefined;
  const rule = (where: string, o: RateLimitOptions): RateLimitRule => {
    if (!Number.isFinite(o.rate) || o.rate <= 0) throw new TypeError(`identity "${identity}": ${where}.rate must be a positive number`);
    if (!(o.per in PERIOD_MS)) throw new TypeError(`identity "${identity}": ${where}.per must be second, minute, hour or day`);
    const capacity = o.burst ?? o.rate;
    if (!Number.isInteger(capacity) || capacity < 1) throw new TypeError(`identity "${identity}": ${where}.burst must be a positive integer`);
    return Object.freeze({ rate: o.rate, per: o.per, capacity, periodMs: PERIOD_MS[o.per], text: `${o.rate}/${o.per}${o.burst !== undefined ? ` (burst ${o.burst})` : ''}` });
  };
  const compiled: CompiledRateLimits = {
    ...(options.perIdentity ? { perIdentity: rule('rate_limits.per_identity', options.perIdentity) } : {}),
    ...(options.perSession ? { perSession: rule('rate_limits.per_session', options.perSession) } : {}),
    perTool: Object.freeze(Object.entries(options.perTool ?? {}).map(([p, o]) => Object.freeze({ pattern: parseNamePattern(p), limit: rule(`rate_limits.per_tool["${p}"]`, o) }))),
  };
  if (!compiled.perIdentity && !compiled.perSession && compiled.perTool.length === 0) return undefined;
  return Object.freeze(compiled);
}
