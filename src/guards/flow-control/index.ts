import { allow, type Decision, type Guard, type Invocation, type RequestContext, type ResultDecision, type SessionView } from '../../pipeline/types.js';
import { parseNamePattern, type NamePattern } from '../../policy/patterns.js';
import { RiskModel } from '../../risk/model.js';
import type { FlowLabel } from '../../risk/types.js';
import { argumentCandidates, Fingerprints, resultTexts, type Candidate, type SourceRef } from './fingerprint.js';

export { Fingerprints, BloomFilter, normalise, argumentCandidates, resultTexts, SHINGLE } from './fingerprint.js';

/** One `unless` condition: the named argument (every element, for a list) must match the regex. */
export interface FlowCondition {
  readonly argument: string;
  readonly matches: string;
}

/** Sink calls to these destinations stay inside: trifecta, provenance and budget checks do not apply. */
export interface FlowDestination extends FlowCondition {
  readonly tool: string;
}

export interface FlowRuleConfig {
  /** Tool pattern(s) whose output the rule follows. */
  readonly from: string | readonly string[];
  /** Tool pattern(s) the output must not reach. */
  readonly to: string | readonly string[];
  /** The call passes when all of these hold. */
  readonly unless?: FlowCondition | readonly FlowCondition[];
  /** deny (default) or hold for a human. */
  readonly action?: 'deny' | 'hold';
  /** session (default): any earlier call of a `from` tool in the session taints it; content: only when the arguments carry that tool's output. */
  readonly match?: 'session' | 'content';
  readonly description?: string;
}

/** The `flow:` section of the config. */
export interface FlowConfig {
  readonly trifecta?: 'hold' | 'deny' | 'off';
  readonly provenance?: 'deny' | 'hold' | 'off';
  readonly min_match_chars?: number;
  readonly fingerprint_kib?: number;
  readonly internal_destinations?: readonly FlowDestination[];
  readonly rules?: readonly FlowRuleConfig[];
}

export interface FlowControlOptions {
  /** Rates tools (for their flow labels); a model without config infers labels from annotations and names. */
  risk?: RiskModel;
  policy?: FlowConfig;
}

/** Bounds on what one session remembers besides its fingerprints. */
const MAX_TAINTS = 8;
const MAX_SEEN_TOOLS = 4096;
/** Arguments larger than this (decoded forms included) are not examined in full; the call is held if private data is about. */
const MAX_SCAN_CHARS = 4 * 1024 * 1024;

interface Seen extends SourceRef {
  readonly server: string;
  readonly name: string;
}

interface SessionFlow {
  readonly privateCalls: SourceRef[];
  readonly untrustedCalls: SourceRef[];
  /** server.tool → first call of it that returned, for session-order flow rules. */
  readonly seen: Map<string, Seen>;
  readonly fingerprints: Fingerprints;
}

interface Finding {
  verdict: 'deny' | 'hold';
  code: 'EXFILTRATION_BLOCKED' | 'FLOW_RULE' | 'FLOW_BUDGET_EXCEEDED' | 'FLOW_TRIFECTA';
  reason: string;
  evidence: Record<string, unknown>;
}

interface CompiledRule {
  index: number;
  source: string;
  from: NamePattern[];
  to: NamePattern[];
  unless: { argument: string; matches: RegExp; text: string }[];
  action: 'deny' | 'hold';
  match: 'session' | 'content';
}

/**
 * Cross-tool data flow. Tools carry labels (private: returns sensitive data;
 * untrusted: returns outside content; sink: sends data out) from config or from
 * the risk rating. Per session the guard remembers which calls returned private
 * or untrusted content and fingerprints private output; before a sink runs:
 *  - provenance: its arguments carry private output (also base64/hex/%-encoded) → EXFILTRATION_BLOCKED (deny by default),
 *    linking the call whose output leaked;
 *  - the lethal trifecta: private data read and untrusted content ingested → FLOW_TRIFECTA (hold by default),
 *    naming the calls that tainted the session;
 *  - flow rules from config ("crm.* must never reach email.send_* unless to is internal") → FLOW_RULE.
 * State lives per session object and goes with it; see fingerprint.ts for the memory bound.
 */
