/**
 * Content provenance: remembers what private tools returned, as Bloom filters
 * of 16-character shingles of the normalised text, and finds that content again
 * in a later call's arguments, also when base64-, hex- or URL-encoded.
 *
 * Choice: encoded forms are handled by decoding the sink call's arguments, not by
 * fingerprinting encodings of the output. Fingerprinting every encoding would
 * multiply the stored shingles (base64 alone has three alignments for every
 * substring) and still miss nested encodings; decoding is linear in the
 * arguments, happens only on sink calls, and handles base64 of URL-encoded text.
 *
 * Normalisation (both sides): Unicode NFKC, lower case, every whitespace and
 * format character removed — reflowed, re-indented or re-cased text still matches.
 *
 * Matching: a hit is a run of consecutive shingles all present in one source's
 * filter, covering at least `minMatch` normalised characters (default 32, i.e. 17
 * shingles). Requiring a run makes false positives vanishingly rare even for a
 * full filter: at 8 bits per shingle and 3 hash functions one probe is a false
 * positive with p ≈ 3.1 %, so a 17-long run is ≈ 2e-26 per position; at the
 * 4-bits floor used when the budget is tight p ≈ 14.7 %, ≈ 7e-15.
 *
 * Memory: each private result gets its own filter (so a hit names the call whose
 * output leaked), sized 8 bits per shingle rounded up to a power of two (at least
 * 128 bytes), shrunk towards 4 bits per shingle when the session budget is tight.
 * The filters of one session never exceed the budget (default 64 KiB ≈ 64–128 K
 * normalised characters of private output). Past it, further private output is
 * not fingerprinted and the session is marked overflowed: the guard then holds
 * sink calls, because it can no longer tell what they carry (fail closed).
 */
import { fmix32 } from '../../util/hash.js';

export const SHINGLE = 16;
const HASHES = 3;
const MIN_FILTER_BITS = 1024;
const B1 = 0x01000193;
const B2 = 0x5bd1e995;
const B1_POW = pow32(B1, SHINGLE);
const B2_POW = pow32(B2, SHINGLE);

/** Characters that carry no content: whitespace (incl. NBSP, line separators) and format controls (zero-width…). */
const INVISIBLE = /[\s\p{Cf}]+/gu;

export function normalise(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(INVISIBLE, '');
}

/** A fixed-size Bloom filter over (h1, h2) pairs with double hashing. */
export class BloomFilter {
  readonly #words: Uint32Array;
  readonly #mask: number;

  constructor(bits: number) {
    if (!Number.isInteger(Math.log2(bits)) || bits < 32) throw new RangeError('Bloom filter bits must be a power of two ≥ 32');
    this.#words = new Uint32Array(bits >>> 5);
    this.#mask = bits - 1;
  }

  get bytes(): number {
    return this.#words.byteLength;
  }

  add(h1: number, h2: number): void {
    const step = h2 | 1;
    for (let i = 0; i < HASHES; i++) {
      const bit = (h1 + Math.imul(i, step)) & this.#mask;
      this.#words[bit >>> 5] |= 1 << (bit & 31);
    }
  }

