/** The `screening:` section of the config: zod schema (merged into the gateway's config schema) and its key names. */
import { z } from 'zod';

export const FLAGGED_ACTIONS = ['quarantine', 'block', 'redact', 'spotlight', 'allow'] as const;
export type FlaggedAction = (typeof FLAGGED_ACTIONS)[number];

const host = z
  .string()
  .regex(/^(?:\*\.)?[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*$/, 'write a host name such as "example.com" (it and its subdomains) or "*.example.com" (only subdomains)');

const fields = {
  threshold: z.number().gt(0).lt(1).describe('Injection score (0..1) from which an output counts as flagged; 0.5 is the shipped, calibrated threshold.'),
  on_flagged: z
    .enum(FLAGGED_ACTIONS)
    .describe('What happens to an output the injection detector flags: quarantine (withheld until an approver releases it), block (refused), redact (the suspicious span removed), spotlight (wrapped as data), allow (passed, audited).'),
  untrusted: z.enum(['spotlight', 'allow']).describe('Outputs of untrusted sources that are not flagged: spotlight (wrapped in a delimited data block with a per-call nonce) or allow.'),
  secrets: z.enum(['redact', 'block', 'allow']).describe('Credentials (API keys, tokens, private keys, passwords…) in results and in call arguments: redacted, refused, or let through. The audit log is redacted either way.'),
  pii: z.enum(['redact', 'allow']).describe('Personal data (e-mail addresses, phone numbers, payment cards, IBANs, national ids) in results; arguments carry it by design and are not touched.'),
  allowed_link_hosts: z.array(host).describe('Hosts that images and links in outputs may point to; links to other hosts are neutralised. Lists add up: top level, then server, then tool.'),
};

const override = z
  .strictObject({
    trust: z.enum(['trusted', 'untrusted']).optional().describe('Whether outputs count as coming from an untrusted source. Default: a tool whose flow labels include untrusted (see portcullis risk) is untrusted.'),
    threshold: fields.threshold.optional(),
    on_flagged: fields.on_flagged.optional(),
    untrusted: fields.untrusted.optional(),
    secrets: fields.secrets.optional(),
    pii: fields.pii.optional(),
    allowed_link_hosts: fields.allowed_link_hosts.optional(),
  })
  .describe('Overrides for some outputs; unset fields inherit.');

export const screeningConfigSchema = z
  .strictObject({
    threshold: fields.threshold.default(0.5),
    on_flagged: fields.on_flagged.default('quarantine'),
    untrusted: fields.untrusted.default('spotlight'),
    secrets: fields.secrets.default('redact'),
    pii: fields.pii.default('allow'),
    allowed_link_hosts: fields.allowed_link_hosts.default([]),
    servers: z.record(z.string(), override).default({}).describe('Server name → overrides for its tools, resources and prompts.'),
    tools: z.record(z.string().min(1), override).default({}).describe('Tool or prompt pattern ("server.tool", globs allowed) → overrides; an exact name wins over globs, then the first glob that matches.'),
  })
  .prefault({})
  .describe('Output screening: every tool result, resource read and prompt is sanitised (hidden characters, comments, hidden HTML, foreign images and links, data: URIs), scored for prompt injection and scanned for secrets; arguments are scanned for secrets.');

export type ScreeningConfig = z.output<typeof screeningConfigSchema>;
export type ScreeningOverride = z.output<typeof override>;

export const SCREENING_CONFIG_KEYS = ['screening', 'threshold', 'on_flagged', 'untrusted', 'secrets', 'pii', 'allowed_link_hosts', 'trust', 'servers', 'tools'];
