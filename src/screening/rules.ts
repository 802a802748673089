/**
 * Layer 1 of the detector: hand-written rules for patterns that are (nearly)
 * unambiguous. They match on the tokeniser's hashed, normalised tokens (case,
 * accents, homoglyphs, zero-width characters, tag characters, JSON escapes and
 * HTML entities already undone), so one rule covers "Ignore previous
 * instructions", "IGNORE  PREVIOUS\u200bINSTRUCTIONS", "ıgnore рrevious
 * instructions" and the JSON-escaped form alike, without building strings.
 *
 * A rule is a sequence of steps; each step is a set of alternative phrases
 * (token sequences) and how many tokens may be skipped before it. Matching
 * starts only at tokens that can begin a rule (one table lookup per token), so
 * ordinary text costs almost nothing.
 *
 * A rule adds a logit boost to the classifier's score. Strong rules flag on
 * their own; when words around the match say the text is *about* injections (a
 * security write-up quoting a payload: "example", "payload", "attackers"…) the
 * boost is capped and the classifier decides.
 */
import { phraseHashes, type Tokens } from './tokenise.js';
import type { TextKind } from './model.js';

export interface RuleHit {
  id: string;
  boost: number;
  /** UTF-16 offsets of the match in the input text. */
  start: number;
  end: number;
  /** The boost was capped because the surroundings discuss injections. */
  damped: boolean;
}

interface Step {
  alts: number[][];
  /** Tokens that may be skipped before this step. */
  gap: number;
}

interface Rule {
  id: string;
  steps: Step[];
  boost: number;
  /** Boost for tool descriptions, when different. */
  descBoost?: number;
  kind?: TextKind;
  /** Tokens that, inside the match, make it weak (e.g. "my" in "ignore my previous instructions"). */
  weak?: Set<number>;
  /** Boost of a weak match (default 1). */
  weakBoost: number;
  /** The match must open a sentence, line or field. */
  sentenceStart?: boolean;
  /** Tokens that must not follow within FOLLOW_REACH tokens of the match (e.g. "manager" after "note to the assistant"). */
  notFollowedBy?: Set<number>;
}

interface Spec {
  id: string;
  seq: (string[] | number)[];
  boost: number;
  descBoost?: number;
  kind?: TextKind;
  weak?: string[];
  weakBoost?: number;
  sentenceStart?: boolean;
  notFollowedBy?: string[];
}

const OVERRIDE_VERBS = ['ignore', 'ignoring', 'disregard', 'disregarding', 'forget', 'overlook', 'bypass', 'override', 'neglect', 'abandon', 'discard'];
const PRIOR = ['previous', 'prior', 'preceding', 'above', 'earlier', 'former', 'original', 'initial', 'old', 'existing', 'system', 'developer', 'all', 'any', 'your', 'safety', 'all previous', 'all prior', 'all the previous', 'all of your', 'all of the previous'];
const INSTR = ['instruction', 'instructions', 'iunstructions', 'instrucitons', 'direction', 'directions', 'directive', 'directives', 'guideline', 'guidelines', 'rules', 'prompt', 'prompts', 'commands', 'programming', 'guardrails', 'constraints', 'restrictions', 'policies', 'context', 'orders', 'task', 'tasks'];
const AI_NOUNS = ['ai', 'llm', 'llms', 'language model', 'language models', 'ai assistant', 'ai assistants', 'ai agent', 'ai agents', 'ai model', 'chatbot', 'gpt', 'chatgpt', 'claude', 'gemini', 'copilot', 'the model', 'the assistant', 'the ai', 'the llm', 'the agent', 'automated assistants', 'automated systems', 'assistant', 'agents'];

