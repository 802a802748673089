import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Identity } from '../policy/identity.js';
import { isGlob } from '../policy/patterns.js';
import { rateTool } from './rate.js';
import type { Gate, GateOutcome, GatesConfig, RiskConfigView, ServerPolicyConfig, Tier, ToolRating } from './types.js';

/** A tool as the model needs it: the catalog's CatalogTool satisfies this. */
export interface RateableTool {
  readonly server: string;
  readonly name: string;
  readonly definition: Tool;
}

/**
 * Default gates. Critical tools always need a human. High tools need one unless the
 * identity names the tool explicitly (no glob) — in production; in development they
 * run, so a `*` identity against an unannotated test server (every tool rated high by
 * the spec's worst-case defaults) keeps working. `portcullis risk` shows both.
 */
export function defaultGates(mode: 'development' | 'production' = 'development'): Record<Tier, Gate> {
  return { low: 'allow', medium: 'allow', high: mode === 'production' ? 'approval-unless-explicit' : 'allow', critical: 'approval' };
}

/** The risk-rating side of the approval card (matches approvals' RiskAssessment). */
export interface RiskCard {
  permission: string;
  blastRadius: string;
  reversibility: string;
  tier: string;
  rationale?: string;
}

/**
 * Rates tools against the config and decides what each tier needs. Ratings are
 * cached per tool definition object (the catalog replaces the object when a
 * definition changes, so a changed tool is re-rated).
 */
export class RiskModel {
  readonly gates: Readonly<Record<Tier, Gate>>;
  readonly #servers: Readonly<Record<string, ServerPolicyConfig | object>>;
  readonly #cache = new WeakMap<object, ToolRating>();

  constructor(config?: RiskConfigView) {
    this.#servers = config?.servers ?? {};
    this.gates = Object.freeze({ ...defaultGates(config?.mode), ...definedOnly(config?.risk?.gates) });
  }

  policyFor(server: string): ServerPolicyConfig {
    return (this.#servers[server] ?? {}) as ServerPolicyConfig;
  }

  rate(tool: RateableTool): ToolRating {
    const cached = this.#cache.get(tool);
    if (cached) return cached;
    const rating = rateTool(tool.server, tool.definition, this.policyFor(tool.server));
    this.#cache.set(tool, rating);
    return rating;
  }

  /** How the identity's call of this tool stands; call only for tools toolAccess allows. */
  gate(identity: Identity, rating: ToolRating): GateOutcome {
    const tier = rating.tier.value;
    const tierGate = this.gates[tier];
    const explicit = explicitlyAllowed(identity, rating.server, rating.tool);
    const rule = identity.approvalRule(rating.server, rating.tool);
    const tierEffect =
      tierGate === 'deny' || (tierGate === 'deny-unless-explicit' && !explicit)
        ? 'deny'
        : tierGate === 'approval' || (tierGate === 'approval-unless-explicit' && !explicit)
          ? 'approval'
          : 'none';
    if (tierEffect === 'deny') return { gate: 'denied', triggers: ['tier'], tier, tierGate, explicit, ...(rule ? { rule } : {}) };
    const triggers: ('rule' | 'tier')[] = [];
    if (rule) triggers.push('rule');
    if (tierEffect === 'approval') triggers.push('tier');
    return { gate: triggers.length > 0 ? 'approval' : 'allowed', triggers, tier, tierGate, explicit, ...(rule ? { rule } : {}) };
  }

  /** The rating as an approver reads it. */
  card(rating: ToolRating): RiskCard {
    return {
      permission: rating.permission.value,
      blastRadius: rating.blastRadius.value,
      reversibility: rating.reversibility.value,
      tier: rating.tier.value,
      rationale: `permission ${rating.permission.source}: ${rating.permission.why}; blast radius ${rating.blastRadius.source}: ${rating.blastRadius.why}; reversibility ${rating.reversibility.source}: ${rating.reversibility.why}`,
    };
  }
}

/** allowed_tools names the tool without a glob ("crm.refund_request" or "refund_request"). */
export function explicitlyAllowed(identity: Identity, server: string, tool: string): boolean {
  return identity.allowedTools.some((p) => !isGlob(p.source) && p.matches(server, tool));
}

/** Describes a gate outcome in words, e.g. "approval (rule, tier)". */
export function describeGate(g: GateOutcome): string {
  return g.triggers.length > 0 ? `${g.gate} (${g.triggers.join(', ')})` : g.gate;
}

function definedOnly(gates: GatesConfig | undefined): GatesConfig {
  const out: GatesConfig = {};
  for (const [k, v] of Object.entries(gates ?? {})) if (v !== undefined) out[k as Tier] = v;
  return out;
}

/**
 * The approval broker's assessRisk seam: the rating an approver sees for a held
 * tool call that carries none (e.g. held by requires_human_approval_on or a flow hold).
 */
export function riskAssessor(config?: RiskConfigView): (held: { invocation: { kind: string } & Partial<{ tool: RateableTool }> }) => RiskCard | undefined {
  const model = new RiskModel(config);
  return ({ invocation }) => (invocation.kind === 'tool' && invocation.tool ? model.card(model.rate(invocation.tool)) : undefined);
}
