import { fileURLToPath } from 'node:url';
import type { ConfigInput } from '../config/schema.js';

const server = (file: string) => fileURLToPath(new URL(`./servers/${file}`, import.meta.url));

/** The embedded demo configuration: the identity is exactly the one security teams write down. */
export function demoConfig(): ConfigInput {
  return {
    servers: {
      crm: { command: process.execPath, args: [server('crm.js')] },
      email: { command: process.execPath, args: [server('email.js')] },
    },
    identities: {
      'support-agent-v1': {
        allowed_tools: ['crm.read_crm_ticket', 'email.send_reply_email', 'crm.refund_request', 'crm.account_deletion'],
        denied_tools: ['*_database_write', 'billing_*'],
        session_ttl_seconds: 300,
        requires_human_approval_on: ['crm.refund_request', 'crm.account_deletion'],
        argument_constraints: {
          'email.send_reply_email': { properties: { to: { type: 'string', pattern: '@example\\.com$' } } },
        },
      },
    },
  };
}
