/**
 * Secrets and personal data in tool results and call arguments.
 *
 * Secrets: cloud keys (AWS, Google, Azure), GitHub/GitLab/Slack/Stripe/npm/
 * OpenAI/Anthropic/SendGrid tokens, private key blocks, JWTs, connection
 * strings and URLs with a password, bearer tokens, and high-entropy values next
 * to key-like names (`api_key=…`, `"client_secret": "…"`).
 *
 * PII: e-mail addresses, phone numbers, payment card numbers (Luhn-checked,
 * known issuer prefixes), IBANs (mod-97 checked), US social security numbers
 * and UK national insurance numbers.
 *
 * Findings carry a kind and offsets only, never the matched value, so they can
 * be logged and audited as they are.
 */

export type SecretKind =
  | 'aws_access_key_id'
  | 'aws_secret_access_key'
  | 'google_api_key'
  | 'azure_storage_key'
  | 'github_token'
  | 'gitlab_token'
  | 'slack_token'
  | 'slack_webhook'
  | 'stripe_key'
  | 'npm_token'
  | 'openai_key'
  | 'anthropic_key'
  | 'sendgrid_key'
  | 'private_key'
  | 'jwt'
  | 'connection_string'
  | 'bearer_token'
  | 'password'
  | 'high_entropy_secret';

export type PiiKind = 'email' | 'phone' | 'payment_card' | 'iban' | 'us_ssn' | 'uk_nino';

export interface Finding {
  kind: SecretKind | PiiKind;
  category: 'secret' | 'pii';
  /** UTF-16 offsets [start, end) of the sensitive part (for a connection string: the password). */
  start: number;
  end: number;
}

export interface FindOptions {
  /** Look for secrets (default true). */
  secrets?: boolean;
  /** Look for PII (default true). */
  pii?: boolean;
}

interface Pattern {
  kind: SecretKind | PiiKind;
  category: 'secret' | 'pii';
  re: RegExp;
  /** Capture group holding the sensitive part (default: whole match). */
  group?: number;
  check?: (value: string, match: RegExpExecArray) => boolean;
  /** Cheap test on the whole text; the pattern is skipped when it fails. */
  pre?: RegExp;
}

/** Shannon entropy in bits per character. */
export function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  const n = s.length;
  for (const c of counts.values()) {
    const p = c / n;
    h -= p * Math.log2(p);
  }
  return h;
}

/** Luhn checksum over the digits of s. */
export function luhnValid(s: string): boolean {
  const d = s.replace(/\D/g, '');
  if (d.length < 12) return false;
  let sum = 0;
  let alt = false;
  for (let i = d.length - 1; i >= 0; i--) {
    let x = d.charCodeAt(i) - 48;
    if (alt) {
      x *= 2;
      if (x > 9) x -= 9;
    }
    sum += x;
    alt = !alt;
  }
  return sum % 10 === 0;
}

function cardIssuer(d: string): boolean {
  const n = d.length;
  const p2 = Number(d.slice(0, 2));
  const p3 = Number(d.slice(0, 3));
  const p4 = Number(d.slice(0, 4));
  const p6 = Number(d.slice(0, 6));
  if (d[0] === '4') return n === 13 || n === 16 || n === 19; // Visa
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return n === 16; // Mastercard
  if (p2 === 34 || p2 === 37) return n === 15; // Amex
  if (p4 === 6011 || p2 === 65 || (p3 >= 644 && p3 <= 649) || (p6 >= 622126 && p6 <= 622925)) return n >= 16 && n <= 19; // Discover
  if (p4 >= 3528 && p4 <= 3589) return n >= 16 && n <= 19; // JCB
  if (p2 === 36 || p2 === 38 || p2 === 39 || (p3 >= 300 && p3 <= 305)) return n >= 14 && n <= 19; // Diners
  if (p2 === 62) return n >= 16 && n <= 19; // UnionPay
  if (['50', '56', '57', '58', '63', '67'].includes(d.slice(0, 2))) return n >= 12 && n <= 19; // Maestro
  return false;
}

