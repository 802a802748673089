/**
 * Secret redaction for audit records.
 *
 * The audit log is meant to be shipped to a SIEM and read by people who must
 * not thereby learn credentials an agent passed to a tool. Redaction happens
 * before hashing, so the hash chain commits to the redacted form and the secret
 * never reaches the disk at all.
 */

export const REDACTED = '[REDACTED]';
export const TRUNCATED = '[TRUNCATED]';
export const CIRCULAR = '[CIRCULAR]';

/** Values nested deeper than this are replaced by {@link TRUNCATED}. */
export const MAX_REDACT_DEPTH = 32;

// Key names are compared after lower-casing and dropping '-' and '_', so
// `Client_Secret`, `client-secret` and `clientSecret` all read `clientsecret`.

/** Secret wherever it appears in the key (`newPassword`, `passwordHash`, `awsSecretAccessKey`). */
const SECRET_SUBSTRINGS = [
  'password',
  'passwd',
  'passphrase',
  'secret',
  'credential',
  'apikey',
  'accesskey',
  'privatekey',
  'sessionkey',
];

/**
 * Secret only as a suffix. `token` in particular: `githubToken`, `auth_token`
 * and `access_token` are credentials, but `max_tokens`, `tokens_used` and
 * `token_count` are LLM usage counters that an audit reader needs to see.
 */
const SECRET_SUFFIXES = ['token', 'authorization', 'cookie'];

/** Too short to match inside other words without false hits (`otp` in `footprint`). */
const SECRET_EXACT = new Set(['pwd', 'otp', 'totp']);

/** True if a key of this name holds a secret and its value must not be logged. */
export function isSecretKey(key: string): boolean {
  let known = keyCache.get(key);
  if (known === undefined) {
    known = classifyKey(key);
    // Argument key names repeat endlessly (path, content, query...), so
    // remember verdicts; the bound keeps attacker-chosen key names from
    // growing the cache without limit.
    if (key.length <= KEY_CACHE_MAX_KEY_LENGTH) {
      if (keyCache.size >= KEY_CACHE_MAX) keyCache.clear();
      keyCache.set(key, known);
    }
  }
  return known;
}

const KEY_CACHE_MAX = 4096;
const KEY_CACHE_MAX_KEY_LENGTH = 64;
const keyCache = new Map<string, boolean>();

function classifyKey(key: string): boolean {
  const k = key.toLowerCase().replace(/[-_]/g, '');
  if (SECRET_EXACT.has(k)) return true;
  for (const s of SECRET_SUFFIXES) if (k.endsWith(s)) return true;
  for (const s of SECRET_SUBSTRINGS) if (k.includes(s)) return true;
  return false;
}

/**
 * Deep copy of `value` in which the value of every secret-named key (see
 * {@link isSecretKey}), at any depth and inside arrays, is the string "[REDACTED]".
 *
 * The copy is also plain JSON data, following JSON.stringify's rules (toJSON is
 * honoured, undefined/functions/symbols are dropped from objects and become
 * null in arrays, non-finite numbers become null) except that bigints become
 * decimal strings instead of throwing. That matters because the record is
 * hashed and then written: anything that did not survive a JSON round trip
 * would make a genuine record fail verification.
 *
 * Never throws on hostile input: cycles become "[CIRCULAR]" and anything deeper
 * than {@link MAX_REDACT_DEPTH} becomes "[TRUNCATED]".
 */
export function redactSecretFields(value: unknown): unknown {
  const out = copy(value, 0, { ancestors: new Set(), sortKeys: false, arrayIndexKey: false });
  return out === undefined ? null : out;
}

/**
 * {@link redactSecretFields}, with object keys in RFC 8785 order (UTF-16 code
 * units, which is what Array#sort does). The copy's JSON.stringify is then
 * already its canonical form, letting the writer hash it with one native call,
 * unless `canonical` is false: an array-index key like "10" is enumerated by
 * JavaScript in numeric order, before other keys, whatever the insertion order.
 */
export function redactForRecord(value: unknown): { value: unknown; canonical: boolean } {
  const ctx: CopyContext = { ancestors: new Set(), sortKeys: true, arrayIndexKey: false };
  const out = copy(value, 0, ctx);
  return { value: out === undefined ? null : out, canonical: !ctx.arrayIndexKey };
}

interface CopyContext {
  /** Objects on the path from the root, for cycle detection. */
  ancestors: Set<object>;
  sortKeys: boolean;
  /** Set when a key that JavaScript enumerates out of insertion order was copied. */
  arrayIndexKey: boolean;
}

const ARRAY_INDEX_LIKE = /^\d+$/;

function copy(value: unknown, depth: number, ctx: CopyContext): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'bigint':
      return value.toString();
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return null;

  let obj = value as object;
  const toJSON = (obj as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    let converted: unknown;
    try {
      converted = toJSON.call(obj);
    } catch {
      return '[UNSERIALIZABLE]';
    }
    if (converted === null || typeof converted !== 'object') return copy(converted, depth, ctx);
    obj = converted;
  }

  if (depth >= MAX_REDACT_DEPTH) return TRUNCATED;
  // Only ancestors count as a cycle: the same object reached twice through
  // different paths is legitimate shared data and is copied both times.
  const { ancestors } = ctx;
  if (ancestors.has(obj)) return CIRCULAR;
  ancestors.add(obj);
  try {
    if (Array.isArray(obj)) {
      const arr: unknown[] = new Array(obj.length);
      for (let i = 0; i < obj.length; i++) {
        const v = copy(obj[i], depth + 1, ctx);
        arr[i] = v === undefined ? null : v;
      }
      return arr;
    }
    const result: Record<string, unknown> = {};
    const keys = Object.keys(obj);
    if (ctx.sortKeys) keys.sort();
    for (const key of keys) {
      let v: unknown;
      if (isSecretKey(key)) {
        v = REDACTED;
      } else {
        let raw: unknown;
        try {
          raw = (obj as Record<string, unknown>)[key];
        } catch {
          raw = '[UNSERIALIZABLE]'; // a throwing getter must not take the audit path down
        }
        v = copy(raw, depth + 1, ctx);
      }
      if (v === undefined) continue;
      if (ctx.sortKeys && !ctx.arrayIndexKey && ARRAY_INDEX_LIKE.test(key)) ctx.arrayIndexKey = true;
      if (key === '__proto__') {
        // Assignment would set the copy's prototype instead of copying an own
        // "__proto__" key (JSON.parse makes those), so define it explicitly.
        Object.defineProperty(result, key, { value: v, enumerable: true, writable: true, configurable: true });
      } else {
        result[key] = v;
      }
    }
    return result;
  } finally {
    ancestors.delete(obj);
  }
}
