/**
 * Config sections for risk rating and cross-tool data flow: their zod schemas
 * (merged into the gateway's config schema) and their meaning checks (run by the loader).
 */
import { z } from 'zod';
import { BLAST_RADII, FLOW_LABELS, GATES, PERMISSIONS, REVERSIBILITIES, TIERS } from './types.js';

const regex = (what: string) =>
  z.string().min(1).refine((s) => {
    try {
      new RegExp(s);
      return true;
    } catch {
      return false;
    }
  }, `${what} must be a valid JavaScript regular expression`);

const toolKey = 'Tool name on this server, or a glob ("refund_*"); an exact name wins over globs.';

const toolRisk = z
  .strictObject({
    permission: z.enum(PERMISSIONS).optional(),
    blast_radius: z.enum(BLAST_RADII).optional(),
    reversibility: z.enum(REVERSIBILITIES).optional(),
    tier: z.enum(TIERS).optional().describe('Pin the tier instead of deriving it from the three answers.'),
  })
  .describe('Operator answers for one tool; each replaces what annotations and heuristics say.');

/** Fields every server (stdio or HTTP) accepts: `risk` and `labels`. */
export const serverPolicyFields = {
  risk: z
    .strictObject({
      blast_radius: z.enum(BLAST_RADII).optional().describe('What this server\'s credentials can reach: user (one person\'s data), app (one application), enterprise (the organisation). Default: app.'),
      trust_annotations: z.boolean().default(false).describe('Believe the server\'s MCP tool annotations (readOnlyHint, destructiveHint, openWorldHint). Untrusted annotations can only make a tool look worse than its name and description.'),
      tools: z.record(z.string().min(1).describe(toolKey), toolRisk).default({}),
    })
    .optional()
    .describe('Risk rating overrides for this server\'s tools (see portcullis risk).'),
  labels: z
    .record(z.string().min(1).describe(toolKey), z.array(z.enum(FLOW_LABELS)))
    .default({})
    .describe('Flow labels per tool: private (returns sensitive data), untrusted (returns outside content), sink (sends data out). Replaces the inferred labels of the tools it names ([] for none).'),
};

export const riskConfigSchema = z
  .strictObject({
    gates: z
      .strictObject({
        low: z.enum(GATES).optional(),
        medium: z.enum(GATES).optional(),
        high: z.enum(GATES).optional().describe('Default: allow in development, approval-unless-explicit in production.'),
        critical: z.enum(GATES).optional().describe('Default: approval.'),
      })
      .prefault({})
      .describe('What calls of each risk tier need: allow, approval, approval-unless-explicit / deny-unless-explicit (unless the identity names the tool without a glob), deny.'),
  })
  .prefault({})
  .describe('Risk tiers and what they require.');

const condition = z.strictObject({
  argument: z.string().min(1).describe('Top-level argument name; a list argument must match in every element.'),
  matches: regex('matches').describe('Regular expression the argument must match, e.g. "@example\\\\.com$".'),
});

const patterns = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

export const flowConfigSchema = z
  .strictObject({
    trifecta: z.enum(['hold', 'deny', 'off']).default('hold').describe('Once a session has read private data and ingested untrusted content, calls to sinks are held for a human (hold), refused (deny) or let through (off).'),
    provenance: z.enum(['deny', 'hold', 'off']).default('deny').describe('A sink call whose arguments carry what a private tool returned (also base64-, hex- or URL-encoded) is refused as exfiltration (deny), held, or let through (off).'),
    min_match_chars: z.number().int().min(24).max(4096).default(32).describe('Shortest run of private output (normalised: no whitespace, lower case) that counts as carried.'),
    fingerprint_kib: z.number().int().min(4).max(16_384).default(64).describe('Memory per session for fingerprints of private output (≈ 1–2 K characters per KiB); past it, sink calls are held (FLOW_BUDGET_EXCEEDED).'),
    internal_destinations: z
      .array(condition.extend({ tool: z.string().min(1).describe('Tool pattern, e.g. "email.send_*".') }))
      .default([])
      .describe('Sink calls whose argument matches stay inside the organisation: trifecta and provenance checks do not apply (flow rules still do).'),
    rules: z
      .array(
        z.strictObject({
          from: patterns.describe('Tool pattern(s) whose output the rule follows, e.g. "crm.*".'),
          to: patterns.describe('Tool pattern(s) it must not reach, e.g. "email.send_*".'),
          unless: z.union([condition, z.array(condition)]).optional().describe('The call passes when these hold, e.g. { argument: to, matches: "@example\\\\.com$" }.'),
          action: z.enum(['deny', 'hold']).default('deny'),
          match: z.enum(['session', 'content']).default('session').describe('session: any earlier call of a from tool in the session counts; content: only when the arguments carry its output.'),
          description: z.string().optional(),
        }),
      )
      .default([])
      .describe('Operator flow rules between tools.'),
  })
  .prefault({})
  .describe('Cross-tool data flow: the lethal trifecta, content provenance and flow rules.');

export type FlowConfigOutput = z.output<typeof flowConfigSchema>;

/** Config keys introduced here, for the loader's did-you-mean suggestions. */
export const RISK_CONFIG_KEYS = [
  'risk', 'labels', 'blast_radius', 'trust_annotations', 'tools', 'permission', 'reversibility', 'tier', 'gates', 'low', 'medium', 'high', 'critical',
  'flow', 'trifecta', 'provenance', 'min_match_chars', 'fingerprint_kib', 'internal_destinations', 'rules', 'from', 'to', 'unless', 'action', 'match',
  'argument', 'matches', 'description', 'tool',
];

type Path = (string | number)[];

/** Meaning checks: tool patterns in flow rules and internal destinations must name configured servers. */
export function checkRiskConfig(
  config: { flow: FlowConfigOutput },
  checkPattern: (source: string) => string | undefined,
): { problems: { at: Path; message: string }[] } {
  const problems: { at: Path; message: string }[] = [];
  const list = (v: string | string[]) => (typeof v === 'string' ? [v] : v);
  config.flow.rules.forEach((r, i) => {
    for (const field of ['from', 'to'] as const) {
      for (const p of list(r[field])) {
        const problem = checkPattern(p);
        if (problem) problems.push({ at: ['flow', 'rules', i, field], message: problem });
      }
    }
  });
  config.flow.internal_destinations.forEach((d, i) => {
    const problem = checkPattern(d.tool);
    if (problem) problems.push({ at: ['flow', 'internal_destinations', i, 'tool'], message: problem });
  });
  return { problems };
}
