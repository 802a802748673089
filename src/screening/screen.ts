/**
 * One call that applies the whole screening layer to an MCP result (or a
 * call's arguments): sanitise hidden content, redact secrets (and PII if asked),
 * and score the remaining text for prompt injection. This is what an output
 * guard's `onResult` needs; the guard maps the outcome to a decision.
 */
import { detectInjection, type Detection, type TextKind } from './detector.js';
import { sanitise, type Removal, type SanitiseOptions } from './sanitise.js';
import { redactSecrets, type SecretCount } from './secrets.js';

export interface ScreenOptions extends SanitiseOptions {
  /** Run the injection detector (default true). */
  detect?: boolean;
  kind?: TextKind;
  /** Score threshold override (0.5 = shipped). */
  threshold?: number;
  /** Redact secrets (default true). */
  secrets?: boolean;
  /** Redact PII too (default false: tool results legitimately carry e-mail addresses and phone numbers). */
  pii?: boolean;
}

export interface ScreenOutcome<T> {
  /** The sanitised and redacted value. */
  value: T;
  /** What the sanitiser removed. */
  removed: Removal[];
  /** Secrets/PII redacted, by kind (never values). */
  secrets: SecretCount[];
  /** Injection verdict over the value's text (the most suspicious string decides). */
  injection?: Detection & { path?: string };
}

/** Strings of an MCP value with their JSON paths, skipping binary fields. */
export function textsOf(value: unknown, maxStrings = 10_000): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  const seen = new WeakSet<object>();
  const walk = (v: unknown, path: string, depth: number) => {
    if (out.length >= maxStrings) return;
    if (typeof v === 'string') {
      if (v.length) out.push({ path, text: v });
      return;
    }
    if (v === null || typeof v !== 'object' || depth > 64 || seen.has(v)) return;
    seen.add(v);
    if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, `${path}[${i}]`, depth + 1));
      return;
    }
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (k === 'blob' || (k === 'data' && (o.type === 'image' || o.type === 'audio')) || k === 'mimeType' || k === 'type') continue;
      walk(o[k], path ? `${path}.${k}` : k, depth + 1);
    }
  };
  walk(value, '', 0);
  return out;
}

/** Detect over every string of a value; the highest score wins. */
export function detectInValue(value: unknown, opts: { kind?: TextKind; threshold?: number } = {}): (Detection & { path?: string }) | undefined {
  let best: (Detection & { path?: string }) | undefined;
  for (const { path, text } of textsOf(value)) {
    const d = detectInjection(text, opts);
    if (!best || d.score > best.score) best = { ...d, path };
  }
  return best;
}

export function screenValue<T>(value: T, opts: ScreenOptions = {}): ScreenOutcome<T> {
  const s = sanitise(value, opts);
  let v = s.value;
  let secrets: SecretCount[] = [];
  if (opts.secrets ?? true) {
    const r = redactSecrets(v, { secrets: true, pii: opts.pii ?? false });
    v = r.value;
    secrets = r.found;
  }
  const injection = opts.detect === false ? undefined : detectInValue(v, { kind: opts.kind, threshold: opts.threshold });
  return { value: v, removed: s.removed, secrets, injection };
}
