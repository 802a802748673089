/**
 * Output screening's use of the LLM judge (src/screening/judge/): the judge
 * built from `screening.judge`, the text it reads, and what an output falls
 * back to when the judge cannot decide. The judge itself knows no policy.
 */
import type { Invocation } from '../../pipeline/types.js';
import type { RiskModel } from '../../risk/model.js';
import { redactText, type Detection } from '../../screening/index.js';
import { createJudge, openAiBackend, samplingBackend, type Judge } from '../../screening/judge/index.js';
import type { FlaggedAction, JudgeConfig, JudgeErrorAction } from './config.js';

export function judgeFromConfig(config: JudgeConfig, env: NodeJS.ProcessEnv = process.env): Judge {
  if (config.backend === 'sampling') return createJudge(samplingBackend(), { timeoutMs: config.timeout_ms });
  const { base_url, model, api_key } = config.backend.openai;
  let apiKey: string | undefined;
  if (api_key) {
    apiKey = env[api_key.from_env];
    if (!apiKey) throw new Error(`screening.judge.backend.openai.api_key: the environment variable ${api_key.from_env} is not set; export it before starting the gateway, or remove api_key for an endpoint that needs no key`);
  }
  return createJudge(openAiBackend({ baseUrl: base_url, model, apiKey }), { timeoutMs: config.timeout_ms });
}

/**
 * What the judge reads: the text the detector scored, with secrets (and PII
 * when the policy redacts it) removed, since an endpoint may be a third
 * party; a long text is cut to maxChars around the most suspicious part.
 */
export function judgedText(found: Detection & { text: string }, maxChars: number, pii: boolean): string {
  const text = redactText(found.text, { secrets: true, pii }).text;
  if (text.length <= maxChars) return text;
  // Redaction shifts offsets a little; the window is wide enough that the span stays inside.
  const centre = found.span ? Math.min(found.span[0], text.length) : 0;
  const start = Math.max(0, Math.min(centre - Math.floor(maxChars / 4), text.length - maxChars));
  return text.slice(start, start + maxChars);
}

export interface Fallback {
  action: FlaggedAction;
  /** Why this action, for the reason the agent and the audit read. */
  why: string;
}

/** Weakest first: a fallback is the strictest action any of its grounds asks for. */
const STRICTNESS: readonly FlaggedAction[] = ['allow', 'spotlight', 'redact', 'quarantine', 'block'];

/**
 * A borderline output the judge could not decide. The judge only ever gets a
 * vote when it answers: an attacker who makes it fail (by breaking its JSON or
 * by load) gets no weaker treatment than the detector alone gives, and
 * high-risk tools fail closed whatever on_error says.
 */
export function fallbackFor(onError: JudgeErrorAction, detectorAlone: FlaggedAction | undefined, closedBecause: string | undefined): Fallback {
  const grounds: Fallback[] = [];
  if (closedBecause) grounds.push({ action: onError === 'block' ? 'block' : 'quarantine', why: `${closedBecause}, so it fails closed` });
  if (detectorAlone) grounds.push({ action: detectorAlone, why: `the detector alone flags it (on_flagged: ${detectorAlone})` });
  grounds.push({ action: onError, why: `screening.judge.on_error is ${onError}` });
  return grounds.reduce((a, b) => (STRICTNESS.indexOf(b.action) > STRICTNESS.indexOf(a.action) ? b : a));
}

/** Why a tool's outputs fail closed when unjudged (high or critical tier, or irreversible), or undefined. */
export function failsClosed(inv: Invocation, risk: RiskModel): string | undefined {
  if (inv.kind !== 'tool') return undefined;
  const rating = risk.rate(inv.tool);
  if (rating.tier.value === 'high' || rating.tier.value === 'critical') return `${inv.server}.${inv.name} is rated ${rating.tier.value} tier`;
  if (rating.reversibility.value === 'irreversible') return `${inv.server}.${inv.name} is rated irreversible`;
  return undefined;
}