export function ibanValid(s: string): boolean {
  const x = s.replace(/[\s-]/g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(x)) return false;
  const r = x.slice(4) + x.slice(0, 4);
  let rem = 0;
  for (const ch of r) {
    const v = ch >= 'A' ? String(ch.charCodeAt(0) - 55) : ch;
    for (const digit of v) rem = (rem * 10 + (digit.charCodeAt(0) - 48)) % 97;
  }
  return rem === 1;
}

const PLACEHOLDER = /^(?:<[^>]*>|\$\{[^}]*\}|\$[A-Z_][A-Z0-9_]*|\{\{[^}]*\}\}|%[A-Z_]+%|\*+|x{3,}|X{3,}|\.{3}|…|null|none|nil|undefined|string|str|true|false|required|optional|redacted|\[redacted\]|\[redacted:[a-z_]+\]|your[-_ ]?\w*|example\w*|changeme|password|secret|token|test|dummy|placeholder|\*\*\*)$/i;

/** Names that mark the value after them as a credential. */
const KEY_NAME = String.raw`(?:api[_-]?key|apikey|secret[_-]?key|secret|client[_-]?secret|access[_-]?token|auth[_-]?token|refresh[_-]?token|session[_-]?token|token|private[_-]?key|access[_-]?key(?:[_-]?id)?|secret[_-]?access[_-]?key|signing[_-]?key|encryption[_-]?key|master[_-]?key|credentials?|auth|x-api-key|api[_-]?secret|app[_-]?secret|consumer[_-]?secret|webhook[_-]?secret)`;
const PW_NAME = String.raw`(?:password|passwd|pwd|pass|passphrase|db[_-]?password|admin[_-]?password)`;

