/**
 * The `approvals:` section of the config: its zod schema (merged into the
 * gateway's config schema) and its meaning checks (run by the loader).
 */
import { z } from 'zod';
import type { Config } from '../config/schema.js';
import { isGlob, parseNamePattern } from '../policy/patterns.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export const APPROVAL_MODES = ['elicitation_then_queue', 'queue', 'elicitation'] as const;
export type ApprovalMode = (typeof APPROVAL_MODES)[number];

export const approvalsConfigSchema = z
  .strictObject({
    mode: z
      .enum(APPROVAL_MODES)
      .default('elicitation_then_queue')
      .describe(
        'elicitation_then_queue: ask the connected client with MCP elicitation when it declared the capability, otherwise queue for an out-of-band approver; queue: always out-of-band; elicitation: only ask the client (clients without elicitation are refused).',
      ),
    ttl_seconds: z
      .number()
      .int()
      .min(1)
      .max(86_400)
      .default(600)
      .describe('An approval request expires this long after it is created: no decision, or no use of the approval, by then counts as denied.'),
    wait_seconds: z
      .number()
      .int()
      .min(0)
      .max(3_600)
      .default(0)
      .describe('How long a held call stays open waiting for an out-of-band decision (with progress notifications when the client sent a progressToken) before it answers APPROVAL_PENDING; 0 answers at once.'),
    out_of_band_on: z
      .array(z.string().min(1, 'an empty tool pattern matches nothing; remove it'))
      .default([])
      .describe('Tool patterns whose approvals must come from an out-of-band approver (the queue), never from the agent\'s own client by elicitation.'),
    approvers: z
      .array(z.string().regex(NAME, 'approver names use letters, digits, "_" and "-" (max 64), starting with a letter or digit'))
      .default([])
      .describe('Who may approve queued requests (portcullis approvals approve --as NAME, or an approver token). Must not be identity names: an agent credential can never approve.'),
    public_url: z
      .url({ protocol: /^https?$/, error: 'public_url must be an http:// or https:// URL' })
      .optional()
      .describe('Base URL of the gateway as approvers reach it, for approve_url in webhooks; defaults to the address `portcullis serve` listens on.'),
    webhook: z
      .strictObject({
        url: z.url({ protocol: /^https?$/, error: 'webhook url must be an http:// or https:// URL' }),
        headers: z.record(z.string(), z.string()).default({}).describe('Extra request headers, e.g. a bearer token for the chat-ops bot.'),
        timeout_seconds: z.number().positive().max(60).default(5),
      })
      .optional()
      .describe('POSTed a JSON description of every new queued approval request (e.g. to a chat-ops bot); failures are audited and never block the hold.'),
  })
  .prefault({})
  .describe('Human approval of held calls.');

export type ApprovalsConfig = z.output<typeof approvalsConfigSchema>;

/** Field names of the section, for the loader's "did you mean" suggestions. */
export const APPROVALS_CONFIG_KEYS = ['mode', 'ttl_seconds', 'wait_seconds', 'out_of_band_on', 'approvers', 'public_url', 'webhook', 'timeout_seconds'];

type Path = (string | number)[];

/** Meaning checks the schema cannot express; paths are relative to the config root. */
export function checkApprovalsConfig(config: Config): { problems: { at: Path; message: string }[]; warnings: { at: Path; message: string }[] } {
  const problems: { at: Path; message: string }[] = [];
  const warnings: { at: Path; message: string }[] = [];
  const a = config.approvals;
  const servers = Object.keys(config.servers);
  a.approvers.forEach((name, i) => {
    if (name in config.identities) {
      problems.push({ at: ['approvals', 'approvers', i], message: `"${name}" is also an agent identity; an agent credential can never approve, so approvers need names of their own` });
    }
    if (a.approvers.indexOf(name) !== i) problems.push({ at: ['approvals', 'approvers', i], message: `approver "${name}" is listed twice` });
  });
  a.out_of_band_on.forEach((source, i) => {
    const p = parseNamePattern(source);
    if (p.server !== null && p.name === '') problems.push({ at: ['approvals', 'out_of_band_on', i], message: `pattern "${source}" has no tool part; write "${p.server}.*" for every tool of that server` });
    else if (p.server !== null && !isGlob(p.server) && !servers.includes(p.server)) {
      problems.push({ at: ['approvals', 'out_of_band_on', i], message: `unknown server "${p.server}" in pattern "${source}" (servers: ${servers.join(', ')})` });
    }
  });
  if (a.wait_seconds > a.ttl_seconds) {
    problems.push({ at: ['approvals', 'wait_seconds'], message: `wait_seconds (${a.wait_seconds}) is longer than ttl_seconds (${a.ttl_seconds}); a request expires before the wait ends` });
  }
  const holds = Object.values(config.identities).some((id) => id.requires_human_approval_on.length > 0);
  const queued = a.mode === 'queue' || (a.mode !== 'elicitation' && a.out_of_band_on.length > 0);
  if (holds && queued && a.approvers.length === 0) {
    warnings.push({ at: ['approvals', 'approvers'], message: 'no approvers are configured, so queued approval requests can never be approved and expire as denied; list who may approve under approvals.approvers' });
  }
  return { problems, warnings };
}
