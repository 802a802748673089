import { allow, deny, hold, type Decision, type Guard, type Invocation, type RequestContext } from '../../pipeline/types.js';
import type { RiskModel } from '../../risk/model.js';

export interface ApprovalGuardOptions {
  /** Rates tools so the tier gates (risk.gates) can hold or refuse by tier; without it only identity rules hold. */
  risk?: RiskModel;
}

/**
 * Calls covered by requires_human_approval_on, or whose risk tier's gate asks
 * for a human (risk.gates: critical → approval, …), are held, never executed
 * first; a tier gate of deny / deny-unless-explicit refuses instead. The guard
 * only decides that a human must look; who is asked and how the answer comes
 * back belongs to the approval broker the gateway is given. The hold's reason
 * names the trigger, its detail carries the rating.
 */
export function approval(options: ApprovalGuardOptions = {}): Guard {
  return {
    name: 'approval',
    onInvoke(ctx: RequestContext, inv: Invocation): Decision {
      if (inv.kind !== 'tool') return allow();
      const identity = ctx.session.identity;
      const rule = identity.approvalRule(inv.server, inv.name);
      const rating = options.risk?.rate(inv.tool);
      const gate = rating && options.risk!.gate(identity, rating);
      const subject = `${inv.server}.${inv.name}`;
      const tierText = gate && `risk tier ${gate.tier} of ${subject} (risk.gates.${gate.tier}: ${gate.tierGate}${gate.tierGate.endsWith('unless-explicit') ? `, and identity ${identity.name} allows it only by a glob` : ''})`;
      const detail = rating && gate ? { triggers: gate.triggers, ...(rule ? { rule } : {}), tier: gate.tier, risk: options.risk!.card(rating) } : undefined;
      if (gate?.gate === 'denied') return { ...deny('TOOL_NOT_ALLOWED', `${tierText} refuses the call; list the tool explicitly in allowed_tools or change risk.gates`), detail };
      const byTier = gate?.triggers.includes('tier') ?? false;
      if (rule === undefined && !byTier) return allow();
      const triggers = [...(rule !== undefined ? [`requires_human_approval_on "${rule}" of identity ${identity.name}`] : []), ...(byTier ? [tierText] : [])];
      const held: Decision = { ...hold('APPROVAL_REQUIRED', `calls to ${subject} need a human's approval (${triggers.join('; ')})`), ...(detail ? { detail } : {}) };
      // A hold the tier caused carries the rating as `risk`, which the approval broker shows and records as the trigger's tier.
      return byTier ? { ...held, risk: detail!.risk } as Decision : held;
    },
  };
}
