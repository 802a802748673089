/**
 * Tool-poisoning check: what a server offers the model (tool, prompt and
 * resource-template definitions, server instructions) is read by the model as
 * instructions, so a definition can carry an attack before any tool is called.
 *
 * Every string of a definition is checked (descriptions, titles, property
 * descriptions, defaults, enum values, examples; keys for hidden characters):
 * the output-defence detector (`detectInjection`, kind `tool_description`)
 * plus rules for what poisoned descriptions do: `<IMPORTANT>` blocks, asking
 * the model to hide something from the user, to read key or config files, to
 * smuggle data out through a parameter, to change how another server's tool
 * behaves (shadowing); hidden Unicode, terminal escapes, hidden markup,
 * base64 payloads and homoglyphs. Across servers, duplicate and look-alike
 * tool names are reported.
 *
 * Pure: no I/O, no cache. The text rules run on a normalised copy (NFKC,
 * invisible characters dropped, tag characters decoded to the ASCII they
 * smuggle, look-alike letters folded), so hiding tricks do not dodge them.
 */
import type { Prompt, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';
import { decodeBase64Runs } from '../screening/decode.js';
import { detectInjection, sanitiseText, type RemovalKind } from '../screening/index.js';
import { CharClass, charTables, isTagCodePoint } from '../screening/unicode.js';
import { escapePointer } from './client-config.js';
import { findTyposquats } from './typosquat.js';

export interface ServerOffer {
  server: string;
  instructions?: string;
  tools: Tool[];
  prompts?: Prompt[];
  resourceTemplates?: ResourceTemplate[];
}

export type PoisonKind = 'tool' | 'prompt' | 'resource_template' | 'instructions';
export type PoisonSeverity = 'high' | 'medium' | 'low';

/** Rule ids; docs/scan.md says what each catches. */
export type PoisonRule =
  | 'hidden-unicode'
  | 'terminal-escape'
  | 'hidden-markup'
  | 'instruction-tag'
  | 'conceal-from-user'
  | 'override-user'
  | 'sensitive-file'
  | 'exfiltration-parameter'
  | 'tool-shadowing'
  | 'prompt-injection'
  | 'encoded-text'
  | 'homoglyphs'
  | 'duplicate-tool-name'
  | 'lookalike-tool-name';

export interface PoisonFinding {
  server: string;
  kind: PoisonKind;
  /** The tool's, prompt's or template's name; the server's name for instructions. */
  name: string;
  rule: PoisonRule;
  severity: PoisonSeverity;
  /** JSON pointer into the definition, e.g. `/inputSchema/properties/sidenote/description` (`` for instructions). */
  where: string;
  /** Short excerpt, hidden characters made visible. */
  evidence: string;
  message: string;
}

/** Names of the tools each other server offers (for shadowing). */
export interface OtherServers {
  server: string;
  tools: readonly string[];
}

export interface CheckContext {
  server: string;
  otherServers: readonly OtherServers[];
}

/** Whether any finding is high severity: the definition must not be admitted. */
export function isPoisoned(findings: readonly PoisonFinding[]): boolean {
  return findings.some((f) => f.severity === 'high');
}

/** One tool definition: every string in it, checked against the other servers' tool names. */
export function checkTool(tool: Tool, ctx: CheckContext): PoisonFinding[] {
  return checkDefinition(tool, 'tool', tool.name, ctx);
}

export function checkPrompt(prompt: Prompt, ctx: CheckContext): PoisonFinding[] {
  return checkDefinition(prompt, 'prompt', prompt.name, ctx);
}

export function checkResourceTemplate(template: ResourceTemplate, ctx: CheckContext): PoisonFinding[] {
  return checkDefinition(template, 'resource_template', template.name, ctx);
}

export function checkInstructions(instructions: string, ctx: CheckContext): PoisonFinding[] {
  return checkDefinition(instructions, 'instructions', ctx.server, ctx);
}

/** Everything every server offers, each checked against the others, plus duplicate and look-alike tool names. */
export function checkOffers(offers: readonly ServerOffer[]): PoisonFinding[] {
  const findings: PoisonFinding[] = [];
  for (const offer of offers) {
    const ctx: CheckContext = {
      server: offer.server,
      otherServers: offers.filter((o) => o.server !== offer.server).map((o) => ({ server: o.server, tools: o.tools.map((t) => t.name) })),
    };
    if (offer.instructions) findings.push(...checkInstructions(offer.instructions, ctx));
    for (const tool of offer.tools) findings.push(...checkTool(tool, ctx));
    for (const prompt of offer.prompts ?? []) findings.push(...checkPrompt(prompt, ctx));
    for (const template of offer.resourceTemplates ?? []) findings.push(...checkResourceTemplate(template, ctx));
  }
  findings.push(...checkToolNames(offers));
  return findings;
}

/** The same tool name on two servers (medium), or one imitating another with look-alike characters (high). */
function checkToolNames(offers: readonly ServerOffer[]): PoisonFinding[] {
  const findings: PoisonFinding[] = [];
  const seen: { server: string; name: string }[] = [];
  for (const offer of offers) {
    const mine = new Set<string>();
    for (const { name } of offer.tools) {
      if (mine.has(name)) continue;
      mine.add(name);
      for (const earlier of seen) {
        if (earlier.server === offer.server) continue;
        if (earlier.name === name) {
          findings.push({
            server: offer.server, kind: 'tool', name, rule: 'duplicate-tool-name', severity: 'medium', where: '/name', evidence: reveal(name),
            message: `tool "${name}" is also offered by server "${earlier.server}": a model asked to use "${name}" may call the wrong server's tool; keep tool names prefixed (the default) and check that both servers are meant to be here`,
          });
          break;
        }
        const match = findTyposquats(name, [earlier.name]);
        if (match && !match.why.includes('edit-distance')) {
          findings.push({
            server: offer.server, kind: 'tool', name, rule: 'lookalike-tool-name', severity: 'high', where: '/name', evidence: reveal(name),
            message: `tool "${reveal(name)}" imitates "${earlier.name}" of server "${earlier.server}" (${match.why.join(', ')}): a server copying another's tool name with look-alike characters wants its calls; do not admit "${offer.server}" until you know why`,
          });
          break;
        }
      }
    }
    for (const name of mine) seen.push({ server: offer.server, name });
  }
  return findings;
}

// ---- one definition ---------------------------------------------------------

const KIND_TEXT: Record<PoisonKind, string> = { tool: 'tool', prompt: 'prompt', resource_template: 'resource template', instructions: 'server instructions' };

interface Site {
  server: string;
  kind: PoisonKind;
  name: string;
  where: string;
  /** Other servers' tool names as the model would read them, for shadowing. */
  otherTools: ReadonlyMap<string, { server: string; name: string }>;
  /** The definition's own parameter names: "pass it as sidenote" names a way out. */
  params: readonly string[];
}

/** Keys whose values are machine syntax (types, formats, regexes, references), not text the model reads as prose. */
const SYNTAX_KEYS = new Set(['type', 'format', 'pattern', '$schema', '$ref', '$id', '$anchor', 'contentEncoding', 'contentMediaType', 'mimeType', 'uriTemplate']);

function checkDefinition(definition: unknown, kind: PoisonKind, name: string, ctx: CheckContext): PoisonFinding[] {
  const findings: PoisonFinding[] = [];
  const otherTools = new Map<string, { server: string; name: string }>();
  for (const o of ctx.otherServers) for (const t of o.tools) if (mentionable(t)) otherTools.set(plain(t).toLowerCase(), { server: o.server, name: t });
  const params = parameterNames(definition).map((p) => plain(p).toLowerCase());
  const site = (where: string): Site => ({ server: ctx.server, kind, name, where, otherTools, params });
  const walk = (value: unknown, where: string, key: string | undefined, depth: number): void => {
    if (typeof value === 'string') {
      checkString(value, site(where), key !== undefined && SYNTAX_KEYS.has(key), findings);
    } else if (Array.isArray(value)) {
      if (depth < 32) value.forEach((v, i) => walk(v, `${where}/${i}`, key, depth + 1));
    } else if (value !== null && typeof value === 'object' && depth < 32) {
      for (const [k, v] of Object.entries(value)) {
        const at = `${where}/${escapePointer(k)}`;
        checkHidden(k, site(at), findings, 'key');
        walk(v, at, k, depth + 1);
      }
    }
  };
  walk(definition, '', undefined, 0);
  return dedupe(findings);
}

function checkString(text: string, site: Site, syntax: boolean, out: PoisonFinding[]): void {
  checkHidden(text, site, out, 'text');
  // A single short word cannot carry an instruction; a long one may be base64.
  if (syntax || text.length < 8 || (!/\s/.test(text.trim()) && text.length < 20)) return;
  const plainText = plain(text);
  checkPhrases(plainText, site, out, '');
  checkHomoglyphs(text, site, out);
  for (const decoded of decodeBase64Runs(text, base64Runs(text))) {
    const before = out.length;
    checkPhrases(plain(decoded), site, out, ' (base64-encoded)');
    if (out.length === before || !out.slice(before).some((f) => f.severity === 'high')) {
      out.push(finding(site, 'encoded-text', 'medium', `base64: ${excerpt(decoded, 0, decoded.length)}`, 'holds base64 that decodes to readable text, which a reviewer does not read but a model can; ask the publisher why, and do not admit it unless the decoded text is harmless'));
    }
  }
  checkDetector(text, site, out);
}

const HIDDEN_KINDS: Partial<Record<RemovalKind, PoisonRule>> = {
  unicode_tags: 'hidden-unicode',
  zero_width: 'hidden-unicode',
  bidi_control: 'hidden-unicode',
  ansi_escape: 'terminal-escape',
  control_char: 'terminal-escape',
  html_comment: 'hidden-markup',
  markdown_comment: 'hidden-markup',
  hidden_html: 'hidden-markup',
};

const HIDDEN_PROSE_WORDS = 4;

function words(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

const HIDDEN_NAMES: Partial<Record<RemovalKind, string>> = { unicode_tags: 'Unicode tag', zero_width: 'zero-width', bidi_control: 'bidi control' };

/** Hidden characters and markup, found by the output sanitiser. */
function checkHidden(text: string, site: Site, out: PoisonFinding[], what: 'key' | 'text'): void {
  const { text: shown, removed } = sanitiseText(text, { links: false });
  const kinds = new Set<RemovalKind>();
  for (const r of removed) if (HIDDEN_KINDS[r.kind]) kinds.add(r.kind);
  if (kinds.size === 0) return;
  const chars = [...kinds].filter((k) => HIDDEN_KINDS[k] === 'hidden-unicode');
  const at = site.where === '' ? '' : what === 'key' ? ` in the key ${site.where}` : ` at ${site.where}`;
  if (chars.length > 0) {
    const smuggled = decodeTags(text);
    out.push(
      finding(site, 'hidden-unicode', 'high', excerptHidden(text), `hides ${chars.map((k) => HIDDEN_NAMES[k]).join(', ')} characters${at}${smuggled ? ` (tag characters spell "${excerpt(smuggled, 0, smuggled.length)}")` : ''}: text a reviewer cannot see but the model reads; do not admit this server, and report it to its publisher`),
    );
  }
  if (kinds.has('ansi_escape') || kinds.has('control_char')) {
    out.push(finding(site, 'terminal-escape', 'high', excerptHidden(text), `holds terminal escape sequences or control characters${at}, which can hide or rewrite what a reviewer sees in a terminal; do not admit this server until its definitions are plain text`));
  }
  if (kinds.has('html_comment') || kinds.has('markdown_comment') || kinds.has('hidden_html')) {
    // A marker ("<!-- generated -->") is harmless; sentences hidden from whoever reads the rendered text are not.
    const hiddenWords = words(text) - words(shown);
    out.push(
      hiddenWords >= HIDDEN_PROSE_WORDS
        ? finding(site, 'hidden-markup', 'high', excerptHidden(text), `hides ${hiddenWords} words in an HTML/Markdown comment or hidden HTML element${at}: invisible once rendered, read by the model; do not admit this server`)
        : finding(site, 'hidden-markup', 'medium', excerptHidden(text), `holds an HTML/Markdown comment or hidden HTML element${at}, invisible once rendered but read by the model; read the raw text before admitting the server`),
    );
  }
}

// ---- phrase rules -------------------------------------------------------------

const INSTRUCTION_TAG = /<\s*\/?\s*(?:important|system|instructions?|secret|hidden|admin|critical|assistant|context)\s*>/i;
const CONCEAL = [
  /\b(?:do not|don'?t|never|must not|should not|shouldn'?t|without)\s+(?:\w+\s+){0,2}?(?:tell|telling|inform|informing|notify|notifying|mention|mentioning|reveal|revealing|alert|alerting|disclose|disclosing|let)\b[^.!?\n]{0,40}?\b(?:user|users|human|person|people|customer|operator|anyone|them)\b/i,
  /\b(?:do not|don'?t|never)\s+(?:mention|reveal|disclose)\s+(?:this|that|it|these)\b/i,
  /\b(?:hide|conceal|keep)\b[^.!?\n]{0,30}?\bfrom\s+(?:the\s+)?(?:user|human)\b/i,
  /\bthe user\s+(?:must|should|need|needs|may)\s+not\s+(?:know|see|notice|find out|be told)\b/i,
  /\b(?:secretly|covertly|quietly|silently)\s+(?:send|read|copy|forward|include|add|pass|upload|call|use|attach|append)\b/i,
];
/** Telling the model to drop what the user asked for: a definition's job is to describe a tool, never to outrank the user. */
const OVERRIDE_USER = /\b(?:ignore|disregard|forget|override|overrule)\b[^.!?\n]{0,20}?\b(?:the\s+)?(?:user'?s?|human'?s?|person'?s?)\s*(?:asked|said|wants|requested|request|requests|instructions?|question|task)\b/i;
/** Base-form verbs: an instruction to the model to read or move something ("read …", "pass …"), not a description ("reads …"). */
const ACCESS_VERB = /\b(?:read|cat|open|fetch|retrieve|obtain|collect|extract|grab|copy|include|pass|send|provide|append|attach|upload|forward|post|paste|dump|share|leak|exfiltrate)\b/i;
const TRANSFER_VERB = /\b(?:pass|send|include|provide|put|add|append|attach|insert|embed|encode|copy|write|fill|supply|set)\b/i;
const SENSITIVE_FILE =
  /(?:^|[\s'"`(~/\\])\.ssh\b(?!\/(?:config|known_hosts)\b)|\bid_(?:rsa|dsa|ecdsa|ed25519)\b|\bmcp\.json\b|claude_desktop_config\.json|\.aws\/credentials|(?:^|[\s'"`(~/\\])\.(?:netrc|npmrc|pypirc|git-credentials|pgpass)\b|\.docker\/config\.json|\.kube\/config|(?:^|[\s'"`(~/\\])\.env\b(?!\s*(?:var|variable)|\.(?:example|sample|template|dist)\b)|\/etc\/(?:shadow|passwd|sudoers)\b|\.(?:bash|zsh)_history\b|\.gnupg\b|\bwallet\.dat\b|\bkeychain\b/i;
/**
 * What a model would have to go and get to pass on: file contents, keys, the
 * conversation. Not passwords or API keys in general: a login tool may
 * legitimately take the one the user gives it.
 */
const HARVESTED_DATA =
  /\b(?:private keys?|ssh keys?|(?:its|their) (?:content|contents|text)|(?:the )?contents of|(?:full |entire |whole )?conversation(?: history| so far)?|chat history|(?:previous|earlier|recent|all|(?:the )?user'?s|(?:last|first) \w+) messages|system prompt|your instructions|environment variables|env vars)\b/i;
const PARAMETER_REF =
  /\b(?:as|in|into|via|through|inside|within|to)\s+(?:the\s+)?(?:['"`]?[a-z_][a-z0-9_]*['"`]?\s+)?(?:parameter|param|argument|arg|field|property)\b|\bas\s+['"`][a-z_][a-z0-9_]*['"`]/i;
const STRONG_DIRECTIVE =
  /\b(?:must|always|never|shall|change|changes|replace|redirect|redirects|override|overrides|modify|intercept|side effect|recipient|recipients|bcc|cc|forward|all (?:emails|messages|calls|requests|mail))\b|[\w.+-]+@[\w-]+\.[a-z]{2,}|https?:\/\//i;
const WEAK_DIRECTIVE = /\b(?:instead|rather than|prefer|before (?:calling|using)|after (?:calling|using)|do not use|don'?t use)\b/i;
const GENERIC_REDIRECT = /\b(?:all|every|any)\s+(?:outgoing\s+)?(?:emails?|messages?|mail)\b[^.!?\n]{0,80}?(?:\b(?:to|bcc|cc)\b[^.!?\n]{0,20}?[\w.+-]+@[\w-]+\.[a-z]{2,})/i;

function checkPhrases(text: string, site: Site, out: PoisonFinding[], how: string): void {
  const tag = INSTRUCTION_TAG.exec(text);
  if (tag) {
    out.push(finding(site, 'instruction-tag', 'high', excerpt(text, tag.index, tag.index + tag[0].length), `has an ${tag[0].replace(/\s+/g, '')} block${how}, the marker of instructions hidden in a definition for the model; do not admit this server`));
  }
  for (const re of CONCEAL) {
    const m = re.exec(text);
    if (m) {
      out.push(finding(site, 'conceal-from-user', 'high', excerpt(text, m.index, m.index + m[0].length), `asks the model to keep something from the user${how} ("${m[0]}"); a definition has no reason to, so do not admit this server`));
      break;
    }
  }
  const override = OVERRIDE_USER.exec(text);
  if (override) {
    out.push(finding(site, 'override-user', 'high', excerpt(text, override.index, override.index + override[0].length), `tells the model to set aside what the user asked${how} ("${override[0]}"); do not admit this server`));
  }
  for (const s of sentences(text)) {
    const file = SENSITIVE_FILE.exec(s.text);
    const verb = ACCESS_VERB.exec(s.text);
    if (file) {
      const high = verb !== null;
      const at = s.start + file.index;
      out.push(
        finding(site, 'sensitive-file', high ? 'high' : 'medium', excerpt(text, at, at + file[0].length),
          high
            ? `asks the model to ${verb![0]} ${file[0].trim()}${how}, a file holding keys or credentials; do not admit this server`
            : `names ${file[0].trim()}${how}, a file holding keys or credentials; check that the tool needs it before admitting the server`),
      );
    }
    const data = HARVESTED_DATA.exec(s.text) ?? file;
    // In a property's own description, "set this to …" already names the parameter.
    if (data && TRANSFER_VERB.test(s.text) && (PARAMETER_REF.test(s.text) || namesParameter(s.text, site.params) || /\/properties\/[^/]+\/description$/.test(site.where))) {
      const at = s.start + data.index;
      out.push(finding(site, 'exfiltration-parameter', 'high', excerpt(text, at, at + data[0].length), `asks the model to pass ${data[0].trim()} through a parameter${how}: data leaves with the next call; do not admit this server`));
    }
    checkShadowing(s, text, site, out, how);
  }
}

function checkShadowing(s: { text: string; start: number }, text: string, site: Site, out: PoisonFinding[], how: string): void {
  const m = site.otherTools.size > 0 ? mentionedTool(s.text, site.otherTools) : undefined;
  const strong = STRONG_DIRECTIVE.test(s.text);
  if (m && (strong || WEAK_DIRECTIVE.test(s.text))) {
    const { other } = m;
    const at = s.start + m.index;
    out.push(
      finding(site, 'tool-shadowing', strong ? 'high' : 'medium', excerpt(text, at, at + m.length),
        strong
          ? `instructs the model about "${other.name}" of server "${other.server}"${how}: a definition that changes how another server's tool is used is shadowing it; do not admit this server`
          : `steers the model away from "${other.name}" of server "${other.server}"${how}; check that this is a plain usage hint`),
    );
    return;
  }
  const g = GENERIC_REDIRECT.exec(s.text);
  if (g) {
    const at = s.start + g.index;
    out.push(finding(site, 'tool-shadowing', 'high', excerpt(text, at, at + g[0].length), `tells the model where all messages must go${how}, redirecting what other tools send; do not admit this server`));
  }
}

/** Short tool names ("echo", "search") are everyday words; only names with a separator or an inner capital are looked for in prose. */
function mentionable(name: string): boolean {
  return name.length >= 4 && /[_\-.]|[a-z][A-Z]/.test(name);
}

/** The first other-server tool named in `text`, as a whole identifier or behind a prefix (`mcp_tool_send_email`, `email__send_email`). */
function mentionedTool(text: string, tools: Site['otherTools']): { other: { server: string; name: string }; index: number; length: number } | undefined {
  for (const m of text.matchAll(/[a-z0-9][a-z0-9_\-.:/]*[a-z0-9]/gi)) {
    const word = m[0].toLowerCase();
    for (let i = 0; i < word.length; i++) {
      if (i > 0 && !/[_\-.:/]/.test(word[i - 1])) continue;
      const other = tools.get(word.slice(i));
      if (other) return { other, index: m.index + i, length: word.length - i };
    }
  }
  return undefined;
}

/** Top-level parameter names: a tool's input properties, a prompt's arguments. */
function parameterNames(definition: unknown): string[] {
  if (definition === null || typeof definition !== 'object') return [];
  const d = definition as { inputSchema?: { properties?: unknown }; arguments?: unknown };
  if (d.inputSchema?.properties && typeof d.inputSchema.properties === 'object') return Object.keys(d.inputSchema.properties);
  if (Array.isArray(d.arguments)) return d.arguments.flatMap((a: { name?: unknown }) => (typeof a?.name === 'string' ? [a.name] : []));
  return [];
}

/** "… as sidenote", "… in the notes": the sentence routes something into one of the definition's own parameters. */
function namesParameter(sentence: string, params: readonly string[]): boolean {
  const text = sentence.toLowerCase();
  for (const p of params) {
    if (p.length < 3) continue;
    const at = text.indexOf(p);
    if (at > 0 && /\b(?:as|in|into|to|via|through|inside)\s+(?:the\s+)?['"`]?$/.test(text.slice(Math.max(0, at - 16), at)) && !/[a-z0-9_]/.test(text[at + p.length] ?? '')) return true;
  }
  return false;
}

/**
 * Sentences, for rules that need words to belong together. A line break alone
 * does not end one (descriptions wrap), a blank line or a list item does; a
 * dot inside a path (`~/.cursor/mcp.json`) does not.
 */
function sentences(text: string): { text: string; start: number }[] {
  const out: { text: string; start: number }[] = [];
  let start = 0;
  for (const m of text.matchAll(/[.!?](?=\s)|\n\s*\n|\n(?=\s*(?:[-*#>]|\d+[.)])\s)/g)) {
    const end = m.index + m[0].length;
    if (end > start) out.push({ text: text.slice(start, end), start });
    start = end;
  }
  if (start < text.length) out.push({ text: text.slice(start), start });
  return out;
}

/** Instruction-like text the shared detector flags. Addressing the model is what definitions do, so that alone does not count. */
const AUDIENCE_ONLY = new Set(['rule:note-to-ai', 'rule:addressed-to-ai']);

function checkDetector(text: string, site: Site, out: PoisonFinding[]): void {
  const d = detectInjection(text, { kind: 'tool_description' });
  if (!d.flagged || d.reasons.every((r) => AUDIENCE_ONLY.has(r))) return;
  const [a, b] = d.span ?? [0, Math.min(text.length, 80)];
  out.push(finding(site, 'prompt-injection', 'high', excerpt(text, a, b), `reads as a prompt injection to the detector (score ${d.score}; ${d.reasons.join(', ')}); do not admit this server unless a reviewer finds the text harmless`));
}

function checkHomoglyphs(text: string, site: Site, out: PoisonFinding[]): void {
  const { confused } = charTables();
  for (const m of text.matchAll(/\p{L}+/gu)) {
    const word = m[0];
    if (!/[a-z]/i.test(word)) continue;
    let mixed = false;
    for (let i = 0; i < word.length && !mixed; i++) mixed = confused[word.charCodeAt(i)] === 1;
    if (!mixed) continue;
    const shown = [...word].map((c) => (confused[c.charCodeAt(0)] === 1 ? `${c}(U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})` : c)).join('');
    out.push(finding(site, 'homoglyphs', 'medium', shown, `writes "${plain(word)}" with look-alike letters from another script, which dodges reviewers and keyword filters; ask the publisher why before admitting the server`));
    return;
  }
}

// ---- text helpers -------------------------------------------------------------

/** What the model reads: NFKC, invisible characters dropped, tag characters decoded, look-alikes folded. */
function plain(text: string): string {
  const { cls, fold, confused } = charTables();
  let out = '';
  for (const ch of text.normalize('NFKC')) {
    const cp = ch.codePointAt(0)!;
    if (isTagCodePoint(cp)) {
      if (cp >= 0xe0020 && cp <= 0xe007e) out += String.fromCharCode(cp - 0xe0000);
    } else if (cp > 0xffff) {
      out += ch;
    } else if (cls[cp] !== CharClass.Hidden) {
      out += confused[cp] === 1 ? String.fromCharCode(fold[cp]) : ch;
    }
  }
  return out;
}

function decodeTags(text: string): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0xe0020 && cp <= 0xe007e) out += String.fromCharCode(cp - 0xe0000);
  }
  return out;
}

/** Text with invisible and control characters shown as `<U+200B>`, `<ESC>`. */
function reveal(text: string): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0x1b) out += '<ESC>';
    else if (cp === 10) out += ' ';
    else if ((cp < 0x20 && cp !== 9) || (cp >= 0x7f && cp <= 0x9f) || isTagCodePoint(cp) || (cp <= 0xffff && charTables().cls[cp] === CharClass.Hidden) || (cp >= 0xe0100 && cp <= 0xe01ef)) {
      out += `<U+${cp.toString(16).toUpperCase().padStart(4, '0')}>`;
    } else out += ch;
  }
  return out;
}

const EXCERPT = 120;

function excerpt(text: string, start: number, end: number): string {
  const from = Math.max(0, Math.min(start - 30, end - EXCERPT));
  const to = Math.min(text.length, Math.max(end + 30, from + 60), from + EXCERPT);
  return `${from > 0 ? '…' : ''}${reveal(text.slice(from, to)).replace(/\s+/g, ' ').trim()}${to < text.length ? '…' : ''}`;
}

/** An excerpt around the first hidden character, shown. */
function excerptHidden(text: string): string {
  const shown = reveal(text);
  const at = Math.max(0, shown.search(/<(?:U\+|ESC>)|<!--|hidden|display/i));
  return excerpt(shown, at, at + 1);
}

/** [start, end) offsets of base64-alphabet runs long enough to hide a sentence. */
function base64Runs(text: string): number[] {
  const runs: number[] = [];
  for (const m of text.matchAll(/[A-Za-z0-9+/_-]{24,}={0,2}/g)) runs.push(m.index, m.index + m[0].length);
  return runs;
}

function finding(site: Site, rule: PoisonRule, severity: PoisonSeverity, evidence: string, what: string): PoisonFinding {
  const subject = site.kind === 'instructions' ? `server "${site.server}" instructions` : `${KIND_TEXT[site.kind]} "${site.name}" of server "${site.server}"`;
  const at = site.where === '' || rule === 'hidden-unicode' || rule === 'terminal-escape' || rule === 'hidden-markup' ? '' : ` (${site.where})`;
  return { server: site.server, kind: site.kind, name: site.name, rule, severity, where: site.where, evidence, message: `${subject}${at} ${what}` };
}

/** One finding per rule and place: the strongest. */
function dedupe(findings: PoisonFinding[]): PoisonFinding[] {
  const best = new Map<string, PoisonFinding>();
  const rank = { high: 0, medium: 1, low: 2 };
  for (const f of findings) {
    const key = `${f.rule}\u0000${f.where}`;
    const had = best.get(key);
    if (!had || rank[f.severity] < rank[had.severity]) best.set(key, f);
  }
  return [...best.values()];
}

/** Checks one listed definition of the given kind (what the gateway sees in a list). */
export function checkItem(kind: Exclude<PoisonKind, 'instructions'>, definition: Record<string, unknown>, ctx: CheckContext): PoisonFinding[] {
  if (kind === 'tool') return checkTool(definition as unknown as Tool, ctx);
  if (kind === 'prompt') return checkPrompt(definition as unknown as Prompt, ctx);
  return checkResourceTemplate(definition as unknown as ResourceTemplate, ctx);
}

/** Why findings make a definition inadmissible (its high findings, briefly), or undefined. */
export function poisonedReason(findings: readonly PoisonFinding[]): string | undefined {
  const high = findings.filter((f) => f.severity === 'high');
  if (high.length === 0) return undefined;
  const shown = high.slice(0, 3).map((f) => `${f.rule}${f.where ? ` at ${f.where}` : ''}: ${f.message}`);
  return shown.join('; ') + (high.length > 3 ? `; and ${high.length - 3} more` : '');
}