  has(h1: number, h2: number): boolean {
    const step = h2 | 1;
    for (let i = 0; i < HASHES; i++) {
      const bit = (h1 + Math.imul(i, step)) & this.#mask;
      if ((this.#words[bit >>> 5] & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}

/**
 * Calls `each(h1, h2)` for every SHINGLE-long window of an already normalised
 * string (two independent polynomial rolling hashes, finalised with murmur's fmix32).
 */
export function shingles(text: string, each: (h1: number, h2: number, end: number) => void): void {
  let a = 0;
  let b = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = (Math.imul(a, B1) + c) | 0;
    b = (Math.imul(b, B2) + c) | 0;
    if (i >= SHINGLE) {
      const out = text.charCodeAt(i - SHINGLE);
      a = (a - Math.imul(out, B1_POW)) | 0;
      b = (b - Math.imul(out, B2_POW)) | 0;
    }
    if (i >= SHINGLE - 1) each(fmix32(a), fmix32(b ^ 0x9e3779b9), i);
  }
}

export interface SourceRef {
  readonly call: string;
  readonly tool: string;
}

interface Source extends SourceRef {
  readonly filter: BloomFilter;
}

export interface Candidate {
  /** Argument path, e.g. "body" or "attachments[0].content". */
  readonly argument: string;
  /** How the text was found: "plain", "base64", "url+base64"… */
  readonly encoding: string;
  /** Normalised text. */
  readonly text: string;
}

export interface ProvenanceMatch {
  readonly source: SourceRef;
  readonly argument: string;
  readonly encoding: string;
  /** Normalised characters in the longest matching run. */
  readonly chars: number;
}

/** One session's fingerprints: a filter per private result, within a byte budget. */
export class Fingerprints {
  readonly #sources: Source[] = [];
  #used = 0;
  #overflow: SourceRef | undefined;

  constructor(readonly budgetBytes: number) {}

  get usedBytes(): number {
    return this.#used;
  }

  get sourceCount(): number {
    return this.#sources.length;
  }

  /** The first result that could not be fingerprinted because the budget was spent. */
  get overflow(): SourceRef | undefined {
    return this.#overflow;
  }

  /** Fingerprints the texts of one result. Returns false when the budget could not hold them. */
  add(ref: SourceRef, texts: readonly string[]): boolean {
    const parts = [...new Set(texts.map(normalise))].filter((t) => t.length >= SHINGLE);
    const count = parts.reduce((n, t) => n + t.length - SHINGLE + 1, 0);
    if (count === 0) return true;
    const remainingBits = (this.budgetBytes - this.#used) * 8;
    let bits = Math.max(MIN_FILTER_BITS, nextPow2(count * 8));
    while (bits > remainingBits && bits / 2 >= Math.max(MIN_FILTER_BITS, count * 4)) bits /= 2;
    if (bits > remainingBits) {
      this.#overflow ??= { call: ref.call, tool: ref.tool };
      return false;
    }
    const filter = new BloomFilter(bits);
    for (const t of parts) shingles(t, (h1, h2) => filter.add(h1, h2));
    this.#sources.push({ call: ref.call, tool: ref.tool, filter });
    this.#used += filter.bytes;
    return true;
  }

  /**
   * The longest run of the candidates found in one source's output, if any run
   * covers at least minMatch characters. `accept` limits the sources considered.
   */
  find(candidates: readonly Candidate[], minMatch: number, accept: (s: SourceRef) => boolean = () => true): ProvenanceMatch | undefined {
    const sources = this.#sources.filter(accept);
    if (sources.length === 0) return undefined;
    const need = Math.max(1, minMatch - SHINGLE + 1);
    let best: ProvenanceMatch | undefined;
    for (const c of candidates) {
      if (c.text.length < minMatch) continue;
      const n = c.text.length - SHINGLE + 1;
      const h1s = new Int32Array(n);
      const h2s = new Int32Array(n);
      let k = 0;
      shingles(c.text, (a, b) => {
        h1s[k] = a;
        h2s[k] = b;
        k++;
      });
      for (const s of sources) {
        let run = 0;
        let longest = 0;
        for (let i = 0; i < n; i++) {
          if (s.filter.has(h1s[i], h2s[i])) {
            run++;
            if (run > longest) longest = run;
          } else run = 0;
        }
        if (longest >= need) {
          const chars = longest + SHINGLE - 1;
          if (!best || chars > best.chars) best = { source: { call: s.call, tool: s.tool }, argument: c.argument, encoding: c.encoding, chars };
        }
      }
    }
    return best;
  }
}

// ---- decoding sink arguments -----------------------------------------------------

const MAX_DEPTH = 2;
const BASE64_RUN = /[A-Za-z0-9+/_-]{20,}={0,2}/g;
const HEX_RUN = /(?:[0-9a-fA-F]{2}){12,}/g;
const PERCENT = /%[0-9a-fA-F]{2}/;
const PERCENT_RUNS = /(?:%[0-9a-fA-F]{2})+/g;
const EMAIL_ONLY = /^[^\s@<>()",;:]{1,64}@[A-Za-z0-9.-]{1,253}$/;

export interface CandidateLimits {
  /** Stop decoding past this many characters in total (the rest is not examined). */
  maxChars: number;
}

/**
 * Every string in the arguments, plus what its base64, hex and %-encoded runs
 * decode to (twice nested at most), normalised. A value that is only an email
 * address is skipped: addressing a reply to the customer is not leaking the record.
 * `truncated` says the budget ran out before everything was examined.
 */
export function argumentCandidates(args: unknown, limits: CandidateLimits = { maxChars: 4 * 1024 * 1024 }): { candidates: Candidate[]; truncated: boolean } {
  const out: Candidate[] = [];
  let budget = limits.maxChars;
  let truncated = false;
  const push = (argument: string, encoding: string, raw: string, depth: number) => {
    if (budget <= 0) {
      truncated = true;
      return;
    }
    budget -= raw.length;
    out.push({ argument, encoding, text: normalise(raw) });
    if (depth >= MAX_DEPTH) return;
    const next = (how: string) => (encoding === 'plain' ? how : `${encoding}+${how}`);
    if (PERCENT.test(raw) || /\w\+\w/.test(raw)) {
      push(argument, next('url'), raw.replace(/\+/g, ' ').replace(PERCENT_RUNS, (run) => Buffer.from(run.replace(/%/g, ''), 'hex').toString('utf8')), depth + 1);
    }
    const compact = raw.replace(/\s+/g, '');
    for (const m of compact.matchAll(BASE64_RUN)) {
      for (let shift = 0; shift < 4; shift++) {
        const decoded = Buffer.from(m[0].slice(shift), 'base64').toString('utf8');
        if (mostlyText(decoded)) {
          push(argument, next('base64'), decoded, depth + 1);
          break;
        }
      }
    }
    for (const m of compact.matchAll(HEX_RUN)) {
      for (let shift = 0; shift < 2; shift++) {
        const decoded = Buffer.from(m[0].slice(shift), 'hex').toString('utf8');
        if (mostlyText(decoded)) {
          push(argument, next('hex'), decoded, depth + 1);
          break;
        }
      }
    }
  };
  const walk = (value: unknown, path: string, depth: number) => {
    if (depth > 32) return;
    if (typeof value === 'string') {
      if (!EMAIL_ONLY.test(value.trim())) push(path || '(arguments)', 'plain', value, 0);
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, `${path}[${i}]`, depth + 1));
    } else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k, depth + 1);
    }
  };
  walk(args, '', 0);
  return { candidates: out, truncated };
}

/** Decoded bytes that read as text: under 15 % replacement or control characters. */
function mostlyText(s: string): boolean {
  if (s.length < SHINGLE) return false;
  let bad = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0xfffd || (c < 0x20 && c !== 9 && c !== 10 && c !== 13)) bad++;
  }
  return bad / s.length < 0.15;
}

