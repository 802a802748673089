import { allow, deny, type Decision, type Guard, type Listed, type RequestContext, type Invocation } from '../../pipeline/types.js';

/**
 * Deny by default: a tool, prompt or resource is visible and callable only if
 * the session's identity allows it and does not deny it. The same decision
 * drives listing and calling, so what an agent cannot see it cannot call.
 */
export function authorisation(): Guard {
  return {
    name: 'authorisation',
    onList(ctx: RequestContext, item: Listed): Decision {
      const identity = ctx.session.identity;
      switch (item.kind) {
        case 'tool': {
          const a = identity.toolAccess(item.server, item.name);
          return a.allowed ? allow(`allowed by "${a.rule}"`) : deny('TOOL_NOT_ALLOWED', a.reason);
        }
        case 'prompt': {
          const a = identity.promptAccess(item.server, item.name);
          return a.allowed ? allow(`allowed by "${a.rule}"`) : deny('PROMPT_NOT_ALLOWED', a.reason);
        }
        case 'resource': {
          const a = identity.resourceAccess(item.uri);
          return a.allowed ? allow(`allowed by "${a.rule}"`) : deny('RESOURCE_NOT_ALLOWED', a.reason);
        }
        case 'resource_template':
          // A template is a promise of many URIs; each read is checked against
          // allowed_resources when it happens, so listing the template reveals no data.
          return identity.allowedResources.length > 0 ? allow('reads are checked per URI') : deny('RESOURCE_NOT_ALLOWED', `identity ${identity.name} has no allowed_resources`);
      }
    },
    onInvoke(ctx: RequestContext, inv: Invocation): Decision {
      const identity = ctx.session.identity;
      switch (inv.kind) {
        case 'tool': {
          const a = identity.toolAccess(inv.server, inv.name);
          return a.allowed ? allow(`allowed by "${a.rule}"`) : deny('TOOL_NOT_ALLOWED', a.reason);
        }
        case 'prompt': {
          const a = identity.promptAccess(inv.server, inv.name);
          return a.allowed ? allow(`allowed by "${a.rule}"`) : deny('PROMPT_NOT_ALLOWED', a.reason);
        }
        case 'resource': {
          const a = identity.resourceAccess(inv.uri);
          return a.allowed ? allow(`allowed by "${a.rule}"`) : deny('RESOURCE_NOT_ALLOWED', a.reason);
        }
      }
    },
  };
}
