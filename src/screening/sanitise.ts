/**
 * Sanitiser: removes or neutralises what a human reviewer does not see but a
 * model reads, in every string of a tool result, resource read or prompt
 * (text content, structured content, embedded resources, error messages).
 *
 *  - Unicode tag characters (U+E0000–E007F, "ASCII smuggling");
 *  - zero-width and other invisible format characters, bidi controls;
 *  - ANSI/terminal escape sequences and other control characters;
 *  - HTML comments, Markdown comments, and visually hidden HTML elements
 *    (display:none, visibility:hidden, zero font size or opacity, `hidden`);
 *  - Markdown images and links, and HTML <img>, to hosts not on the allowlist
 *    (the classic exfiltration by image URL: a rendered image leaks its query);
 *  - data: URIs.
 *
 * It reports what it removed as `{ kind, count }` (never the removed text), for
 * the audit record. Strings that contain none of the above are returned as they
 * are (same object), after one cheap test.
 */

export type RemovalKind =
  | 'unicode_tags'
  | 'zero_width'
  | 'bidi_control'
  | 'ansi_escape'
  | 'control_char'
  | 'html_comment'
  | 'markdown_comment'
  | 'hidden_html'
  | 'image_link'
  | 'link'
  | 'data_uri';

export interface Removal {
  kind: RemovalKind;
  count: number;
}

export interface SanitiseOptions {
  /**
   * Hosts that images and links may point to. `example.com` allows the host and
   * its subdomains; `*.example.com` only subdomains. Default: none.
   */
  allowedHosts?: readonly string[];
  /** Neutralise Markdown links (not only images) to other hosts. Default true. */
  links?: boolean;
}

export interface SanitiseResult<T> {
  value: T;
  removed: Removal[];
}

/**
 * Everything the sanitiser acts on starts with one of these; absent all of
 * them the text is untouched. It was one expression,
 *   /[<invisible and control characters>]|<!--|\]\s*[([]|<img|data:|hidden|display|visibility|opacity|font-size|^\s*\[[^\]]*\]:\s/im,
 * taken apart because trying every alternative at every position of every
 * result cost ~15 µs per 4 KB; the pieces answer the same for every string (a
 * fuzz test checks that) in about two thirds of the time, the bracket forms
 * only where a ']' occurs at all.
 */
