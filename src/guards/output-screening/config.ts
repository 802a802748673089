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

export const JUDGE_ERROR_ACTIONS = ['allow', 'spotlight', 'quarantine', 'block'] as const;
export type JudgeErrorAction = (typeof JUDGE_ERROR_ACTIONS)[number];

const LOOPBACK_HOST = /^(?:127(?:\.\d{1,3}){3}|\[::1\]|localhost)$/;

const baseUrl = z
  .url({ protocol: /^https?$/, error: 'base_url must be an http:// or https:// URL, e.g. https://api.openai.com/v1 or http://127.0.0.1:8080/v1' })
  .refine((u) => new URL(u).protocol === 'https:' || LOOPBACK_HOST.test(new URL(u).hostname), 'base_url must use https:// unless the host is loopback (127.0.0.1, [::1], localhost): the judged text and the API key would cross the network in clear')
  .refine((u) => !new URL(u).username && !new URL(u).password, 'put no credentials in base_url; give the key as api_key: { from_env: VARIABLE }')
  .refine((u) => !new URL(u).search && !new URL(u).hash, 'base_url is the API root without ?query or #fragment; requests go to {base_url}/chat/completions');

const score = z.number().min(0).max(1);

const judge = z
  .strictObject({
    backend: z
      .union(
        [
          z.literal('sampling').describe('Ask the calling agent\'s client (MCP sampling/createMessage); only clients that declared the sampling capability can judge, for the others every judgement fails and on_error applies.'),
          z
            .strictObject({
              openai: z.strictObject({
                base_url: baseUrl.describe('API root of an OpenAI-compatible endpoint; the judge POSTs to {base_url}/chat/completions.'),
                model: z.string({ error: 'name the model the endpoint should use, e.g. model: gpt-4o-mini' }).min(1, 'name the model the endpoint should use, e.g. model: gpt-4o-mini').describe('Model name sent with each request.'),
                api_key: z
                  .strictObject(
                    { from_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name uses letters, digits and "_"').describe('Variable of the gateway\'s environment holding the key, read at start-up.') },
                    { error: 'api_key is a reference, { from_env: VARIABLE }, never the key itself: keys do not belong in config files' },
                  )
                  .optional()
                  .describe('Bearer key, by reference only (never written in the config, never logged); omit for endpoints that need none.'),
              }),
            })
            .describe('An OpenAI-compatible chat completions endpoint.'),
        ],
        { error: 'backend is "sampling" or { openai: { base_url, model, api_key: { from_env: VARIABLE } } }' },
      )
      .describe('Where the judge\'s completions come from.'),
    band: z
      .tuple([score, score])
      .refine(([low, high]) => low < high, 'band is [low, high] with low below high, e.g. [0.3, 0.8]')
      .default([0.3, 0.8])
      .describe('Detector scores from low to high (inclusive) are borderline and go to the judge; outside it the detector decides alone, with no judge latency.'),
    timeout_ms: z.number().int().min(100).max(120_000).default(3000).describe('A judgement not answered within this long has failed and on_error applies.'),
    on_error: z
      .enum(JUDGE_ERROR_ACTIONS)
      .default('quarantine')
      .describe('A borderline output the judge could not decide (error, timeout, an answer that is not the JSON verdict): allow, spotlight, quarantine or block. Never weaker than the detector alone, and tools rated high or critical tier or irreversible always fail closed (quarantine, or block when this says block).'),
    max_chars: z.number().int().min(256).max(100_000).default(8000).describe('The judge reads at most this many characters of the text, around the most suspicious part.'),
  })
  .describe('Optional LLM judge for borderline injection scores (off unless set).');

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
    judge: judge.optional(),
  })
  .prefault({})
  .describe('Output screening: every tool result, resource read and prompt is sanitised (hidden characters, comments, hidden HTML, foreign images and links, data: URIs), scored for prompt injection and scanned for secrets; arguments are scanned for secrets.');

export type ScreeningConfig = z.output<typeof screeningConfigSchema>;
export type ScreeningOverride = z.output<typeof override>;
export type JudgeConfig = z.output<typeof judge>;

export const SCREENING_CONFIG_KEYS = ['screening', 'threshold', 'on_flagged', 'untrusted', 'secrets', 'pii', 'allowed_link_hosts', 'trust', 'servers', 'tools', 'judge', 'backend', 'openai', 'base_url', 'model', 'api_key', 'band', 'timeout_ms', 'on_error', 'max_chars'];