/** Imperatives that shape a text the reader is about to write. */
const REPLY_VERBS = [
  'add', 'include', 'insert', 'integrate', 'incorporate', 'append', 'prepend', 'augment', 'enhance', 'enrich', 'modify', 'alter', 'change',
  'rewrite', 'format', 'convert', 'group', 'remove', 'replace', 'misspell', 'scramble', 'combine', 'translate', 'introduce', 'embed', 'mention',
  'end', 'begin', 'start', 'conclude', 'finish', 'close', 'fill', 'pepper', 'sprinkle', 'spice', 'infuse', 'weave', 'encode', 'reverse', 'capitalise',
  'capitalize', 'structure', 'present', 'provide', 'write', 'make', 'ensure', 'use', 'express', 'phrase', 'render', 'output', 'respond', 'reply', 'answer',
];
const REPLY_NOUNS = ['response', 'responses', 'reply', 'replies', 'answer', 'answers', 'output', 'summary', 'final answer', 'next message', 'completion'];
const REPLY_NOUNS_AND_ACTS = [...REPLY_NOUNS, 'respond', 'reply', 'answer', 'summarise', 'summarize', 'write your', 'generate your'];
const CODE_INSERT_VERBS = [
  'integrate', 'incorporate', 'blend', 'embed', 'inject', 'weave', 'interweave', 'fuse', 'merge', 'insert', 'include', 'enlist', 'employ',
  'introduce', 'append', 'render', 'execute', 'ensure', 'use', 'make', 'add', 'put', 'paste', 'enrich', 'infuse', 'implant', 'graft',
];
/** Where the requested code is to go: the reader's own work, not a file or a project of the user. */
const CODE_TARGETS = [
  'your code', 'your solution', 'your implementation', 'your program', 'your script', 'your response', 'your answer', 'your reply', 'your algorithm',
  'your output', 'the code you', 'the script you', 'the program you', 'any code you', 'every script you', 'all code you',
];