const SUSPECT_CHAR =
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb\udb40]/;
const SUSPECT_BRACKETS = /\]\s*[([]|^\s*\[[^\]]*\]:\s/m;
const SUSPECT_WORD = /<img|data:|hidden|display|visibility|opacity|font-size/i;

export function mayNeedSanitising(s: string): boolean {
  return SUSPECT_CHAR.test(s) || s.includes('<!--') || (s.includes(']') && SUSPECT_BRACKETS.test(s)) || SUSPECT_WORD.test(s);
}

type Counts = Map<RemovalKind, number>;
const bump = (c: Counts, k: RemovalKind, n = 1) => {
  if (n > 0) c.set(k, (c.get(k) ?? 0) + n);
};

/** Host of a URL, lower-cased, or undefined when it is not an absolute http(s)/protocol-relative URL. */
function hostOf(url: string): string | undefined {
  const m = /^\s*<?\s*(?:(https?|ftp|wss?):)?\/\/([^/?#\s>]+)/i.exec(url);
  if (!m) return undefined;
  let host = m[2].toLowerCase();
  const at = host.lastIndexOf('@');
  if (at >= 0) host = host.slice(at + 1);
  host = host.replace(/:\d+$/, '').replace(/\.$/, '');
  return host;
}

export function hostAllowed(host: string, allowed: readonly string[]): boolean {
  for (const a0 of allowed) {
    const a = a0.toLowerCase().replace(/\.$/, '');
    if (a.startsWith('*.')) {
      if (host.endsWith(a.slice(1))) return true;
    } else if (host === a || host.endsWith(`.${a}`)) return true;
  }
  return false;
}

/** Whether a link target is acceptable: relative, anchor, mailto, or an allowlisted host. data: never is. */
function targetOk(url: string, allowed: readonly string[]): 'ok' | 'host' | 'data' {
  const u = url.trim().replace(/^<|>$/g, '');
  if (/^data:/i.test(u)) return 'data';
  if (/^(?:javascript|vbscript|file):/i.test(u)) return 'host';
  const h = hostOf(u);
  if (h === undefined) return /^[a-z][a-z0-9+.-]*:/i.test(u) && !/^mailto:/i.test(u) ? 'host' : 'ok';
  return hostAllowed(h, allowed) ? 'ok' : 'host';
}

const ANSI = /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|[PX^_][^\u001b]*(?:\u001b\\)?|[@-Z\\-_]|[ -/]+[0-~])|\u009b[0-?]*[ -/]*[@-~]/g;
const HTML_COMMENT = /<!--[\s\S]*?(?:-->|$)/g;
const MD_COMMENT = /^[ \t]*\[(?:\/\/|comment|#)\]:\s*(?:#|<>)?\s*(?:\([^)\n]*\)|"[^"\n]*"|'[^'\n]*')?[ \t]*$/gim;
const HIDDEN_STYLE = /(?:display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?:\.0*)?(?:px|pt|em|rem|%)?\s*(?:;|"|'|$)|opacity\s*:\s*0(?:\.0*)?\s*(?:;|"|'|$)|(?:max-)?(?:height|width)\s*:\s*0(?:px)?\s*(?:;|"|'|$)|color\s*:\s*(?:#fff(?:fff)?|white|transparent)\s*(?:;|"|'|$))/i;
const HIDDEN_ELEMENT = /<([a-z][a-z0-9-]*)\b([^>]*)>([\s\S]*?)<\/\1\s*>/gi;
const MD_IMAGE = /!\[([^\]\n]*)\]\(\s*(<[^>\n]*>|[^)\s]*)(?:\s+(?:"[^"\n]*"|'[^'\n]*'|\([^)\n]*\)))?\s*\)/g;
const MD_LINK = /(?<!!)\[([^\]\n]*)\]\(\s*(<[^>\n]*>|[^)\s]*)(?:\s+(?:"[^"\n]*"|'[^'\n]*'|\([^)\n]*\)))?\s*\)/g;
const MD_REF_DEF = /^[ \t]{0,3}\[([^\]\n]+)\]:[ \t]*(<[^>\n]*>|\S+)(?:[ \t]+(?:"[^"\n]*"|'[^'\n]*'|\([^)\n]*\)))?[ \t]*$/gm;
const HTML_IMG = /<img\b[^>]*>/gi;
const DATA_URI = /\bdata:[a-z0-9.+-]*\/?[a-z0-9.+-]*(?:;[a-z0-9=.+-]+)*,[A-Za-z0-9+/=%._~!$&'*:@-]*/gi;

function stripInvisible(s: string, c: Counts): string {
  let out = '';
  let last = 0;
  const len = s.length;
  for (let i = 0; i < len; i++) {
    const ch = s.charCodeAt(i);
    let kind: RemovalKind | undefined;
    let width = 1;
    if (ch === 0xdb40 && i + 1 < len) {
      const lo = s.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdc7f) {
        // U+E0000–E007F. Keep emoji tag sequences (subdivision flags): U+1F3F4 followed by tags ending in U+E007F.
        if (inFlagSequence(s, i)) continue;
        kind = 'unicode_tags';
        width = 2;
      } else if (lo >= 0xdd00 && lo <= 0xddef) {
        kind = 'zero_width'; // supplementary variation selectors
        width = 2;
      }
    } else if (ch < 0x20) {
      if (ch !== 9 && ch !== 10 && ch !== 13) kind = 'control_char';
    } else if (ch >= 0x7f && ch <= 0x9f) {
      kind = 'control_char';
    } else if (ch === 0x061c || ch === 0x200e || ch === 0x200f || (ch >= 0x202a && ch <= 0x202e) || (ch >= 0x2066 && ch <= 0x2069)) {
      kind = 'bidi_control';
    } else if (
      ch === 0x00ad || ch === 0x034f || ch === 0x115f || ch === 0x1160 || ch === 0x17b4 || ch === 0x17b5 || (ch >= 0x180b && ch <= 0x180f) ||
      (ch >= 0x200b && ch <= 0x200d) || (ch >= 0x2060 && ch <= 0x2064) || (ch >= 0x206a && ch <= 0x206f) || ch === 0x3164 || ch === 0xfeff ||
      ch === 0xffa0 || (ch >= 0xfff9 && ch <= 0xfffb) || (ch >= 0xfe00 && ch <= 0xfe0f)
    ) {
      // Keep joiners and variation selectors that are part of an emoji sequence.
      if ((ch === 0x200d || ch === 0xfe0f || ch === 0xfe0e) && emojiContext(s, i)) continue;
      kind = 'zero_width';
    }
    if (kind) {
      out += s.slice(last, i);
      last = i + width;
      bump(c, kind);
      i += width - 1;
    }
  }
  return last === 0 ? s : out + s.slice(last);
}

const PICTO = /\p{Extended_Pictographic}|\p{Emoji_Modifier}|[#*0-9]/u;
function emojiContext(s: string, i: number): boolean {
  const prev = s.codePointAt(i - 1 >= 0 && s.charCodeAt(i - 1) >= 0xdc00 && s.charCodeAt(i - 1) <= 0xdfff ? i - 2 : i - 1);
  if (prev === undefined) return false;
  const ch = s.charCodeAt(i);
  if (ch === 0x200d) {
    const next = s.codePointAt(i + 1);
    return PICTO.test(String.fromCodePoint(prev)) && next !== undefined && PICTO.test(String.fromCodePoint(next));
  }
  return PICTO.test(String.fromCodePoint(prev)) || prev === 0x200d;
}

function inFlagSequence(s: string, i: number): boolean {
  // Walk back over tag characters to the base; must be U+1F3F4 (black flag), and the run must end with U+E007F.
  let j = i;
  while (j >= 2 && s.charCodeAt(j - 2) === 0xdb40 && s.charCodeAt(j - 1) >= 0xdc00 && s.charCodeAt(j - 1) <= 0xdc7f) j -= 2;
  if (!(j >= 2 && s.charCodeAt(j - 2) === 0xd83c && s.charCodeAt(j - 1) === 0xdff4)) return false;
  let k = i;
  while (k + 1 < s.length && s.charCodeAt(k) === 0xdb40 && s.charCodeAt(k + 1) >= 0xdc00 && s.charCodeAt(k + 1) <= 0xdc7f) {
    if (s.charCodeAt(k + 1) === 0xdc7f) return k - j <= 14;
    k += 2;
  }
  return false;
}

/** Sanitise one string. */
export function sanitiseText(text: string, opts: SanitiseOptions = {}): { text: string; removed: Removal[] } {
  const c: Counts = new Map();
  const out = sanitiseString(text, opts, c);
  return { text: out, removed: toList(c) };
}

function sanitiseString(s: string, opts: SanitiseOptions, c: Counts): string {
  if (!mayNeedSanitising(s)) return s;
  const allowed = opts.allowedHosts ?? [];
  const links = opts.links ?? true;
  let t = s;
  if (t.includes('\u001b') || t.includes('\u009b')) {
    t = t.replace(ANSI, () => {
      bump(c, 'ansi_escape');
      return '';
    });
  }
  t = stripInvisible(t, c);
  if (t.includes('<!--')) {
    t = t.replace(HTML_COMMENT, () => {
      bump(c, 'html_comment');
      return '';
    });
  }
  if (t.includes(']:')) {
    t = t.replace(MD_COMMENT, () => {
      bump(c, 'markdown_comment');
      return '';
    });
  }
  if (t.includes('<')) {
    // Hidden elements, innermost first; repeat for simple nesting.
    for (let pass = 0; pass < 3; pass++) {
      let hit = false;
      t = t.replace(HIDDEN_ELEMENT, (m, _tag: string, attrs: string) => {
        const style = /\bstyle\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)/i.exec(attrs)?.[1] ?? '';
        const hidden = HIDDEN_STYLE.test(style) || /(?:^|\s)hidden(?:\s|=|$)/i.test(attrs) || /aria-hidden\s*=\s*["']?true/i.test(attrs) && /display|visibility|font-size|opacity/i.test(style);
        if (!hidden) return m;
        hit = true;
        bump(c, 'hidden_html');
        return '';
      });
      if (!hit) break;
    }
    t = t.replace(HTML_IMG, (m) => {
      const src = /\bsrc\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)/i.exec(m)?.[1]?.replace(/^["']|["']$/g, '') ?? '';
      const v = targetOk(src, allowed);
      if (v === 'ok') return m;
      bump(c, v === 'data' ? 'data_uri' : 'image_link');
      return '[image removed]';
    });
  }
  if (t.includes('](')) {
    t = t.replace(MD_IMAGE, (m, alt: string, url: string) => {
      const v = targetOk(url, allowed);
      if (v === 'ok') return m;
      bump(c, v === 'data' ? 'data_uri' : 'image_link');
      const h = v === 'data' ? 'data URI' : hostOf(url.replace(/^<|>$/g, '')) ?? 'external';
      return `[image removed: ${alt ? `${alt.slice(0, 80)}, ` : ''}${h}]`;
    });
    t = t.replace(MD_LINK, (m, label: string, url: string) => {
      const v = targetOk(url, allowed);
      if (v === 'ok' || (v === 'host' && !links)) return m;
      bump(c, v === 'data' ? 'data_uri' : 'link');
      const h = v === 'data' ? 'data URI' : hostOf(url.replace(/^<|>$/g, '')) ?? 'external';
      return `${label} [link removed: ${h}]`;
    });
  }
  if (/^[ \t]{0,3}\[[^\]\n]+\]:/m.test(t)) {
    t = t.replace(MD_REF_DEF, (m, label: string, url: string) => {
      const v = targetOk(url, allowed);
      if (v === 'ok' || (v === 'host' && !links)) return m;
      bump(c, v === 'data' ? 'data_uri' : 'link');
      return `[${label}]: #removed`;
    });
  }
  if (/data:/i.test(t)) {
    t = t.replace(DATA_URI, (m) => {
      if (m.length < 12) return m;
      bump(c, 'data_uri');
      return '[data URI removed]';
    });
  }
  return t;
}

function toList(c: Counts): Removal[] {
  return [...c].map(([kind, count]) => ({ kind, count })).sort((a, b) => (a.kind < b.kind ? -1 : 1));
}

/** Keys whose string values are binary payloads (base64), not text a model reads as language. */
function isBinaryField(key: string, parent: Record<string, unknown>): boolean {
  if (key === 'blob') return true;
  if (key === 'data') {
    const t = parent.type;
    return t === 'image' || t === 'audio' || typeof parent.mimeType === 'string';
  }
  return false;
}

const MAX_DEPTH = 64;

/**
 * Sanitise every string in an MCP value (a CallToolResult, ReadResourceResult,
 * GetPromptResult, an error, or any JSON) and return a copy plus what was
 * removed. Object keys are left alone; binary fields (`blob`, the `data` of
 * image/audio content) are not touched. The input is never mutated; unchanged
 * subtrees are shared with it.
 */
export function sanitise<T>(value: T, opts: SanitiseOptions = {}): SanitiseResult<T> {
  const c: Counts = new Map();
  const seen = new WeakSet<object>();
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return sanitiseString(v, opts, c);
    if (v === null || typeof v !== 'object' || depth > MAX_DEPTH) return v;
    if (seen.has(v)) return v;
    seen.add(v);
    if (Array.isArray(v)) {
      let out: unknown[] | undefined;
      for (let i = 0; i < v.length; i++) {
        const nv = walk(v[i], depth + 1);
        if (nv !== v[i]) (out ??= v.slice())[i] = nv;
      }
      return out ?? v;
    }
    if (v instanceof Error) {
      const msg = sanitiseString(v.message, opts, c);
      if (msg === v.message) return v;
      const e = new Error(msg);
      e.name = v.name;
      return e;
    }
    const o = v as Record<string, unknown>;
    let out: Record<string, unknown> | undefined;
    for (const k of Object.keys(o)) {
      if (isBinaryField(k, o)) continue;
      const nv = walk(o[k], depth + 1);
      if (nv !== o[k]) (out ??= { ...o })[k] = nv;
    }
    return out ?? o;
  };
  const value2 = walk(value, 0) as T;
  return { value: value2, removed: toList(c) };
}

/** Add up removal lists (for one audit record covering several values). */
export function mergeRemovals(...lists: Removal[][]): Removal[] {
  const c: Counts = new Map();
  for (const l of lists) for (const r of l) bump(c, r.kind, r.count);
  return toList(c);
}
