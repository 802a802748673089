import { fileURLToPath } from 'node:url';
import type { ConfigInput } from '../config/schema.js';
import { BubblewrapBackend } from '../sandbox/bubblewrap/backend.js';

const server = (file: string) => fileURLToPath(new URL(`./servers/${file}`, import.meta.url));

let sandbox: { sandboxed: boolean; note: string } | undefined;

/**
 * Whether the demo servers run sandboxed: yes whenever bubblewrap works here.
 * Otherwise the demo still runs (it is a demo), unsandboxed, and says how to
 * change that; a real config fails closed instead.
 */
export function demoSandbox(): { sandboxed: boolean; note: string } {
  if (!sandbox) {
    const check = new BubblewrapBackend({ reporter: { egress: async () => {} } }).checkSync();
    sandbox = check.ok
      ? { sandboxed: true, note: 'each sandboxed with bubblewrap: no network, no host files but their own code, private /tmp and home' }
      : process.platform === 'linux'
        ? { sandboxed: false, note: `NOT sandboxed: ${check.reason}; install the Debian package bubblewrap (apt-get install bubblewrap) to run them isolated` }
        : { sandboxed: false, note: `NOT sandboxed: sandboxing uses Linux namespaces and this is ${process.platform}, so they run as plain processes; run portcullis on Linux (a VM or container) to isolate them` };
  }
  return sandbox;
}

/**
 * The embedded demo configuration. support-agent-v1 is exactly the identity
 * security teams write down; triage-agent-v1 may email anyone, so cross-tool
 * flow control is what stands between an injected web page and the customer list.
 */
export function demoConfig(): ConfigInput {
  const isolation = demoSandbox().sandboxed ? {} : { sandbox: 'none' as const };
  return {
    servers: {
      crm: { command: process.execPath, args: [server('crm.js')], labels: { read_crm_ticket: ['private'] }, ...isolation },
      email: { command: process.execPath, args: [server('email.js')], labels: { send_reply_email: ['sink'] }, ...isolation },
      web: { command: process.execPath, args: [server('web.js')], labels: { fetch_page: ['untrusted'] }, ...isolation },
    },
    approvals: {
      approvers: ['secops'],
      // Money leaves the company: the security team decides, never the agent's own client.
      out_of_band_on: ['crm.refund_request'],
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
      'triage-agent-v1': {
        allowed_tools: ['crm.read_crm_ticket', 'web.fetch_page', 'email.send_reply_email'],
        session_ttl_seconds: 300,
      },
    },
  };
}