const SPECS: Spec[] = [
  {
    id: 'override-previous-instructions',
    seq: [OVERRIDE_VERBS, 3, PRIOR, 2, INSTR],
    boost: 6,
    weak: ['my', 'our', 'his', 'her', 'their', 'these', 'this', 'that', 'fire', 'form', 'recipe'],
  },
  {
    id: 'override-everything-above',
    seq: [['ignore', 'disregard', 'forget'], 1, ['everything', 'all', 'anything', 'what'], 2, ['above', 'before', 'previously', 'you were told', 'you have been told', 'said before', 'so far']],
    boost: 5,
    weak: ['my', 'our'],
  },
  // Other languages: verb … instructions.
  { id: 'override-instructions-fr', seq: [['ignore', 'ignorez', 'ignores', 'oublie', 'oubliez'], 3, ['instructions', 'consignes', 'directives']], boost: 6, weak: ['mon', 'mes', 'notre', 'nos'] },
  { id: 'override-instructions-de', seq: [['ignoriere', 'ignorieren', 'ignoriert', 'vergiss', 'vergessen'], 3, ['anweisungen', 'instruktionen', 'befehle', 'vorgaben']], boost: 6, weak: ['meine', 'unsere'] },
  { id: 'override-instructions-es-pt-it', seq: [['ignora', 'ignore', 'ignoren', 'olvida', 'olvide', 'esqueca', 'esqueça', 'dimentica', 'ignorare'], 3, ['instrucciones', 'instrucoes', 'instruções', 'istruzioni', 'indicaciones']], boost: 6, weak: ['mis', 'nuestras', 'minhas', 'mie'] },
  { id: 'override-instructions-nl', seq: [['negeer', 'vergeet'], 3, ['instructies', 'aanwijzingen']], boost: 6 },
  { id: 'override-instructions-pl', seq: [['zignoruj', 'zapomnij'], 3, ['instrukcje', 'polecenia']], boost: 6 },
  { id: 'override-instructions-tr', seq: [['önceki', 'onceki'], 2, ['talimatları', 'talimatlari'], 1, ['yok', 'unut', 'görmezden']], boost: 6 },
  { id: 'override-instructions-ru', seq: [['игнорируй', 'игнорируйте', 'проигнорируй', 'забудь', 'забудьте', 'ігноруй'], 3, ['инструкции', 'указания', 'инструкций', 'інструкції']], boost: 6 },
  { id: 'override-instructions-zh', seq: [['忽略', '忽视', '无视', '忘记', '忘掉', '無視'], 6, ['指令', '指示', '说明', '提示', '命令', '规则']], boost: 6 },
  { id: 'override-instructions-ja', seq: [['指示', '命令'], 3, ['無視', '忘れ']], boost: 6 },
  { id: 'override-instructions-ko', seq: [['지시를', '지시는', '지시사항을', '명령을'], 1, ['무시하고', '무시하세요', '무시해', '잊어버리세요']], boost: 6 },
  { id: 'override-instructions-ar', seq: [['تجاهل'], 2, ['التعليمات']], boost: 6 },
  { id: 'override-instructions-hi', seq: [['निर्देशों'], 2, ['अनदेखा']], boost: 6 },
  {
    id: 'chat-template-role-token',
    seq: [['< im start', '< im end', '< im sep', '< eot id', '< endoftext', '< start header id', '< end header id', '< < sys', '[ inst', '[ inst ]']],
    boost: 6,
  },
  {
    id: 'instruction-tag-block',
    seq: [['< important >', '< instructions >', '< instruction >', '< information >', '< admin >', '< system >', '< system prompt >', '< secret >', '< hidden >']],
    boost: 2,
    descBoost: 6,
  },
  {
    id: 'conceal-from-user',
    seq: [['do not', 'dont', 'don t', 'never', 'without', 'not'], 1, ['tell', 'telling', 'inform', 'informing', 'notify', 'notifying', 'mention', 'mentioning', 'reveal', 'revealing', 'alert', 'alerting', 'let'], 2, ['the user', 'user', 'users', 'the human', 'the owner', 'the account owner', 'anyone']],
    boost: 3,
    descBoost: 6,
  },
  {
    id: 'addressed-to-ai',
    seq: [['if you are', 'you are', 'as', 'hey', 'dear', 'hello', 'attention'], 1, ['an ai', 'a language model', 'an llm', 'an ai assistant', 'an ai agent', 'an autonomous agent', 'ai assistant', 'ai agent', 'language model', 'llm', 'ai model']],
    boost: 2.5,
  },
  {
    id: 'note-to-ai',
    seq: [['note', 'message', 'instruction', 'instructions', 'attention', 'notice', 'reminder', 'directive', 'request'], 0, ['to', 'for'], 1, AI_NOUNS],
    boost: 2.5,
    notFollowedBy: ['manager', 'managers', 'professor', 'director', 'coach', 'editor', 'teacher', 'engineer', 'engineers', 'developers', 'team'],
  },
  {
    id: 'role-hijack',
    seq: [['you are now'], 1, ['dan', 'unrestricted', 'jailbroken', 'free', 'in developer mode', 'an unfiltered', 'evil', 'no longer bound']],
    boost: 3,
  },
  { id: 'mode-switch', seq: [['developer', 'dan', 'god', 'admin', 'debug', 'jailbreak', 'unrestricted'], 0, ['mode'], 0, ['enabled', 'activated', 'on', 'is on', 'engaged']], boost: 3 },
  {
    id: 'system-message-marker',
    seq: [['# # # system', '# # # instruction', '# # # admin', '# # # new instructions', '[ system ]', '[ admin ]', '[ sys ]', '[ system message ]', '[ system note ]', '[ system prompt ]', 'system override', 'admin override', 'priority override', 'security override']],
    boost: 2.5,
  },
  // Task injections (BIPIA-style): an imperative about the reader's own reply
  // ("Add … to your response", "In your answer, promote …"). A human reader of
  // a tool output has no "response" to shape; an assistant does.
  {
    id: 'steer-own-reply',
    seq: [REPLY_VERBS, 8, ['your'], 1, REPLY_NOUNS],
    boost: 4,
    // "Include your order number in your reply": the reader is asked for data of their own, as people are.
    weakBoost: 0,
    weak: ['number', 'order', 'ticket', 'reference', 'invoice', 'receipt', 'booking', 'confirmation', 'availability', 'name', 'address', 'phone', 'signature', 'id', 'details', 'comments', 'feedback', 'rsvp', 'preferences', 'questions'],
    // …on paper or in a form: "write your answer in the box", "send your reply by Friday".
    notFollowedBy: ['by', 'before', 'until', 'below', 'above', 'here', 'form', 'sheet', 'box', 'space', 'field', 'blank', 'booklet', 'card', 'paper', 'portal'],
  },
  { id: 'steer-own-reply-lead', seq: [['in your', 'within your', 'throughout your', 'when you', 'while you', 'as you'], 0, REPLY_NOUNS_AND_ACTS], boost: 4, sentenceStart: true },
  // Code-insertion requests: "Blend the following snippet into your code".
  {
    id: 'insert-code-into-answer',
    seq: [CODE_INSERT_VERBS, 6, ['code', 'snippet', 'block', 'excerpt', 'script', 'function', 'lines', 'segment', 'fragment'], 10, CODE_TARGETS],
    boost: 3,
  },
  {
    id: 'secret-exfiltration-in-description',
    kind: 'tool_description',
    seq: [['read', 'cat', 'open', 'include', 'pass', 'send', 'upload', 'attach', 'copy', 'provide', 'append', 'forward', 'post', 'leak'], 8, ['ssh', 'id rsa', 'id ed25519', 'mcp json', 'aws credentials', 'env file', 'private key', 'private keys', 'api key', 'api keys', 'password', 'passwords', 'credentials', 'secret key', 'session token', 'cookies', 'claude desktop config', 'bash history', 'netrc', 'conversation history', 'chat history', 'previous messages']],
    boost: 4,
  },
  {
    id: 'tool-shadowing-in-description',
    kind: 'tool_description',
    seq: [['when', 'whenever', 'every time', 'if'], 6, ['send email', 'send an email', 'send message', 'send messages', 'sending', 'transfer', 'other tool', 'other tools', 'any tool', 'any other tool', 'the user asks'], 10, ['bcc', 'cc', 'always', 'also send', 'change the recipient', 'instead']],
    boost: 3,
  },
];

