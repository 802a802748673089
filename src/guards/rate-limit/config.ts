/** The identity's `rate_limits:` section: zod schema, mapping to Identity options, meaning checks. */
import { z } from 'zod';
import type { RateLimitOptions, RateLimitsOptions } from '../../policy/rate-limits.js';

const limit = z
  .strictObject({
    rate: z.number().positive().max(1_000_000).describe('Calls allowed per period (tokens refilled per period).'),
    per: z.enum(['second', 'minute', 'hour', 'day']),
    burst: z.number().int().positive().max(1_000_000).optional().describe('Bucket size: calls allowed at once. Default: rate.'),
  })
  .describe('A token bucket: rate calls per period, bursts of up to burst.');

export const rateLimitsSchema = z
  .strictObject({
    per_identity: limit.optional().describe('Across every session of the identity.'),
    per_session: limit.optional().describe('Within one session.'),
    per_tool: z.record(z.string().min(1), limit).default({}).describe('Tool pattern → limit across every session; one bucket per pattern, shared by the tools it matches.'),
  })
  .optional()
  .describe('Token buckets; excess calls are refused with RATE_LIMITED and retry_after_seconds.');

export type RateLimitsConfig = z.output<typeof rateLimitsSchema>;

export const RATE_LIMIT_CONFIG_KEYS = ['rate_limits', 'per_identity', 'per_session', 'per_tool', 'rate', 'per', 'burst'];

export function rateLimitsOptions(config: RateLimitsConfig): RateLimitsOptions | undefined {
  if (!config) return undefined;
  const one = (l: { rate: number; per: RateLimitOptions['per']; burst?: number }): RateLimitOptions => ({ rate: l.rate, per: l.per, ...(l.burst !== undefined ? { burst: l.burst } : {}) });
  return {
    ...(config.per_identity ? { perIdentity: one(config.per_identity) } : {}),
    ...(config.per_session ? { perSession: one(config.per_session) } : {}),
    perTool: Object.fromEntries(Object.entries(config.per_tool).map(([k, v]) => [k, one(v)])),
  };
}
