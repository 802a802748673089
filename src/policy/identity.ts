import { compileSchema, type ValidateFunction } from '../schema/ajv.js';
import { parseNamePattern, parseUriPattern, firstMatch, type NamePattern, type UriPattern } from './patterns.js';
import { compileRateLimits, type CompiledRateLimits, type RateLimitsOptions } from './rate-limits.js';

export interface IdentityOptions {
  name: string;
  allowedTools?: readonly string[];
  deniedTools?: readonly string[];
  allowedResources?: readonly string[];
  deniedResources?: readonly string[];
  allowedPrompts?: readonly string[];
  deniedPrompts?: readonly string[];
  sessionTtlSeconds?: number;
  requiresHumanApprovalOn?: readonly string[];
  /** Tool pattern → JSON Schema fragment the arguments must also satisfy. */
  argumentConstraints?: Readonly<Record<string, Record<string, unknown>>>;
  /** Token buckets per identity, per session and per tool pattern (the rate-limit guard enforces them). */
  rateLimits?: RateLimitsOptions;
}

export type Access = { allowed: true; rule: string } | { allowed: false; reason: string };

export interface ArgumentConstraint {
  readonly pattern: NamePattern;
  readonly validate: ValidateFunction;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const DEFAULT_TTL_SECONDS = 900;

/**
 * A non-human principal: one agent workflow and what it may do. Immutable once
 * built, so nothing a session does can widen it (no runtime escalation); the
 * gateway binds a session to one Identity at start and never swaps it.
 */
export class Identity {
  readonly name: string;
  readonly sessionTtlSeconds: number;
  readonly allowedTools: readonly NamePattern[];
  readonly deniedTools: readonly NamePattern[];
  readonly allowedResources: readonly UriPattern[];
  readonly deniedResources: readonly UriPattern[];
  readonly allowedPrompts: readonly NamePattern[];
  readonly deniedPrompts: readonly NamePattern[];
  readonly approvalRequiredOn: readonly NamePattern[];
  readonly argumentConstraints: readonly ArgumentConstraint[];
  readonly rateLimits: CompiledRateLimits | undefined;
  // Tool lists are bounded by what upstreams offer, but a hostile upstream could offer
  // an unbounded stream of names; the cache is dropped when it grows past this.
  readonly #toolCache = new Map<string, Access>();

  constructor(options: IdentityOptions) {
    if (!NAME.test(options.name)) {
      throw new TypeError(`identity name "${options.name}" must use letters, digits, "_" and "-", starting with a letter or digit`);
    }
    const ttl = options.sessionTtlSeconds ?? DEFAULT_TTL_SECONDS;
    if (!Number.isInteger(ttl) || ttl <= 0 || ttl > 86_400) {
      throw new TypeError(`identity "${options.name}": sessionTtlSeconds must be an integer in 1..86400, got ${ttl}`);
    }
    this.name = options.name;
    this.sessionTtlSeconds = ttl;
    this.allowedTools = Object.freeze((options.allowedTools ?? []).map(parseNamePattern));
    this.deniedTools = Object.freeze((options.deniedTools ?? []).map(parseNamePattern));
    this.allowedResources = Object.freeze((options.allowedResources ?? []).map(parseUriPattern));
    this.deniedResources = Object.freeze((options.deniedResources ?? []).map(parseUriPattern));
    this.allowedPrompts = Object.freeze((options.allowedPrompts ?? []).map(parseNamePattern));
    this.deniedPrompts = Object.freeze((options.deniedPrompts ?? []).map(parseNamePattern));
    this.approvalRequiredOn = Object.freeze((options.requiresHumanApprovalOn ?? []).map(parseNamePattern));
    this.argumentConstraints = Object.freeze(Object.entries(options.argumentConstraints ?? {}).map(([pattern, schema]) => {
      try {
        return { pattern: parseNamePattern(pattern), validate: compileSchema({ type: 'object', ...schema }) };
      } catch (error) {
        throw new TypeError(`identity "${options.name}": argument constraint for "${pattern}" is not a valid JSON Schema: ${(error as Error).message}`);
      }
    }));
    this.rateLimits = compileRateLimits(options.name, options.rateLimits);
    Object.freeze(this);
  }

  /** Deny beats allow; anything not allowed is denied. */
  toolAccess(server: string, tool: string): Access {
    const key = `${server}\u0000${tool}`;
    const cached = this.#toolCache.get(key);
    if (cached) return cached;
    const access = decide(this.name, 'tool', `${server}.${tool}`, (p: NamePattern) => p.matches(server, tool), this.allowedTools, this.deniedTools, 'allowed_tools', 'denied_tools');
    if (this.#toolCache.size > 10_000) this.#toolCache.clear();
    this.#toolCache.set(key, access);
    return access;
  }

  promptAccess(server: string, prompt: string): Access {
    return decide(this.name, 'prompt', `${server}.${prompt}`, (p: NamePattern) => p.matches(server, prompt), this.allowedPrompts, this.deniedPrompts, 'allowed_prompts', 'denied_prompts');
  }

  resourceAccess(uri: string): Access {
    return decide(this.name, 'resource', uri, (p: UriPattern) => p.matches(uri), this.allowedResources, this.deniedResources, 'allowed_resources', 'denied_resources');
  }

  /** The requires_human_approval_on pattern that covers this tool, if any. */
  approvalRule(server: string, tool: string): string | undefined {
    return firstMatch(this.approvalRequiredOn, (p) => p.matches(server, tool))?.source;
  }

  constraintsFor(server: string, tool: string): ArgumentConstraint[] {
    return this.argumentConstraints.filter((c) => c.pattern.matches(server, tool));
  }
}

function decide<P extends { source: string }>(
  identity: string,
  kind: string,
  subject: string,
  test: (p: P) => boolean,
  allowed: readonly P[],
  denied: readonly P[],
  allowField: string,
  denyField: string,
): Access {
  const deny = firstMatch(denied, test);
  if (deny) return { allowed: false, reason: `${kind} ${subject} is denied for identity ${identity} by ${denyField} pattern "${deny.source}"` };
  const allow = firstMatch(allowed, test);
  if (allow) return { allowed: true, rule: allow.source };
  return { allowed: false, reason: `${kind} ${subject} is not in ${allowField} of identity ${identity} (deny by default)` };
}
