/**
 * Character tables shared by the sanitiser and the detector's tokeniser.
 *
 * Everything here is computed once, lazily, from the JavaScript engine's own
 * Unicode data (`String.prototype.normalize` and `\p{…}` regexes) plus a short
 * hand-written confusables list, so there is no data file to ship and the
 * result is the same on every Node >= 20.
 */

/** Code points a human reader does not see but a model reads (BMP part). */
export function isInvisibleBmp(c: number): boolean {
  return (
    c === 0x00ad || // soft hyphen
    c === 0x034f || // combining grapheme joiner
    c === 0x061c || // arabic letter mark
    c === 0x115f || c === 0x1160 || // hangul fillers
    c === 0x17b4 || c === 0x17b5 ||
    (c >= 0x180b && c <= 0x180f) || // mongolian variation selectors / vowel separator
    (c >= 0x200b && c <= 0x200f) || // zero width space/non-joiner/joiner, LRM, RLM
    (c >= 0x202a && c <= 0x202e) || // bidi embeddings and overrides
    (c >= 0x2060 && c <= 0x2064) || // word joiner, invisible operators
    (c >= 0x2066 && c <= 0x206f) || // bidi isolates, deprecated format chars
    c === 0x3164 || // hangul filler
    (c >= 0xfe00 && c <= 0xfe0f) || // variation selectors
    c === 0xfeff || // zero width no-break space / BOM
    c === 0xffa0 || // halfwidth hangul filler
    (c >= 0xfff9 && c <= 0xfffb) // interlinear annotation
  );
}

