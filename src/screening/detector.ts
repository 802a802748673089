/**
 * Prompt-injection detector: rules (layer 1) + the shipped classifier
 * (layer 2), all local. An optional LLM judge (layer 3) is not part of this
 * module.
 *
 *   detectInjection(text, { kind: 'tool_output' }) -> { score, flagged, reasons }
 *
 * `score` is in [0, 1] and calibrated so that `flagged` is `score >= 0.5` at the
 * shipped threshold for the kind (chosen on validation data for FPR <= 1%; see
 * docs/detection.md). Reasons name what fired: `rule:<id>`, `classifier`,
 * `hidden:tag-characters`, `hidden:invisible-characters`, `homoglyphs`,
 * `encoded:base64`.
 */
import { decodeBase64Runs } from './decode.js';
import { InjectionModel, type ModelFile, type TextKind } from './model.js';
import { applyRules, metaWordCount, type RuleHit } from './rules.js';
import { tokenise } from './tokenise.js';
import { MODEL } from './model/detector-model.js';

export type { TextKind } from './model.js';

export interface DetectOptions {
  /** What the text is: a tool's output (default) or a tool's description (admission screening). */
  kind?: TextKind;
  /**
   * Override the flag threshold, as a score in (0, 1). The default 0.5 is the
   * shipped, calibrated threshold; raise it for fewer false positives.
   */
  threshold?: number;
}

export interface Detection {
  /** Probability-like score in [0, 1]; 0.5 is the shipped threshold. */
  score: number;
  flagged: boolean;
  /** What contributed, most important first. Never contains the text itself. */
  reasons: string[];
  /** UTF-16 offsets [start, end) of the most suspicious part of the text (best window or rule match). */
  span?: [number, number];
}

/** Logit boost for text hidden in Unicode tag characters (an ASCII-smuggling channel with no benign use in prose). */
const TAG_BOOST = 4;
const TAG_MIN = 8;
/** Logit boost when several words mix Latin letters with look-alikes from other scripts. */
const HOMOGLYPH_BOOST = 1.5;
const HOMOGLYPH_MIN = 2;
/** A best window surrounded by at least META_MIN distinct "about injections" words loses META_PENALTY logits. */
const META_MIN = 2;
const META_PENALTY = 3;
const META_REACH = 48;
/** A rule boost this high (an override phrase or chat-template token, not quoted) is decisive on its own. */
const UNAMBIGUOUS = 6;
/** Decoded payloads are screened recursively up to this depth. */
const MAX_DEPTH = 2;

interface Raw {
  logit: number;
  modelLogit: number;
  boost: number;
  reasons: string[];
  span?: [number, number];
}

export class InjectionDetector {
  readonly model: InjectionModel;

  constructor(file: ModelFile = MODEL) {
    this.model = new InjectionModel(file);
  }

  /** Raw decision logit before thresholding (used for evaluation and calibration). */
  logit(text: string, kind: TextKind = 'tool_output'): number {
    return this.raw(text, kind, 0).logit;
  }

  detect(text: string, opts: DetectOptions = {}): Detection {
    const kind = opts.kind ?? 'tool_output';
    const r = this.raw(text, kind, 0);
    const thr = this.model.threshold(kind);
    const score = sigmoid(r.logit - thr);
    const cut = opts.threshold ?? 0.5;
    const flagged = score >= cut;
    const reasons = r.reasons.slice();
    if (sigmoid(r.modelLogit - thr) >= 0.5) reasons.unshift('classifier');
    return { score: round4(score), flagged, reasons: dedupe(reasons), span: r.span };
  }

  private raw(text: string, kind: TextKind, depth: number): Raw {
    const t = tokenise(text);
    const ws = this.model.scoreTokens(t, kind);
    let span: [number, number] | undefined = ws.end > ws.start ? [t.start[ws.start], t.end[ws.end - 1]] : undefined;
    const reasons: string[] = [];
    let boost = 0;
    const hits: RuleHit[] = applyRules(text, t, kind);
    let bestHit: RuleHit | undefined;
    for (const h of hits) {
      reasons.push(`rule:${h.id}${h.damped ? '(quoted)' : ''}`);
      if (h.boost > boost) {
        boost = h.boost;
        bestHit = h;
      }
    }
    if (t.tags >= TAG_MIN) {
      reasons.push('hidden:tag-characters');
      boost = Math.max(boost, TAG_BOOST);
    } else if (t.tags > 0) {
      reasons.push('hidden:tag-characters');
    }
    if (t.hidden > 0) reasons.push('hidden:invisible-characters');
    if (t.homoglyphWords >= HOMOGLYPH_MIN) {
      reasons.push('homoglyphs');
      boost = Math.max(boost, HOMOGLYPH_BOOST);
    }
    let modelLogit = ws.logit;
    // An unambiguous rule match that is not quoted is never discounted by its surroundings.
    if (boost < UNAMBIGUOUS && ws.end > ws.start && metaWordCount(text, t, ws.start - META_REACH, ws.end + META_REACH) >= META_MIN) {
      modelLogit -= META_PENALTY;
      reasons.push('context:discusses-injection');
    }
    // Decode base64 runs (copy the offsets: decoding re-uses the token buffer).
    const runs = t.b64.length && depth < MAX_DEPTH ? t.b64.slice() : [];
    if (runs.length) {
      for (const decoded of decodeBase64Runs(text, runs)) {
        const sub = this.raw(decoded, kind, depth + 1);
        if (sub.logit > modelLogit + boost) {
          reasons.push('encoded:base64', ...sub.reasons);
          modelLogit = Math.max(modelLogit, sub.modelLogit);
          boost = Math.max(boost, sub.boost);
          span = undefined;
        }
      }
    }
    // A rule match is often only the trigger ("ignore your previous instructions"); the
    // classifier's window around it also holds what the injection asks for, so a
    // redaction of the span removes both.
    if (bestHit && bestHit.boost >= 3) span = span && span[0] < bestHit.end && bestHit.start < span[1] ? [Math.min(span[0], bestHit.start), Math.max(span[1], bestHit.end)] : [bestHit.start, bestHit.end];
    return { logit: modelLogit + boost, modelLogit, boost, reasons, span };
  }
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}
function round4(x: number): number {
  return Math.round(x * 10000) / 10000;
}
function dedupe(a: string[]): string[] {
  return [...new Set(a)];
}

let shared: InjectionDetector | undefined;

/** The detector with the shipped model (created on first use). */
export function defaultDetector(): InjectionDetector {
  return (shared ??= new InjectionDetector());
}

/** Screen one text for prompt injection with the shipped model. */
export function detectInjection(text: string, opts: DetectOptions = {}): Detection {
  return defaultDetector().detect(text, opts);
}
