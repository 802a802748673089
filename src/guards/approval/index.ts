import { allow, hold, type Decision, type Guard, type Invocation, type RequestContext } from '../../pipeline/types.js';

/**
 * Calls covered by requires_human_approval_on are held, never executed first.
 * The guard only decides that a human must look; who is asked and how the
 * answer comes back belongs to the approval broker the gateway is given.
 */
export function approval(): Guard {
  return {
    name: 'approval',
    onInvoke(ctx: RequestContext, inv: Invocation): Decision {
      if (inv.kind !== 'tool') return allow();
      const rule = ctx.session.identity.approvalRule(inv.server, inv.name);
      if (rule === undefined) return allow();
      return hold('APPROVAL_REQUIRED', `calls to ${inv.server}.${inv.name} need a human's approval (requires_human_approval_on "${rule}" of identity ${ctx.session.identity.name})`);
    },
  };
}