/** Bidi controls specifically (a subset of the invisible set), reported separately. */
export function isBidiControl(c: number): boolean {
  return c === 0x061c || c === 0x200e || c === 0x200f || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

/** Tag block (U+E0000–U+E007F): invisible ASCII look-alikes used for "ASCII smuggling". */
export function isTagCodePoint(cp: number): boolean {
  return cp >= 0xe0000 && cp <= 0xe007f;
}

/** Supplementary variation selectors (U+E0100–U+E01EF), also invisible. */
export function isSupplementaryVariationSelector(cp: number): boolean {
  return cp >= 0xe0100 && cp <= 0xe01ef;
}

/**
 * Latin look-alikes from other scripts (the common part of Unicode's
 * confusables list): Cyrillic, Greek, Armenian and IPA letters that render like
 * a Latin letter. Keys are lower-case.
 */
const CONFUSABLES: Record<string, string> = {
  // Cyrillic
  'а': 'a', 'в': 'b', 'е': 'e', 'ё': 'e', 'к': 'k', 'м': 'm', 'н': 'h', 'о': 'o', 'р': 'p', 'с': 'c', 'т': 't',
  'у': 'y', 'х': 'x', 'ѕ': 's', 'і': 'i', 'ї': 'i', 'ј': 'j', 'ԁ': 'd', 'ԛ': 'q', 'ԝ': 'w', 'һ': 'h', 'ӏ': 'l',
  'ɡ': 'g', 'ո': 'n', 'ս': 'u', 'օ': 'o', 'ց': 'g', 'զ': 'q', 'ԍ': 'g', 'ҽ': 'e', 'ү': 'y', 'ѵ': 'v', 'ԋ': 'h',
  // Greek
  'α': 'a', 'β': 'b', 'ε': 'e', 'η': 'n', 'ι': 'i', 'κ': 'k', 'ν': 'v', 'ο': 'o', 'ρ': 'p', 'τ': 't', 'υ': 'u',
  'χ': 'x', 'ω': 'w', 'γ': 'y', 'ϲ': 'c', 'ϳ': 'j', 'μ': 'u',
  // IPA and small capitals
  'ɑ': 'a', 'ɩ': 'i', 'ɪ': 'i', 'ʟ': 'l', 'ɴ': 'n', 'ʀ': 'r', 'ꜱ': 's', 'ᴀ': 'a', 'ʙ': 'b', 'ᴄ': 'c', 'ᴅ': 'd',
  'ᴇ': 'e', 'ɢ': 'g', 'ʜ': 'h', 'ᴊ': 'j', 'ᴋ': 'k', 'ᴍ': 'm', 'ᴏ': 'o', 'ᴘ': 'p', 'ᴛ': 't', 'ᴜ': 'u', 'ᴠ': 'v',
  'ᴡ': 'w', 'ʏ': 'y', 'ᴢ': 'z', 'ı': 'i', 'ȷ': 'j', 'ł': 'l', 'ø': 'o', 'đ': 'd', 'ħ': 'h',
};

/** Character classes of the tokeniser. */
export const enum CharClass {
  /** Breaks words, emits nothing. */
  Sep = 0,
  /** Part of a word; FOLD holds its folded (lower-case, de-accented, de-confused) form. */
  Word = 1,
  /** Emitted as a one-character token of its own (`<`, `!`, `#` …); FOLD holds the ASCII form. */
  Punct = 2,
  /** Dropped without breaking the word (apostrophes, combining marks). */
  Skip = 3,
  /** A character of a script written without spaces (Han, kana, Thai…): one token per character. */
  Single = 4,
  /** Invisible formatting character: dropped without breaking the word, and counted. */
  Hidden = 5,
}

/** Punctuation that carries signal for injection detection and becomes a token of its own. */
const PUNCT_TOKENS = '<>!#[]?';

let CLS: Uint8Array | undefined;
let FOLD: Uint16Array | undefined;
/** Whether the folded letter came from a non-Latin script (a homoglyph). */
let CONFUSED: Uint8Array | undefined;

function build(): void {
  const cls = new Uint8Array(65536);
  const fold = new Uint16Array(65536);
  const confused = new Uint8Array(65536);
  for (let c = 0; c < 128; c++) {
    if ((c >= 48 && c <= 57)) {
      cls[c] = CharClass.Word;
      fold[c] = 48; // every digit folds to '0': numbers are identifiers, not words
    } else if (c >= 65 && c <= 90) {
      cls[c] = CharClass.Word;
      fold[c] = c + 32;
    } else if (c >= 97 && c <= 122) {
      cls[c] = CharClass.Word;
      fold[c] = c;
    } else if (PUNCT_TOKENS.includes(String.fromCharCode(c))) {
      cls[c] = CharClass.Punct;
      fold[c] = c;
    } else if (c === 39 || c === 96) {
      cls[c] = CharClass.Skip; // ' and ` inside words: don't -> dont
    } else {
      cls[c] = CharClass.Sep;
    }
  }
  const letter = /[\p{L}\p{N}]/u;
  const mark = /\p{M}/u;
  const spaceless = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}\p{Script=Tibetan}]/u;
  const latin = /\p{Script=Latin}/u;
  for (let c = 128; c < 65536; c++) {
    if (c >= 0xd800 && c <= 0xdfff) continue; // surrogates are handled by the caller
    if (isInvisibleBmp(c)) {
      cls[c] = CharClass.Hidden;
      continue;
    }
    const ch = String.fromCharCode(c);
    if (c === 0x2018 || c === 0x2019 || c === 0x02bc || c === 0x02b9 || c === 0x2032) {
      cls[c] = CharClass.Skip;
      continue;
    }
    if (mark.test(ch)) {
      cls[c] = CharClass.Skip;
      continue;
    }
    // Full-width and other compatibility forms of ASCII (＜, ！, Ａ …).
    const k = ch.normalize('NFKC');
    if (k.length === 1 && k.charCodeAt(0) < 128 && k.charCodeAt(0) >= 32) {
      const a = k.charCodeAt(0);
      cls[c] = cls[a] === CharClass.Skip ? CharClass.Skip : cls[a];
      fold[c] = fold[a];
      continue;
    }
    if (!letter.test(ch)) {
      cls[c] = CharClass.Sep;
      continue;
    }
    if (spaceless.test(ch)) {
      cls[c] = CharClass.Single;
      fold[c] = c;
      continue;
    }
    cls[c] = CharClass.Word;
    let f = ch.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
    if (f.length !== 1) f = ch.toLowerCase();
    if (f.length !== 1) f = ch;
    const conf = CONFUSABLES[f];
    if (conf !== undefined) {
      fold[c] = conf.charCodeAt(0);
      if (!latin.test(ch) || c >= 0x1d00) confused[c] = 1;
    } else {
      const fc = f.charCodeAt(0);
      fold[c] = fc >= 48 && fc <= 57 ? 48 : fc;
    }
  }
  CLS = cls;
  FOLD = fold;
  CONFUSED = confused;
}

export function charTables(): { cls: Uint8Array; fold: Uint16Array; confused: Uint8Array } {
  if (!CLS) build();
  return { cls: CLS!, fold: FOLD!, confused: CONFUSED! };
}

/**
 * Fold a supplementary-plane code point used as a styled letter (mathematical
 * bold/italic/script letters, enclosed and squared letters) to ASCII, or -1.
 */
const astralCache = new Map<number, number>();
export function foldAstral(cp: number): number {
  let v = astralCache.get(cp);
  if (v !== undefined) return v;
  v = -1;
  if ((cp >= 0x1d400 && cp <= 0x1d7ff) || (cp >= 0x1f130 && cp <= 0x1f189)) {
    const k = String.fromCodePoint(cp).normalize('NFKC').toLowerCase();
    if (k.length === 1) {
      const a = k.charCodeAt(0);
      if ((a >= 97 && a <= 122) || (a >= 48 && a <= 57)) v = a >= 48 && a <= 57 ? 48 : a;
    }
  }
  if (astralCache.size < 4096) astralCache.set(cp, v);
  return v;
}