const PATTERNS: Pattern[] = [
  { kind: 'private_key', pre: /PRIVATE KEY/, category: 'secret', re: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|$)/g },
  { kind: 'aws_access_key_id', pre: /A[KSBCGIRPN][A-Z]{2}[0-9A-Z]{16}/, category: 'secret', re: /\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[0-9A-Z]{16}\b/g },
  { kind: 'aws_secret_access_key', pre: /secret/i, category: 'secret', re: /(?:aws[_-]?secret[_-]?access[_-]?key|aws[_-]?secret|secret[_-]?access[_-]?key)["']?\s*[:=]\s*["']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/gi, group: 1 },
  { kind: 'google_api_key', pre: /AIza/, category: 'secret', re: /\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g },
  { kind: 'azure_storage_key', pre: /AccountKey=/, category: 'secret', re: /AccountKey=([A-Za-z0-9+/]{80,}={0,2})/g, group: 1 },
  { kind: 'github_token', pre: /gh[pousr]_|github_pat_/, category: 'secret', re: /\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b/g },
  { kind: 'gitlab_token', pre: /gl[a-z]{2,4}-/, category: 'secret', re: /\b(?:glpat|gldt|glptt|glrt|glsoat|glcbt|gloas)-[A-Za-z0-9_-]{20,}\b/g },
  { kind: 'slack_token', pre: /xox/, category: 'secret', re: /\bxox(?:[abposr]|e\.xox[bp])-[A-Za-z0-9-]{10,}\b/g },
  { kind: 'slack_webhook', pre: /hooks\.slack\.com/, category: 'secret', re: /https:\/\/hooks\.slack\.com\/(?:services|workflows)\/[A-Za-z0-9/_-]{20,}/g },
  { kind: 'stripe_key', pre: /_(?:live|test)_/, category: 'secret', re: /\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{20,}\b/g, check: (v) => !v.startsWith('pk_') },
  { kind: 'npm_token', pre: /npm_/, category: 'secret', re: /\bnpm_[A-Za-z0-9]{36}\b/g },
  { kind: 'anthropic_key', pre: /sk-ant-/, category: 'secret', re: /\bsk-ant-[A-Za-z0-9_-]{20,}/g },
  { kind: 'openai_key', pre: /sk-/, category: 'secret', re: /\bsk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{32,}/g, check: (v) => /\d/.test(v) && /[A-Z]/.test(v) && /[a-z]/.test(v) },
  { kind: 'sendgrid_key', pre: /SG\./, category: 'secret', re: /\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b/g },
  { kind: 'jwt', pre: /eyJ/, category: 'secret', re: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}/g },
  {
    kind: 'connection_string',
    category: 'secret',
    pre: /:\/\/[^\s@]*@/,
    re: /\b[a-z][a-z0-9+.-]{1,20}:\/\/[^\s:/@'"<>]{1,128}:([^\s@/'"<>]{1,256})@[^\s/'"<>]+/gi,
    group: 1,
    check: (pw) => !PLACEHOLDER.test(pw),
  },
  { kind: 'bearer_token', pre: /bearer/i, category: 'secret', re: /\b(?:authorization\s*[:=]\s*["']?)?bearer\s+([A-Za-z0-9_\-.~+/]{20,}=*)/gi, group: 1, check: (v) => entropy(v) >= 3 },
  {
    kind: 'password',
    category: 'secret',
    pre: /pass|pwd/i,
    re: new RegExp(String.raw`(?<![A-Za-z0-9])["']?${PW_NAME}["']?\s*(?:[:=]|=>)\s*(?:"([^"\n]{4,128})"|'([^'\n]{4,128})'|([^\s"',;}{)\]]{4,128}))`, 'gi'),
    group: -1,
    check: (v) => !PLACEHOLDER.test(v.trim()) && !/^\s*$/.test(v) && !/^[a-z]+\(/.test(v),
  },
  {
    kind: 'high_entropy_secret',
    category: 'secret',
    pre: /key|secret|token|auth|credential/i,
    re: new RegExp(String.raw`(?<![A-Za-z0-9])["']?[A-Za-z0-9_.-]*${KEY_NAME}["']?\s*(?:[:=]|=>)\s*["']?([A-Za-z0-9_\-+/=.~]{16,512})`, 'gi'),
    group: 1,
    check: (v) => !PLACEHOLDER.test(v) && entropy(v) >= 3.3 && /\d/.test(v) && /[A-Za-z]/.test(v),
  },
  // PII
  { kind: 'email', pre: /@/, category: 'pii', re: /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,24}(?![A-Za-z0-9-])/g },
  {
    kind: 'payment_card',
    category: 'pii',
    pre: /\d{4}/,
    re: /(?<![\d.-])(?:\d[ -]?){11,18}\d(?![\d.-]|[ -]\d)/g,
    check: (v) => {
      const d = v.replace(/\D/g, '');
      return d.length >= 12 && d.length <= 19 && cardIssuer(d) && luhnValid(d) && !/^(\d)\1+$/.test(d);
    },
  },
  { kind: 'iban', pre: /[A-Z]{2}\d{2}/, category: 'pii', re: /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b/g, check: (v) => ibanValid(v) },
  { kind: 'us_ssn', pre: /\d{3}-\d{2}-\d{4}/, category: 'pii', re: /\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b/g },
  { kind: 'uk_nino', pre: /[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]/, category: 'pii', re: /\b(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b/g },
  {
    kind: 'phone',
    category: 'pii',
    pre: /\d{3}/,
    re: /(?<![\w+])(?:\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){2,4}|\(\d{3}\) ?\d{3}[ .-]\d{4}|\d{3}[.-]\d{3}[.-]\d{4})(?![\w])/g,
    check: (v) => {
      const d = v.replace(/\D/g, '').length;
      return d >= 8 && d <= 15 && !/^\d{4}-\d{2}-\d{2}/.test(v);
    },
  },
];

/**
 * Quick test: text that passes none of these cannot hold a finding. It is the
 * one regular expression
 *   /[@:=]|-----BEGIN|\d{3}|[A-Z]{2}\d{2}|\b(?:AKIA|ASIA|AIza|gh[pousr]_|github_pat_|gl[a-z]+-|xox|sk[-_]|rk_|npm_|SG\.|eyJ|bearer)/i
 * taken apart, because that alternation, tried at every position of every
 * result, was the largest single JS cost of output screening (~30 µs per 4 KB
 * of plain text); the pieces below answer the same for every string (a fuzz
 * test checks that) in less than half the time: plain character searches
 * first, the digit rules only where two digits stand together, and the token
 * prefixes factored by their first letter.
 */
const MAYBE_BEGIN = /-----BEGIN/i;
const MAYBE_DIGITS = /\d{3}|[A-Z]{2}\d{2}/i;
const MAYBE_PREFIX = /\b(?:a(?:kia|sia|iza)|g(?:h[pousr]_|ithub_pat_|l[a-z]+-)|xox|sk[-_]|rk_|npm_|sg\.|eyj|bearer)/i;

export function mayHoldFinding(text: string): boolean {
  return (
    text.includes('@') ||
    text.includes(':') ||
    text.includes('=') ||
    (text.includes('-----') && MAYBE_BEGIN.test(text)) ||
    (/\d\d/.test(text) && MAYBE_DIGITS.test(text)) ||
    MAYBE_PREFIX.test(text)
  );
}

/** Find secrets and PII in a string. Overlapping findings keep the earliest, longest one. */
export function findSecrets(text: string, opts: FindOptions = {}): Finding[] {
  const wantSecrets = opts.secrets ?? true;
  const wantPii = opts.pii ?? true;
  if (!text || !mayHoldFinding(text)) return [];
  const found: Finding[] = [];
  for (const p of PATTERNS) {
    if (p.category === 'secret' ? !wantSecrets : !wantPii) continue;
    if (p.pre && !p.pre.test(text)) continue;
    p.re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = p.re.exec(text)) !== null) {
      if (m[0].length === 0) {
        p.re.lastIndex++;
        continue;
      }
      let value = m[0];
      let start = m.index;
      if (p.group !== undefined) {
        const g = p.group === -1 ? [1, 2, 3, 4].find((i) => m![i] !== undefined) : p.group;
        if (g === undefined || m[g] === undefined) continue;
        value = m[g];
        start = m.index + m[0].lastIndexOf(value);
      }
      if (p.check && !p.check(value, m)) continue;
      found.push({ kind: p.kind, category: p.category, start, end: start + value.length });
    }
  }
  // Secrets win over PII on overlap (a URL password is not an e-mail address); then earliest, longest.
  found.sort((a, b) => (a.category === b.category ? 0 : a.category === 'secret' ? -1 : 1) || a.start - b.start || b.end - a.end);
  const out: Finding[] = [];
  for (const f of found) {
    if (out.some((g) => f.start < g.end && g.start < f.end)) continue;
    out.push(f);
  }
  out.sort((a, b) => a.start - b.start);
  return out;
}

export interface RedactOptions extends FindOptions {
  /** Replacement; `{kind}` is replaced by the finding's kind. Default `[REDACTED:{kind}]`. */
  replacement?: string;
}

export interface SecretCount {
  kind: SecretKind | PiiKind;
  category: 'secret' | 'pii';
  count: number;
}

/**
 * Findings by string, per value whose strings are scanned more than once with
 * the same options in one call: a call's arguments are scanned by output
 * screening and again, with the audit record, by the gateway. Keyed by the
 * value's identity, so nothing is shared between calls, and by each string's
 * content, so a string changed in between is scanned afresh.
 */
const sharedScans = new WeakMap<object, Map<string, Finding[]>>();

/**
 * The memo that {@link redactText} and {@link redactSecrets} share for
 * `value` when they scan for secrets only (`{ secrets: true, pii: false }`,
 * default replacement): pass it to redactText; redactSecrets finds it itself.
 */
export function sharedScanMemo(value: object): Map<string, Finding[]> {
  let memo = sharedScans.get(value);
  if (!memo) sharedScans.set(value, (memo = new Map()));
  return memo;
}

const secretsOnly = (opts: RedactOptions) => opts.secrets !== false && opts.pii === false && opts.replacement === undefined;

/** Redact findings in one string. `memo` holds earlier findings made with the same options. */
export function redactText(text: string, opts: RedactOptions = {}, memo?: Map<string, Finding[]>): { text: string; found: Finding[] } {
  let found = memo?.get(text);
  if (!found) {
    found = findSecrets(text, opts);
    memo?.set(text, found);
  }
  if (!found.length) return { text, found };
  const rep = opts.replacement ?? '[REDACTED:{kind}]';
  let out = '';
  let last = 0;
  for (const f of found) {
    out += text.slice(last, f.start) + rep.replace('{kind}', f.kind);
    last = f.end;
  }
  return { text: out + text.slice(last), found };
}

/**
 * Redact secrets (and PII unless `pii: false`) in every string of a JSON-like
 * value: tool results, resource contents, or a call's arguments. Values under
 * key names that are themselves credential names (`password`, `apiKey`,
 * `client_secret`, `token`…) are redacted whole. Returns a copy (unchanged
 * subtrees shared) and the counts per kind.
 */
export function redactSecrets<T>(value: T, opts: RedactOptions = {}): { value: T; found: SecretCount[] } {
  const counts = new Map<string, SecretCount>();
  const add = (kind: SecretKind | PiiKind, category: 'secret' | 'pii') => {
    const k = kind;
    const c = counts.get(k);
    if (c) c.count++;
    else counts.set(k, { kind, category, count: 1 });
  };
  const rep = opts.replacement ?? '[REDACTED:{kind}]';
  const memo = value !== null && typeof value === 'object' && secretsOnly(opts) ? sharedScans.get(value) : undefined;
  const seen = new WeakSet<object>();
  const walk = (v: unknown, key: string | undefined, depth: number): unknown => {
    if (typeof v === 'string') {
      if (key !== undefined && (opts.secrets ?? true) && isCredentialKey(key) && v.length >= 4 && !PLACEHOLDER.test(v.trim())) {
        const kind: SecretKind = /pass|pwd/i.test(key) ? 'password' : 'high_entropy_secret';
        add(kind, 'secret');
        return rep.replace('{kind}', kind);
      }
      const r = redactText(v, opts, memo);
      for (const f of r.found) add(f.kind, f.category);
      return r.text;
    }
    if (v === null || typeof v !== 'object' || depth > 64 || seen.has(v)) return v;
    seen.add(v);
    if (Array.isArray(v)) {
      let out: unknown[] | undefined;
      for (let i = 0; i < v.length; i++) {
        const nv = walk(v[i], key, depth + 1);
        if (nv !== v[i]) (out ??= v.slice())[i] = nv;
      }
      return out ?? v;
    }
    const o = v as Record<string, unknown>;
    let out: Record<string, unknown> | undefined;
    for (const k of Object.keys(o)) {
      if (k === 'blob' || (k === 'data' && (o.type === 'image' || o.type === 'audio'))) continue;
      const nv = walk(o[k], k, depth + 1);
      if (nv !== o[k]) (out ??= { ...o })[k] = nv;
    }
    return out ?? o;
  };
  const out = walk(value, undefined, 0) as T;
  return { value: out, found: [...counts.values()].sort((a, b) => (a.kind < b.kind ? -1 : 1)) };
}

/** Key names whose string value is a credential, whatever it looks like. */
export function isCredentialKey(key: string): boolean {
  const k = key.toLowerCase().replace(/[-_\s]/g, '');
  if (['password', 'passwd', 'pwd', 'passphrase', 'secret', 'clientsecret', 'apikey', 'apisecret', 'accesstoken', 'refreshtoken', 'authtoken', 'sessiontoken', 'privatekey', 'secretkey', 'secretaccesskey', 'accesskeyid', 'bearertoken', 'idtoken', 'xapikey', 'authorization', 'cookie', 'setcookie'].includes(k)) return true;
  return /(?:password|passwd|secret|apikey|privatekey|accesstoken|authtoken)$/.test(k);
}

/** Count findings per kind (for audit records and block decisions). */
export function summarise(found: Finding[]): SecretCount[] {
  const m = new Map<string, SecretCount>();
  for (const f of found) {
    const c = m.get(f.kind);
    if (c) c.count++;
    else m.set(f.kind, { kind: f.kind, category: f.category, count: 1 });
  }
  return [...m.values()].sort((a, b) => (a.kind < b.kind ? -1 : 1));
}