/** Words that mark text *about* injections (documentation, reports, tests) rather than an injection. */
const META_WORDS = ['example', 'examples', 'payload', 'payloads', 'attack', 'attacks', 'attacker', 'attackers', 'injection', 'injections', 'jailbreak', 'jailbreaks', 'redteam', 'red', 'detect', 'detects', 'detection', 'detector', 'filter', 'filters', 'flagged', 'flags', 'phrase', 'phrases', 'string', 'strings', 'malicious', 'adversarial', 'owasp', 'mitigation', 'mitigations', 'quoted', 'quote', 'scanner', 'classifier', 'guardrail', 'guardrails', 'defence', 'defences', 'defense', 'defenses', 'vulnerability', 'vulnerabilities', 'researcher', 'researchers', 'such', 'instance', 'testers', 'dataset', 'bug', 'severity', 'incident', 'injected', 'planted', 'embedded', 'research', 'quoting', 'fixture', 'fixtures', 'benchmark', 'evaluation', 'evaluated', 'ctf', 'pentest', 'awareness', 'jailbreaking', 'exfiltration', 'threat', 'mitigate'];
const META_REACH = 24;

interface Compiled {
  rules: Rule[];
  /** First-token hash -> rules whose first step can start with it. */
  starts: Map<number, Rule[]>;
  bloom: Uint8Array;
  meta: Set<number>;
}

let C: Compiled | undefined;

function compile(): Compiled {
  const rules: Rule[] = [];
  const starts = new Map<number, Rule[]>();
  const bloom = new Uint8Array(4096);
  for (const sp of SPECS) {
    const steps: Step[] = [];
    let gap = 0;
    for (const x of sp.seq) {
      if (typeof x === 'number') {
        gap = x;
        continue;
      }
      const alts = [...new Set(x.map((p) => phraseHashes(p).join(',')))]
        .filter(Boolean)
        .map((k) => k.split(',').map(Number))
        .sort((a, b) => b.length - a.length);
      steps.push({ alts, gap });
      gap = 0;
    }
    const rule: Rule = {
      id: sp.id,
      steps,
      boost: sp.boost,
      descBoost: sp.descBoost,
      kind: sp.kind,
      weak: sp.weak ? new Set(sp.weak.flatMap(phraseHashes)) : undefined,
      weakBoost: sp.weakBoost ?? 1,
      sentenceStart: sp.sentenceStart,
      notFollowedBy: sp.notFollowedBy ? new Set(sp.notFollowedBy.flatMap(phraseHashes)) : undefined,
    };
    rules.push(rule);
    for (const alt of steps[0].alts) {
      const h = alt[0];
      let a = starts.get(h);
      if (!a) starts.set(h, (a = []));
      if (!a.includes(rule)) a.push(rule);
      bloom[h & 4095] = 1;
    }
  }
  return { rules, starts, bloom, meta: new Set(META_WORDS.flatMap(phraseHashes)) };
}

