import type { Authenticator, SigningKey } from '../auth/index.js';
import { createAdminHandler, type AdminHandler } from './admin-http.js';
import { ApprovalsBroker } from './broker.js';
import { ApproverAuthenticator } from './credentials.js';
import type { ApprovalDesk } from './types.js';

export interface ApprovalsAdminOptions {
  key: SigningKey;
  tokens: { audience: string; issuer: string };
  /** Whether a name is a configured agent identity. */
  isIdentity: (name: string) => boolean;
  /** The MCP endpoint's token authenticator: its credentials are agents' and get 403 on the admin API. */
  agentAuthenticator: Authenticator;
}

/** The /admin/ handler for a gateway whose broker is the default ApprovalsBroker; undefined otherwise. */
export function approvalsAdmin(gateway: { approvals?: unknown }, options: ApprovalsAdminOptions): { handler: AdminHandler; desk: ApprovalDesk } | undefined {
  const desk = gateway.approvals;
  if (!(desk instanceof ApprovalsBroker)) return undefined;
  const authenticator = new ApproverAuthenticator({
    key: options.key,
    audience: options.tokens.audience,
    issuer: options.tokens.issuer,
    isApprover: (name) => desk.approvers.includes(name),
    isIdentity: options.isIdentity,
    agentAuthenticator: options.agentAuthenticator,
  });
  return { handler: createAdminHandler({ desk, authenticator }), desk };
}