export function flowControl(options: FlowControlOptions = {}): Guard {
  const risk = options.risk ?? new RiskModel();
  const policy = options.policy ?? {};
  const trifecta = policy.trifecta ?? 'hold';
  const provenance = policy.provenance ?? 'deny';
  const minMatch = policy.min_match_chars ?? 32;
  const budgetBytes = (policy.fingerprint_kib ?? 64) * 1024;
  const internal = (policy.internal_destinations ?? []).map((d) => ({ tool: parseNamePattern(d.tool), argument: d.argument, matches: new RegExp(d.matches), text: d.matches }));
  const rules: CompiledRule[] = (policy.rules ?? []).map((r, index) => {
    const list = (v: string | readonly string[]) => (typeof v === 'string' ? [v] : [...v]);
    const unless = r.unless === undefined ? [] : Array.isArray(r.unless) ? (r.unless as readonly FlowCondition[]) : [r.unless as FlowCondition];
    return {
      index,
      source: r.description ?? `${list(r.from).join(', ')} → ${list(r.to).join(', ')}`,
      from: list(r.from).map(parseNamePattern),
      to: list(r.to).map(parseNamePattern),
      unless: unless.map((c) => ({ argument: c.argument, matches: new RegExp(c.matches), text: c.matches })),
      action: r.action ?? 'deny',
      match: r.match ?? 'session',
    };
  });
  const contentRules = rules.filter((r) => r.match === 'content');
  const sessions = new WeakMap<SessionView, SessionFlow>();
  const stateOf = (session: SessionView): SessionFlow => {
    let s = sessions.get(session);
    if (!s) sessions.set(session, (s = { privateCalls: [], untrustedCalls: [], seen: new Map(), fingerprints: new Fingerprints(budgetBytes) }));
    return s;
  };
  const labelsOf = (inv: Invocation): readonly FlowLabel[] => {
    if (inv.kind === 'tool') return risk.rate(inv.tool).labels.value;
    // A resource is data from the organisation's own servers: private.
    return inv.kind === 'resource' ? ['private'] : [];
  };

  return {
    name: 'flow-control',

    onResult(ctx: RequestContext, inv: Invocation, result: Record<string, unknown>): ResultDecision {
      const labels = labelsOf(inv);
      const s = stateOf(ctx.session);
      const ref: SourceRef = { call: ctx.callId ?? '?', tool: inv.kind === 'resource' ? `${inv.server}:${inv.uri}` : `${inv.server}.${inv.name}` };
      if (inv.kind === 'tool' && !s.seen.has(ref.tool) && s.seen.size < MAX_SEEN_TOOLS) s.seen.set(ref.tool, { ...ref, server: inv.server, name: inv.name });
      const isPrivate = labels.includes('private');
      if (isPrivate && s.privateCalls.length < MAX_TAINTS) s.privateCalls.push(ref);
      if (labels.includes('untrusted') && s.untrustedCalls.length < MAX_TAINTS) s.untrustedCalls.push(ref);
      const followed = inv.kind === 'tool' && contentRules.some((r) => r.from.some((p) => p.matches(inv.server, inv.name)));
      if ((isPrivate && provenance !== 'off') || followed) s.fingerprints.add(ref, resultTexts(result));
      return allow();
    },

    onInvoke(ctx: RequestContext, inv: Invocation): Decision {
      if (inv.kind !== 'tool') return allow();
      const s = sessions.get(ctx.session);
      const subject = `${inv.server}.${inv.name}`;
      const labels = labelsOf(inv);
      const findings: Finding[] = [];
      let scanned: { candidates: Candidate[]; truncated: boolean } | undefined;
      const candidates = () => (scanned ??= argumentCandidates(inv.arguments, { maxChars: MAX_SCAN_CHARS }));

      for (const rule of rules) {
        if (!s || !rule.to.some((p) => p.matches(inv.server, inv.name))) continue;
        if (rule.unless.length > 0 && rule.unless.every((c) => conditionHolds(inv.arguments, c.argument, c.matches))) continue;
        const fromMatches = (tool: string) => {
          const dot = tool.indexOf('.');
          return rule.from.some((p) => p.matches(tool.slice(0, dot), tool.slice(dot + 1)));
        };
        const exempt = rule.unless.length > 0 ? ` unless ${rule.unless.map((c) => `${c.argument} matches /${c.text}/`).join(' and ')}` : '';
        if (rule.match === 'session') {
          const sources = [...s.seen.values()].filter((v) => rule.from.some((p) => p.matches(v.server, v.name)));
          if (sources.length === 0) continue;
          findings.push({
            verdict: rule.action,
            code: 'FLOW_RULE',
            reason: `flow rule ${rule.index + 1} (${rule.source}): output of ${sources.map(describe).join(', ')} must not reach ${subject}${exempt}`,
            evidence: { rule: rule.index + 1, description: rule.source, sources: sources.slice(0, MAX_TAINTS).map(({ call, tool }) => ({ call, tool })) },
          });
        } else {
          const m = s.fingerprints.find(candidates().candidates, minMatch, (src) => fromMatches(src.tool));
          if (!m) continue;
          findings.push({
            verdict: rule.action,
            code: 'FLOW_RULE',
            reason: `flow rule ${rule.index + 1} (${rule.source}): argument "${m.argument}" of ${subject} carries output of ${describe(m.source)}${exempt}`,
            evidence: { rule: rule.index + 1, description: rule.source, source: m.source, argument: m.argument, encoding: m.encoding, matched_chars: m.chars },
          });
        }
      }

      if (s && labels.includes('sink') && !internal.some((d) => d.tool.matches(inv.server, inv.name) && conditionHolds(inv.arguments, d.argument, d.matches))) {
        if (provenance !== 'off' && s.privateCalls.length > 0) {
          const { candidates: cands, truncated } = candidates();
          const m = s.fingerprints.find(cands, minMatch);
          if (m) {
            const how = m.encoding === 'plain' ? '' : ` (${m.encoding}-encoded)`;
            findings.push({
              verdict: provenance,
              code: 'EXFILTRATION_BLOCKED',
              reason: `argument "${m.argument}" of ${subject} carries ${m.chars} characters${how} of what ${describe(m.source)} returned in this session; private data may not leave through a sink`,
              evidence: { source: m.source, argument: m.argument, encoding: m.encoding, matched_chars: m.chars },
            });
          } else if (truncated || s.fingerprints.overflow) {
            const from = s.fingerprints.overflow;
            findings.push({
              verdict: 'hold',
              code: 'FLOW_BUDGET_EXCEEDED',
              reason: truncated
                ? `the arguments of ${subject} are too large to check for private data (over ${MAX_SCAN_CHARS} characters decoded); held for a human`
                : `this session returned more private output than its ${budgetBytes / 1024} KiB fingerprint budget (from ${describe(from!)} on), so what ${subject} carries cannot be checked; held for a human`,
              evidence: { ...(from ? { unfingerprinted_from: from } : {}), budget_bytes: budgetBytes, truncated },
            });
          }
        }
        if (trifecta !== 'off' && s.privateCalls.length > 0 && s.untrustedCalls.length > 0) {
          findings.push({
            verdict: trifecta,
            code: 'FLOW_TRIFECTA',
            reason:
              `this session read private data (${s.privateCalls.map(describe).join(', ')}) and ingested untrusted content (${s.untrustedCalls.map(describe).join(', ')}); ` +
              `calls to sinks such as ${subject} are ${trifecta === 'hold' ? 'held for a human' : 'refused'} (flow.trifecta: ${trifecta})`,
            evidence: { private: s.privateCalls, untrusted: s.untrustedCalls },
          });
        }
      }

      if (findings.length === 0) return allow(labels.includes('sink') ? 'no private data, no tainted session, no flow rule' : 'not a sink');
      const order = ['EXFILTRATION_BLOCKED', 'FLOW_RULE', 'FLOW_BUDGET_EXCEEDED', 'FLOW_TRIFECTA'];
      findings.sort((a, b) => (a.verdict === b.verdict ? order.indexOf(a.code) - order.indexOf(b.code) : a.verdict === 'deny' ? -1 : 1));
      const [top, ...rest] = findings;
      return {
        verdict: top.verdict,
        code: top.code,
        reason: top.reason,
        detail: { ...top.evidence, ...(rest.length > 0 ? { also: rest.map((f) => ({ code: f.code, verdict: f.verdict, ...f.evidence })) } : {}) },
      };
    },
  };
}

function describe(ref: SourceRef): string {
  return `${ref.tool} (call ${ref.call})`;
}

/** The argument is a string (or a non-empty list of strings) and every one matches. */
function conditionHolds(args: Record<string, unknown>, argument: string, re: RegExp): boolean {
  const v = args[argument];
  if (typeof v === 'string') return re.test(v);
  if (Array.isArray(v) && v.length > 0) return v.every((x) => typeof x === 'string' && re.test(x));
  return false;
}