/** End (exclusive) of a match of steps[k..] starting exactly at token p, or -1. */
function matchFrom(steps: Step[], k: number, hash: Int32Array, n: number, p: number): number {
  if (k === steps.length) return p;
  const st = steps[k];
  const maxGap = k === 0 ? 0 : st.gap;
  for (let g = 0; g <= maxGap; g++) {
    const q = p + g;
    if (q >= n) return -1;
    for (const alt of st.alts) {
      if (q + alt.length > n) continue;
      let ok = true;
      for (let j = 0; j < alt.length; j++) {
        if (hash[q + j] !== alt[j]) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      const e = matchFrom(steps, k + 1, hash, n, q + alt.length);
      if (e >= 0) return e;
    }
  }
  return -1;
}

/** Rules layer. `t` must be the tokenisation of `text`. */
export function applyRules(text: string, t: Tokens, kind: TextKind): RuleHit[] {
  const c = (C ??= compile());
  const { n, hash, start, end } = t;
  const bloom = c.bloom;
  let hits: RuleHit[] | undefined;
  let lastEnd = -1;
  for (let i = 0; i < n; i++) {
    const h = hash[i];
    if (bloom[h & 4095] === 0) continue;
    const rules = c.starts.get(h);
    if (rules === undefined || i < lastEnd) continue;
    for (const rule of rules) {
      if (rule.kind !== undefined && rule.kind !== kind) continue;
      const e = matchFrom(rule.steps, 0, hash, n, i);
      if (e < 0) continue;
      if (rule.notFollowedBy && followedBy(hash, e, Math.min(n, e + FOLLOW_REACH), rule.notFollowedBy)) continue;
      if (rule.sentenceStart && !atSentenceStart(text, start[i])) continue;
      let boost = kind === 'tool_description' && rule.descBoost !== undefined ? rule.descBoost : rule.boost;
      if (rule.weak) {
        for (let j = i; j < e; j++) {
          if (rule.weak.has(hash[j])) {
            boost = Math.min(boost, rule.weakBoost);
            break;
          }
        }
      }
      if (boost === 0) {
        // Weak to nothing: the span is benign, and no other rule may start inside it.
        lastEnd = e;
        break;
      }
      // A write-up may quote a payload; an attacker may not cap a rule just by
      // putting "attacker" in a mail domain or "example" after the payload. So
      // the cap needs both: the match is set off as a quotation, and real words
      // about injections surround it.
      let damped = false;
      if (boost > 1 && quotation(text, start[i], end[e - 1]) && metaWordCount(text, t, i - META_REACH, e + META_REACH) > 0) {
        damped = true;
        boost = 1;
      }
      (hits ??= []).push({ id: rule.id, boost, start: start[i], end: end[e - 1], damped });
      lastEnd = e;
      break;
    }
  }
  return hits ?? [];
}

/** Ids of all rules (for documentation and tests). */
export function ruleIds(): string[] {
  return SPECS.map((s) => s.id);
}

/**
 * Number of distinct words that mark text as *about* injections (see
 * META_WORDS) among tokens [a, b). Used by the detector to discount a
 * classifier window that sits in a security write-up quoting a payload.
 */
export function metaWordCount(text: string, t: Tokens, a: number, b: number): number {
  const c = (C ??= compile());
  const lo = Math.max(0, a);
  const hi = Math.min(t.n, b);
  let seen: Set<number> | undefined;
  for (let i = lo; i < hi; i++) {
    const h = t.hash[i];
    if (c.meta.has(h) && !inAddress(text, t.start[i], t.end[i])) (seen ??= new Set()).add(h);
  }
  return seen ? seen.size : 0;
}

/** How many tokens after a match `notFollowedBy` looks at ("write your answer in the box"). */
const FOLLOW_REACH = 3;

function followedBy(hash: Int32Array, a: number, b: number, set: Set<number>): boolean {
  for (let j = a; j < b; j++) if (set.has(hash[j])) return true;
  return false;
}

/** Whether offset s opens a sentence, a line or a string field (only spaces back to `.`, `!`, `?`, `:`, a newline, `"`, `>` or the start). */
function atSentenceStart(text: string, s: number): boolean {
  let k = s - 1;
  while (k >= 0 && (text.charCodeAt(k) === 32 || text.charCodeAt(k) === 9)) k--;
  if (k < 0) return true;
  const c = text[k];
  if (c === 'n' && k > 0 && text[k - 1] === '\\') return true; // an escaped newline in JSON
  return c === '.' || c === '!' || c === '?' || c === ':' || c === '\n' || c === '\r' || c === '"' || c === '>';
}

/** The word text[s, e) is part of an e-mail address, host name or path (`x@attacker.example`), not prose. */
function inAddress(text: string, s: number, e: number): boolean {
  const before = s > 0 ? text.charCodeAt(s - 1) : 32;
  const after = e < text.length ? text.charCodeAt(e) : 32;
  const joined = (c: number, next: number) => (c === 64 || c === 47 || c === 95 || ((c === 46 || c === 45) && isWordChar(next)));
  return joined(before, s > 1 ? text.charCodeAt(s - 2) : 32) || joined(after, e + 1 < text.length ? text.charCodeAt(e + 1) : 32);
}

function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

const OPEN_CLOSE: Record<string, string> = { '"': '"', '\u201c': '\u201d', '\u00ab': '\u00bb', '`': '`', '(': ')' };
/** Prose that introduces a quoted example right before it: "a typical payload looks like: …", "such as …". */
const INTRODUCED = /\b(such as|looks? like|like this|e\.g\.|i\.e\.|for (example|instance)|reads|says)\s*[:,]?\s*$/i;
/** How far (UTF-16 units) a quotation may extend past the match before it must close. */
const QUOTE_REACH = 400;

/**
 * Whether text[s, e) is set off as a quotation: inside a fenced or indented
 * code block, on a blockquote line, or between an opening and a closing
 * delimiter on its own line. A JSON string value is not a quotation (its
 * opening quote follows `:`, `[`, `{` or a value and a comma).
 */
function quotation(text: string, s: number, e: number): boolean {
  const lineStart = text.lastIndexOf('\n', s - 1) + 1;
  let lineEnd = text.indexOf('\n', e);
  if (lineEnd < 0) lineEnd = text.length;
  const line = text.slice(lineStart, s);
  if (/^(\s*>|    |\t)/.test(line)) return true;
  if (INTRODUCED.test(line)) return true;
  let fences = 0;
  for (let k = text.indexOf('```'); k >= 0 && k < s; k = text.indexOf('```', k + 3)) fences++;
  if (fences % 2 === 1) return true;
  for (let k = line.length - 1; k >= 0; k--) {
    const close = OPEN_CLOSE[line[k]];
    if (close === undefined) continue;
    const prev = line.slice(0, k).trimEnd();
    if (line[k] === '"' && /([:[{]|["\d\]}el],)$/.test(prev)) return false;
    const at = text.indexOf(close, e);
    if (at >= 0 && at < Math.min(lineEnd, e + QUOTE_REACH)) {
      // An opener of the same kind closed before the match does not count ("a" … "b" … match).
      if (close !== line[k] || countOf(line, line[k]) % 2 === 1) return true;
    }
    return false;
  }
  return false;
}

function countOf(s: string, ch: string): number {
  let k = 0;
  for (let i = s.indexOf(ch); i >= 0; i = s.indexOf(ch, i + 1)) k++;
  return k;
}
