/**
 * Typosquat detection for MCP server names and package identifiers.
 *
 * A candidate is compared with known names (the shipped list of well-known
 * packages and the other configured servers) after folding what a reader's eye
 * does not tell apart: Unicode confusables (Cyrillic/Greek look-alikes,
 * full-width forms, accents), `rn`→`m`, `0`→`o`, `1`/`l`→`i`, and the
 * separators `-`, `_`, `.`. Names whose folded "skeletons" are equal, or within
 * a Damerau-Levenshtein distance of 1 (2 for long names), are flagged with the
 * name the user probably meant. npm scopes and names are compared separately,
 * so `@modelcontext-protocol/server-filesystem` points at
 * `@modelcontextprotocol/server-filesystem`. An exact known name is never
 * flagged, and names that differ only in digits (`db1`/`db2`, `sqlite3`) are
 * taken as distinct.
 */

export type TyposquatReason = 'edit-distance' | 'homoglyph' | 'separator' | 'scope';

export interface TyposquatMatch {
  /** The known name the candidate probably means. */
  intended: string;
  /** How the candidate imitates it. */
  why: TyposquatReason[];
}

/** Look-alikes of Latin letters that NFKC does not fold (Cyrillic, Greek, IPA, Latin extensions). */
const CONFUSABLES: Record<string, string> = {
  а: 'a', в: 'b', с: 'c', ԁ: 'd', е: 'e', ё: 'e', һ: 'h', і: 'i', ї: 'i', ј: 'j', к: 'k', ӏ: 'l', м: 'm', н: 'h', о: 'o',
  р: 'p', ԛ: 'q', ѕ: 's', т: 't', у: 'y', х: 'x', ԝ: 'w', ь: 'b', п: 'n', г: 'r',
  α: 'a', β: 'b', ε: 'e', η: 'n', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x', ω: 'w', γ: 'y',
  ɑ: 'a', ɡ: 'g', ɩ: 'i', ı: 'i', ȷ: 'j', ſ: 's', ß: 'ss', æ: 'ae', ø: 'o', đ: 'd', ł: 'l', ħ: 'h',
  '0': 'o', '1': 'i', l: 'i', '|': 'i', '!': 'i',
};
const SEPARATORS = /[-_.\s]/g;

/** Lower-cases and folds look-alike characters; separators are kept. */
export function foldConfusables(text: string): string {
  const base = text.normalize('NFKC').toLowerCase().normalize('NFKD').replace(/\p{M}/gu, '');
  let out = '';
  for (const ch of base) out += CONFUSABLES[ch] ?? ch;
  return out.replace(/rn/g, 'm').replace(/vv/g, 'w');
}

/** The folded name without separators: two names with equal skeletons look the same. */
export function skeleton(text: string): string {
  return foldConfusables(text).replace(SEPARATORS, '');
}

/** Optimal-string-alignment (restricted Damerau-Levenshtein) distance, stopping early past `max`. */
export function editDistance(a: string, b: string, max = Infinity): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const n = b.length;
  let prev2: number[] = [];
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2] + 1);
      cur.push(d);
      rowMin = Math.min(rowMin, d);
    }
    if (rowMin > max) return max + 1;
    prev2 = prev;
    prev = cur;
  }
  return prev[n];
}

/** `@scope/name` → { scope, name }; an unscoped name has no scope. */
export function splitPackage(id: string): { scope?: string; name: string } {
  const m = /^@([^/]+)\/(.+)$/.exec(id);
  return m ? { scope: m[1], name: m[2] } : { name: id };
}

const AFFIXES = /^(?:mcpserver|servermcp|server|mcp)|(?:mcpserver|servermcp|server|mcp)$/g;

/** Edits tolerated for a skeleton: judged on its distinctive part, not the `mcp-server-` boilerplate. */
function allowedEdits(skel: string): number {
  const core = skel.replace(AFFIXES, '').length;
  return core >= 12 ? 2 : core >= 5 ? 1 : 0;
}

/** How `a` imitates `b`: 'same' (case only), the reasons, or undefined when they are distinct. */
function relate(a: string, b: string): 'same' | TyposquatReason[] | undefined {
  const la = a.toLowerCase();
  const lb = b.toLowerCase();
  if (la === lb) return 'same';
  if (/\d/.test(la + lb) && la.replace(/\d/g, '') === lb.replace(/\d/g, '')) return undefined;
  const bareA = la.replace(SEPARATORS, '');
  const bareB = lb.replace(SEPARATORS, '');
  if (bareA === bareB) return ['separator'];
  const foldA = foldConfusables(la);
  const foldB = foldConfusables(lb);
  if (foldA === foldB) return ['homoglyph'];
  const skelA = foldA.replace(SEPARATORS, '');
  const skelB = foldB.replace(SEPARATORS, '');
  if (skelA === skelB) return ['homoglyph', 'separator'];
  const max = Math.min(allowedEdits(skelA), allowedEdits(skelB));
  if (max === 0) return undefined;
  const d = editDistance(skelA, skelB, max);
  if (d > max) return undefined;
  const why: TyposquatReason[] = ['edit-distance'];
  if (editDistance(bareA, bareB, d + 1) > d) why.push('homoglyph');
  return why;
}

