import { allow, deny, hold, type Guard, type Invocation, type InvokeDecision, type RequestContext, type ResultDecision, type UpstreamError } from '../../pipeline/types.js';
import { isGlob, parseNamePattern, type NamePattern } from '../../policy/patterns.js';
import { RiskModel } from '../../risk/model.js';
import { detectInjection, newNonce, redactSecrets, redactText, sanitise, sharedScanMemo, spotlight, summariseFindings, textsOf, type Detection, type Finding, type Removal, type SecretCount } from '../../screening/index.js';
import type { JudgeOutcome } from '../../screening/judge/index.js';
import { screeningConfigSchema, type FlaggedAction, type ScreeningConfig, type ScreeningOverride } from './config.js';
import { failsClosed, fallbackFor, judgeFromConfig, judgedText } from './judge.js';

export { screeningConfigSchema, SCREENING_CONFIG_KEYS, FLAGGED_ACTIONS, JUDGE_ERROR_ACTIONS, type ScreeningConfig, type ScreeningOverride, type FlaggedAction, type JudgeConfig, type JudgeErrorAction } from './config.js';

export interface OutputScreeningOptions {
  /** The `screening:` section; unset fields take the defaults (quarantine flagged output, spotlight untrusted output, redact secrets). */
  policy?: Partial<ScreeningConfig>;
  /** Rates tools for their flow labels (`untrusted` makes a source untrusted) and for failing closed when the LLM judge cannot decide. */
  risk?: RiskModel;
  /** Where the LLM judge reads its API key reference (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** The policy that applies to one invocation, after server and tool overrides. */
interface Effective {
  threshold: number;
  onFlagged: FlaggedAction;
  untrusted: 'spotlight' | 'allow';
  secrets: 'redact' | 'block' | 'allow';
  pii: 'redact' | 'allow';
  hosts: string[];
  untrustedSource: boolean;
}

/** What a screening did, for the audit record (kinds and counts, never content). */
interface Report {
  action: 'allow' | FlaggedAction;
  removed?: Removal[];
  secrets?: SecretCount[];
  injection?: { score: number; flagged: boolean; reasons: string[]; path?: string; redacted?: number };
  /** The LLM judge's answer (or why it gave none, and the fallback taken); never the text or the endpoint's key. */
  judge?: { backend: string; ms: number } & ({ verdict: string; confidence: number } | { error: string; message: string; fallback: FlaggedAction });
}

/** A flagged string keeps losing its most suspicious span for at most this many rounds, then goes whole. */
const MAX_REDACT_ROUNDS = 8;
const INJECTION_REMOVED = '[removed: suspected prompt injection]';

/**
 * Output screening: what a server returns is data written by whoever controls
 * that server or the content it fetched, and it reaches the model as text.
 *
 *  - onResult (tool results, resource reads, prompts): the sanitiser removes
 *    what a reviewer cannot see but a model reads (hidden characters, comments,
 *    hidden HTML, images and links to foreign hosts, data: URIs); secrets (and
 *    PII if asked) are redacted or the result refused; the injection detector
 *    scores the output as the server sent it, hidden parts included (a source
 *    that hides instructions is hostile even though they are stripped), and a
 *    flagged output is quarantined, blocked, redacted, spotlighted or allowed;
 *    outputs of untrusted sources are spotlighted. What was removed goes into
 *    the decision's detail, kinds and counts only.
 *  - onInvoke: credentials found by their value in a call's arguments are
 *    redacted or the call refused. Arguments under credential-named keys
 *    (`password`) are the tool's declared interface and are left alone; the
 *    audit log redacts them either way.
 *  - onError: upstream error messages reach the model too and are sanitised.
 *
 * With `judge` configured, an output whose injection score falls in the judge's
 * band is decided by the LLM judge instead (see ./judge.ts); every other
 * output is decided without waiting for it.
 */
export function outputScreening(options: OutputScreeningOptions = {}): Guard {
  const policy: ScreeningConfig = screeningConfigSchema.parse(options.policy ?? {});
  const risk = options.risk ?? new RiskModel();
  const judging = policy.judge;
  const judge = judging && judgeFromConfig(judging, options.env);
  const toolRules = Object.entries(policy.tools).map(([source, override]) => ({ pattern: parseNamePattern(source), exact: !isGlob(source), override }));
  const toolOverride = (server: string, name: string): ScreeningOverride | undefined => {
    const matches = (r: { pattern: NamePattern }) => r.pattern.matches(server, name);
    return (toolRules.find((r) => r.exact && matches(r)) ?? toolRules.find((r) => !r.exact && matches(r)))?.override;
  };

  const resolve = (inv: Invocation): Effective => {
    const layers = [policy.servers[inv.server], inv.kind === 'resource' ? undefined : toolOverride(inv.server, inv.name)].filter((l): l is ScreeningOverride => l !== undefined);
    const e: Effective = { threshold: policy.threshold, onFlagged: policy.on_flagged, untrusted: policy.untrusted, secrets: policy.secrets, pii: policy.pii, hosts: [...policy.allowed_link_hosts], untrustedSource: false };
    let trust: 'trusted' | 'untrusted' | undefined;
    for (const l of layers) {
      e.threshold = l.threshold ?? e.threshold;
      e.onFlagged = l.on_flagged ?? e.onFlagged;
      e.untrusted = l.untrusted ?? e.untrusted;
      e.secrets = l.secrets ?? e.secrets;
      e.pii = l.pii ?? e.pii;
      e.hosts.push(...(l.allowed_link_hosts ?? []));
      trust = l.trust ?? trust;
    }
    e.untrustedSource = trust !== undefined ? trust === 'untrusted' : inv.kind === 'tool' && risk.rate(inv.tool).labels.value.includes('untrusted');
    return e;
  };

  /** The screened result: the detector's verdict on `found`, or the judge's when it was asked. */
  const decide = (inv: Invocation, e: Effective, result: Record<string, unknown>, found: Found | undefined, judged?: JudgeOutcome): ResultDecision => {
    const s = sanitise(result, { allowedHosts: e.hosts });
    let value = s.value;
    let secrets: SecretCount[] = [];
    if (e.secrets !== 'allow' || e.pii === 'redact') {
      const r = redactSecrets(value, { secrets: e.secrets !== 'allow', pii: e.pii === 'redact' });
      value = r.value;
      secrets = r.found;
    }
    // The judge's verdict replaces the detector's when it answered; when it could not, the fallback decides.
    const flagged = judged?.ok ? judged.verdict === 'injection' : found?.flagged === true;
    const fallback = judged && !judged.ok ? fallbackFor(judging!.on_error, flagged ? e.onFlagged : undefined, failsClosed(inv, risk)) : undefined;
    const action = fallback?.action ?? (flagged ? e.onFlagged : undefined);
    const report: Report = {
      action: 'allow',
      ...(s.removed.length ? { removed: s.removed } : {}),
      ...(secrets.length ? { secrets } : {}),
      ...(flagged || judged ? { injection: { score: round(found!.score), flagged, reasons: found!.reasons, ...(found!.path ? { path: found!.path } : {}) } } : {}),
      ...(judged ? { judge: judged.ok ? { backend: judged.backend, verdict: judged.verdict, confidence: judged.confidence, ms: judged.ms } : { backend: judged.backend, error: judged.error, message: judged.message, fallback: fallback!.action, ms: judged.ms } } : {}),
    };
    const what = subject(inv);
    const findings = describeReport(report);

    if (e.secrets === 'block' && secrets.some((c) => c.category === 'secret')) {
      return { ...deny('SECRET_IN_OUTPUT', `the output of ${what} carries credentials (${describeCounts(secrets.filter((c) => c.category === 'secret'))}) and was withheld; the server must not return secrets, or the operator sets screening.secrets: redact`), detail: { ...report, action: 'block' } };
    }
    let wrap = false;
    if (action) {
      const unjudged = fallback && `is borderline for prompt injection and the LLM judge could not decide (${findings})`;
      switch (action) {
        case 'block':
          if (unjudged) return { ...deny('OUTPUT_UNJUDGED', `the output of ${what} ${unjudged}; refused because ${fallback!.why}; retry later, or ask the operator to check screening.judge`), detail: { ...report, action: 'block' } };
          return { ...deny('OUTPUT_INJECTION', `the output of ${what} looks like a prompt injection (${findings}) and was refused`), detail: { ...report, action: 'block' } };
        case 'quarantine': {
          // What the agent gets if a human releases it: sanitised, without secrets, and still marked as data.
          const kept = e.secrets === 'allow' ? redactSecrets(value, { secrets: true, pii: false }).value : value;
          const reason = unjudged ? `the output of ${what} ${unjudged}; withheld because ${fallback!.why}` : `the output of ${what} looks like a prompt injection (${findings})`;
          return { ...hold('OUTPUT_QUARANTINED', reason), detail: { ...report, action: 'quarantine' }, result: wrapTexts(kept, labelOf(inv)) };
        }
        case 'redact': {
          const r = redactInjections(value, e.threshold);
          value = r.value;
          report.action = 'redact';
          report.injection!.redacted = r.count;
          // Spread over fields too short to judge alone: nothing to cut, so it is at least marked as data.
          if (r.count === 0) wrap = true;
          break;
        }
        case 'spotlight':
          wrap = true;
          break;
        case 'allow':
          break;
      }
    }
    if (e.untrustedSource && e.untrusted === 'spotlight') wrap = true;
    if (wrap) {
      value = wrapTexts(value, labelOf(inv));
      if (report.action === 'allow') report.action = 'spotlight';
    }
    if (value === result && !report.injection) return allow();
    const reason = `output screened: ${report.action}${findings ? ` (${findings})` : ''}`;
    return { ...allow(reason), ...(value !== result ? { result: value } : {}), detail: report as unknown as Record<string, unknown> };
  };

  return {
    name: 'output-screening',

    onInvoke(_ctx: RequestContext, inv: Invocation): InvokeDecision {
      if (inv.kind === 'resource') return allow();
      const e = resolve(inv);
      if (e.secrets === 'allow') return allow();
      const findings: Finding[] = [];
      // The audit log scans the same arguments again; it reuses these findings.
      const memo = sharedScanMemo(inv.arguments);
      const redacted = mapStrings(inv.arguments, (text) => {
        const r = redactText(text, { secrets: true, pii: false }, memo);
        findings.push(...r.found);
        return r.text;
      }, false);
      if (findings.length === 0) return allow();
      const secrets = summariseFindings(findings);
      const kinds = describeCounts(secrets);
      if (e.secrets === 'block') {
        return {
          ...deny('SECRET_IN_ARGUMENTS', `the arguments of ${subject(inv)} carry credentials (${kinds}), so the call was refused before they could leave through it; call it without secrets, or ask the operator to set screening.secrets for this tool`),
          detail: { action: 'block', secrets },
        };
      }
      return { ...allow(`credentials in the arguments redacted (${kinds})`), arguments: redacted, detail: { action: 'redact', secrets } };
    },

    onResult(ctx: RequestContext, inv: Invocation, result: Record<string, unknown>): ResultDecision | Promise<ResultDecision> {
      const e = resolve(inv);
      const found = detectIn(result, e.threshold);
      // Texts of a word or two are not judged for the reason the classifier alone does not flag them.
      if (judge && found && found.score >= judging.band[0] && found.score <= judging.band[1] && substantial(found.text)) {
        return judge(judgedText(found, judging.max_chars, e.pii === 'redact'), { sample: ctx.sample }).then((judged) => decide(inv, e, result, found, judged));
      }
      return decide(inv, e, result, found);
    },

    onError(_ctx: RequestContext, inv: Invocation, error: UpstreamError): UpstreamError | undefined {
      const e = resolve(inv);
      let value = sanitise(error, { allowedHosts: e.hosts }).value;
      if (e.secrets !== 'allow' || e.pii === 'redact') value = redactSecrets(value, { secrets: e.secrets !== 'allow', pii: e.pii === 'redact' }).value;
      return value === error ? undefined : value;
    },
  };
}

/** The most suspicious text of a result, with where it is and what the detector says of it. */
type Found = Detection & { path: string; text: string };

/**
 * The injection verdict over a value as the server sent it: the most
 * suspicious text decides. The classifier scores windows of words; on a text
 * of a word or two ("open", "pending") its score is mostly its bias, so short
 * strings are scored together, joined in order (which also catches an
 * injection split across fields), and a text that is still short is flagged
 * only by more than the classifier (a rule, hidden tag characters, homoglyphs).
 */
export function detectIn(value: unknown, threshold?: number): Found | undefined {
  let best: Found | undefined;
  const consider = (text: string, path: string) => {
    const d = assess(text, threshold);
    if (!best || (d.flagged && !best.flagged) || (d.flagged === best.flagged && d.score > best.score)) best = { ...d, path, text };
  };
  const short: string[] = [];
  for (const { path, text } of textsOf(value)) {
    if (substantial(text)) consider(text, path);
    else short.push(text);
  }
  if (short.length > 0) consider(short.join('\n'), '(short strings)');
  return best;
}

const substantial = (text: string) => text.length >= 32 || (text.match(/\S+/g)?.length ?? 0) >= 4;

/** The detector's verdict on one text, with the short-text rule above. */
function assess(text: string, threshold?: number): Detection {
  const d = detectInjection(text, { kind: 'tool_output', threshold });
  return d.flagged && !substantial(text) && d.reasons.every((r) => r === 'classifier') ? { ...d, flagged: false } : d;
}

function subject(inv: Invocation): string {
  return inv.kind === 'resource' ? `resource ${inv.uri} (server ${inv.server})` : `${inv.kind} ${inv.server}.${inv.name}`;
}

/** The spotlight preamble sits outside the data block, so it names only what the server cannot choose freely. */
function labelOf(inv: Invocation): string {
  if (inv.kind === 'resource') return `resource from server ${inv.server}`;
  const name = /^[A-Za-z0-9_.-]{1,128}$/.test(inv.name) ? `${inv.server}.${inv.name}` : `a ${inv.kind} of server ${inv.server}`;
  return `output of ${name}`;
}

const round = (n: number) => Math.round(n * 1000) / 1000;

function describeCounts(counts: readonly { kind: string; count: number }[]): string {
  return counts.map((c) => `${c.kind}×${c.count}`).join(', ');
}

/** One line for reasons: the score and what was removed; never the content. */
function describeReport(report: Report): string {
  const parts: string[] = [];
  if (report.injection) parts.push(`injection score ${report.injection.score.toFixed(2)}: ${report.injection.reasons.slice(0, 3).join(', ') || 'classifier'}`);
  if (report.judge) parts.push('verdict' in report.judge ? `LLM judge: ${report.judge.verdict} (confidence ${report.judge.confidence.toFixed(2)})` : `LLM judge failed: ${report.judge.error}`);
  if (report.removed?.length) parts.push(`hidden or unsafe content removed: ${describeCounts(report.removed)}`);
  if (report.secrets?.length) parts.push(`redacted: ${describeCounts(report.secrets)}`);
  return parts.join('; ');
}

/**
 * Spotlights every text a model reads in a result: text content (tool results,
 * prompt messages) and text of embedded and read resources. One nonce per
 * call; the preamble once, on the first block. structuredContent is data for
 * programs and stays as it is (it is checked against the outputSchema).
 */
export function wrapTexts<T>(value: T, label: string, nonce = newNonce()): T {
  let first = true;
  const walk = (v: unknown, depth: number): unknown => {
    if (v === null || typeof v !== 'object' || depth > 16) return v;
    if (Array.isArray(v)) {
      const out = v.map((x) => walk(x, depth + 1));
      return out.some((x, i) => x !== v[i]) ? out : v;
    }
    const o = v as Record<string, unknown>;
    let out: Record<string, unknown> | undefined;
    if (typeof o.text === 'string' && (o.type === 'text' || typeof o.uri === 'string')) {
      out = { ...o, text: spotlight(o.text, nonce, { label, preamble: first }).text };
      first = false;
    }
    for (const k of ['content', 'contents', 'messages', 'resource']) {
      if (!(k in o)) continue;
      const nv = walk(o[k], depth + 1);
      if (nv !== o[k]) (out ??= { ...o })[k] = nv;
    }
    return out ?? o;
  };
  return walk(value, 0) as T;
}

/** Cuts the most suspicious span of every flagged string until it no longer flags (or drops the string). */
function redactInjections<T>(value: T, threshold: number): { value: T; count: number } {
  let count = 0;
  const out = mapStrings(value, (text) => {
    let t = text;
    for (let round = 0; round < MAX_REDACT_ROUNDS; round++) {
      const d = assess(t, threshold);
      if (!d.flagged) return t;
      count++;
      if (!d.span || d.span[1] <= d.span[0]) return INJECTION_REMOVED;
      t = t.slice(0, d.span[0]) + INJECTION_REMOVED + t.slice(d.span[1]);
    }
    return assess(t, threshold).flagged ? INJECTION_REMOVED : t;
  });
  return { value: out, count };
}

/**
 * Copy of a JSON-like value with fn applied to every string (unchanged subtrees
 * shared). In an MCP result, binary fields and type tags are skipped; in
 * arguments (`mcp: false`) every string counts.
 */
function mapStrings<T>(value: T, fn: (s: string) => string, mcp = true): T {
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return fn(v);
    if (v === null || typeof v !== 'object' || depth > 64) return v;
    if (Array.isArray(v)) {
      const out = v.map((x) => walk(x, depth + 1));
      return out.some((x, i) => x !== v[i]) ? out : v;
    }
    const o = v as Record<string, unknown>;
    let out: Record<string, unknown> | undefined;
    for (const k of Object.keys(o)) {
      if (mcp && (k === 'blob' || k === 'type' || k === 'mimeType' || (k === 'data' && (o.type === 'image' || o.type === 'audio')))) continue;
      const nv = walk(o[k], depth + 1);
      if (nv !== o[k]) (out ??= { ...o })[k] = nv;
    }
    return out ?? o;
  };
  return walk(value, 0) as T;
}
