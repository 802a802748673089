import type { Identity } from '../../policy/identity.js';
import { allow, deny, type Decision, type Guard, type Listed, type RequestContext, type Invocation } from '../../pipeline/types.js';

/**
 * Deny by default: a tool, prompt or resource is visible and callable only if
 * the session's identity allows it and does not deny it. Listing and calling
 * ask the same question, so what an agent cannot see it cannot call.
 */
export function authorisation(): Guard {
  return {
    name: 'authorisation',
    onList(ctx: RequestContext, item: Listed): Decision {
      const identity = ctx.session.identity;
      if (item.kind === 'resource_template') {
        // A template is a promise of many URIs; each read is checked against
        // allowed_resources when it happens, so listing the template reveals no data.
        return identity.allowedResources.length > 0 ? allow('reads are checked per URI') : deny('RESOURCE_NOT_ALLOWED', `identity ${identity.name} has no allowed_resources`);
      }
      return access(identity, item);
    },
    onInvoke(ctx: RequestContext, invocation: Invocation): Decision {
      return access(ctx.session.identity, invocation);
    },
  };
}

type Subject = { kind: 'tool' | 'prompt'; server: string; name: string } | { kind: 'resource'; uri: string };

function access(identity: Identity, subject: Subject): Decision {
  switch (subject.kind) {
    case 'tool': {
      const a = identity.toolAccess(subject.server, subject.name);
      return a.allowed ? allow(`allowed by "${a.rule}"`) : deny('TOOL_NOT_ALLOWED', a.reason);
    }
    case 'prompt': {
      const a = identity.promptAccess(subject.server, subject.name);
      return a.allowed ? allow(`allowed by "${a.rule}"`) : deny('PROMPT_NOT_ALLOWED', a.reason);
    }
    case 'resource': {
      const a = identity.resourceAccess(subject.uri);
      return a.allowed ? allow(`allowed by "${a.rule}"`) : deny('RESOURCE_NOT_ALLOWED', a.reason);
    }
  }
}