function compare(candidate: string, known: string): TyposquatReason[] | undefined {
  const c = splitPackage(candidate);
  const k = splitPackage(known);
  if (c.scope !== undefined && k.scope !== undefined) {
    const scope = relate(c.scope, k.scope);
    const name = relate(c.name, k.name);
    if (scope === undefined || name === undefined || (scope === 'same' && name === 'same')) return undefined;
    const why: TyposquatReason[] = [];
    if (scope !== 'same') why.push('scope', ...scope);
    if (name !== 'same') why.push(...name);
    return [...new Set(why)];
  }
  if (c.scope === undefined && k.scope !== undefined) {
    // Dropping or flattening the official scope: `server-filesystem`, `modelcontextprotocol-server-filesystem`.
    if (k.scope !== 'modelcontextprotocol' || !k.name.startsWith('server-')) return undefined;
    if (relate(c.name, k.name) === 'same' || skeleton(c.name) === skeleton(k.scope + k.name)) return ['scope'];
    return undefined;
  }
  if (c.scope !== undefined || k.scope !== undefined) return undefined;
  const rel = relate(c.name, k.name);
  return rel === undefined || rel === 'same' ? undefined : rel;
}

/**
 * The known name `candidate` most likely imitates, with how, or undefined.
 * An exact (case-insensitive) known name is never flagged.
 */
export function findTyposquats(candidate: string, known: readonly string[]): TyposquatMatch | undefined {
  const lower = candidate.toLowerCase();
  if (!candidate || known.some((k) => k.toLowerCase() === lower)) return undefined;
  let best: { intended: string; why: TyposquatReason[]; rank: number } | undefined;
  for (const k of known) {
    const why = compare(candidate, k);
    if (!why) continue;
    // Prefer look-alikes (no edits) over near misses, then the closest.
    const rank = why.includes('edit-distance') ? 1 + editDistance(skeleton(candidate), skeleton(k)) : 0;
    if (!best || rank < best.rank) best = { intended: k, why, rank };
  }
  return best && { intended: best.intended, why: best.why };
}

/**
 * Which names look like typosquats: a near miss of a shipped name is one; of
 * two configured names that imitate each other, the later one is the suspect
 * (unless only the earlier one has non-ASCII letters, or the later one is shipped).
 */
export function typosquatSuspects(names: string[], shipped: readonly string[]): Map<string, TyposquatMatch> {
  const unique = [...new Set(names)];
  const out = new Map<string, TyposquatMatch>();
  for (const n of unique) {
    const m = findTyposquats(n, shipped);
    if (m) out.set(n, m);
  }
  const isShipped = (n: string) => shipped.some((k) => k.toLowerCase() === n.toLowerCase());
  const nonAscii = (n: string) => /[^\x00-\x7f]/.test(n);
  for (let j = 1; j < unique.length; j++) {
    for (let i = 0; i < j; i++) {
      const [a, b] = [unique[i], unique[j]];
      const m = findTyposquats(b, [a]);
      if (!m) continue;
      let [suspect, intended] = nonAscii(a) && !nonAscii(b) ? [a, b] : [b, a];
      if (isShipped(suspect)) [suspect, intended] = [intended, suspect];
      if (isShipped(suspect) || out.has(suspect)) continue;
      out.set(suspect, suspect === b ? m : { intended, why: findTyposquats(a, [b])?.why ?? m.why });
    }
  }
  return out;
}

const WHY_TEXT: Record<TyposquatReason, string> = {
  'edit-distance': 'a near-identical spelling',
  homoglyph: 'look-alike characters',
  separator: 'different separators',
  scope: 'a different npm scope',
};

/** How a name imitates another, in words. */
export function describeWhy(why: TyposquatReason[]): string {
  return why.map((w) => WHY_TEXT[w]).join(', ');
}

/** What to tell the user about a configured server name that imitates another. */
export function serverNameSquatMessage(name: string, match: TyposquatMatch): string {
  return `server name "${name}" looks like "${match.intended}", another configured server (${describeWhy(match.why)}): check which of the two you meant and remove the other`;
}

/** What to tell the user about a package name that imitates a known or configured one. */
export function packageSquatMessage(name: string, match: TyposquatMatch): string {
  return `package "${name}" looks like "${match.intended}" (${describeWhy(match.why)}), a possible typosquat: if you meant "${match.intended}", correct the name; otherwise check the publisher before running it`;
}