/** The text a result carries: text content, embedded resources, resource contents and structured strings. */
export function resultTexts(result: Record<string, unknown>): string[] {
  const texts: string[] = [];
  const content = Array.isArray(result.content) ? (result.content as Record<string, unknown>[]) : [];
  for (const c of content) {
    if (typeof c?.text === 'string') texts.push(c.text);
    const r = c?.resource as Record<string, unknown> | undefined;
    if (typeof r?.text === 'string') texts.push(r.text);
  }
  const contents = Array.isArray(result.contents) ? (result.contents as Record<string, unknown>[]) : [];
  for (const c of contents) if (typeof c?.text === 'string') texts.push(c.text);
  const messages = Array.isArray(result.messages) ? (result.messages as Record<string, unknown>[]) : [];
  for (const m of messages) texts.push(...resultTexts({ content: [m?.content] }));
  if (result.structuredContent !== undefined) {
    // Structured output usually repeats the text content; only strings not already there add anything.
    const joined = texts.join('\n');
    const leaves: string[] = [];
    collectStrings(result.structuredContent, leaves, 0);
    for (const s of leaves) if (!joined.includes(s)) texts.push(s);
  }
  return texts;
}

function collectStrings(value: unknown, out: string[], depth: number): void {
  if (depth > 32) return;
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) collectStrings(v, out, depth + 1);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) collectStrings(v, out, depth + 1);
}

function pow32(base: number, exp: number): number {
  let r = 1;
  for (let i = 0; i < exp; i++) r = Math.imul(r, base);
  return r;
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
