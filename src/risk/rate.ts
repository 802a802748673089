import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import {
  PERMISSIONS,
  REVERSIBILITIES,
  type Answer,
  type BlastRadius,
  type FlowLabel,
  type Permission,
  type Reversibility,
  type ServerPolicyConfig,
  type Tier,
  type ToolRating,
  type ToolRiskOverride,
} from './types.js';
import { matchingEntries } from './match.js';

/**
 * Rates one tool. Sources, strongest first:
 *  1. config (servers.<name>.risk.tools.<tool>, servers.<name>.risk.blast_radius, servers.<name>.labels);
 *  2. annotations on a server marked `trust_annotations: true`: believed, heuristics only refine
 *     a non-read tool to delete/execute (which annotations cannot express);
 *  3. otherwise the worse of the annotations (with the MCP spec's worst-case defaults for absent
 *     hints: readOnlyHint false, destructiveHint true, openWorldHint true) and the name/description
 *     heuristics. An untrusted server can claim a tool is harmless; its name and description can
 *     still make it look worse, and nothing it says can make it look better than its own words.
 */
export function rateTool(server: string, definition: Tool, policy: ServerPolicyConfig = {}): ToolRating {
  const name = definition.name;
  const override = toolOverride(policy, name);
  const trusted = policy.risk?.trust_annotations === true;
  const words = nameWords(name);
  const desc = typeof definition.description === 'string' ? definition.description.toLowerCase() : '';
  const lead = leadWords(desc);
  const hints = readHints(definition);

  const permission = override.permission
    ? configured(override.permission, `servers.${server}.risk.tools.${override.keys.permission}.permission`)
    : ratePermission(hints, trusted, heuristicPermission(words, lead, desc));
  const reversibility = override.reversibility
    ? configured(override.reversibility, `servers.${server}.risk.tools.${override.keys.reversibility}.reversibility`)
    : rateReversibility(hints, trusted, heuristicReversibility(desc, permission.value));
  const blastRadius = override.blast_radius
    ? configured(override.blast_radius, `servers.${server}.risk.tools.${override.keys.blast_radius}.blast_radius`)
    : policy.risk?.blast_radius
      ? configured(policy.risk.blast_radius, `servers.${server}.risk.blast_radius`)
      : (heuristicBlast(words, desc) ?? { value: 'app' as BlastRadius, source: 'default', why: 'not configured for the server; assumed to reach the application' });
  const tier = override.tier
    ? configured(override.tier, `servers.${server}.risk.tools.${override.keys.tier}.tier`)
    : { value: tierOf(permission.value, blastRadius.value, reversibility.value), source: 'derived' as const, why: 'from permission, blast radius and reversibility' };
  const labels = rateLabels(server, policy, name, permission.value, hints, words, desc);
  return Object.freeze({ server, tool: name, permission, blastRadius, reversibility, tier, labels });
}

/**
 * Points: permission read 0, write 1, send-external 1, delete 2, execute 3; blast radius user 0,
 * app 1, enterprise 2; irreversible +1. Total 0–1 low, 2 medium, 3 high, 4+ critical; running
 * arbitrary code is at least high.
 */
export function tierOf(permission: Permission, blast: BlastRadius, reversibility: Reversibility): Tier {
  const p = { read: 0, write: 1, 'send-external': 1, delete: 2, execute: 3 }[permission];
  const b = { user: 0, app: 1, enterprise: 2 }[blast];
  const r = permission === 'read' ? 0 : reversibility === 'irreversible' ? 1 : 0;
  const score = p + b + r;
  const tier: Tier = score <= 1 ? 'low' : score === 2 ? 'medium' : score === 3 ? 'high' : 'critical';
  return permission === 'execute' && (tier === 'low' || tier === 'medium') ? 'high' : tier;
}

// ---- annotations -------------------------------------------------------------

interface Hint {
  value: boolean;
  /** false: the hint was absent and the spec's default applies. */
  given: boolean;
}

interface Hints {
  readOnly: Hint;
  destructive: Hint;
  openWorld: Hint;
}

function readHints(definition: Tool): Hints {
  const a = (definition.annotations ?? {}) as Record<string, unknown>;
  const hint = (key: string, fallback: boolean): Hint => (typeof a[key] === 'boolean' ? { value: a[key] as boolean, given: true } : { value: fallback, given: false });
  return { readOnly: hint('readOnlyHint', false), destructive: hint('destructiveHint', true), openWorld: hint('openWorldHint', true) };
}

const show = (name: string, h: Hint) => `${name}: ${h.value}${h.given ? '' : ' (absent; spec default)'}`;
const annotationSource = (trusted: boolean, ...used: Hint[]) => (used.every((h) => h.given) ? (trusted ? 'annotation' : 'annotation (untrusted)') : 'default');

function annotationPermission(h: Hints, trusted: boolean): Answer<Permission> {
  if (h.readOnly.value) return { value: 'read', source: annotationSource(trusted, h.readOnly), why: show('readOnlyHint', h.readOnly) };
  if (h.openWorld.value) return { value: 'send-external', source: annotationSource(trusted, h.readOnly, h.openWorld), why: `${show('readOnlyHint', h.readOnly)}, ${show('openWorldHint', h.openWorld)}: may act on the outside world` };
  return { value: 'write', source: annotationSource(trusted, h.readOnly, h.openWorld), why: `${show('readOnlyHint', h.readOnly)}, ${show('openWorldHint', h.openWorld)}` };
}

function annotationReversibility(h: Hints, trusted: boolean): Answer<Reversibility> {
  if (h.readOnly.value) return { value: 'reversible', source: annotationSource(trusted, h.readOnly), why: `${show('readOnlyHint', h.readOnly)}: changes nothing` };
  if (h.destructive.value) return { value: 'irreversible', source: annotationSource(trusted, h.readOnly, h.destructive), why: show('destructiveHint', h.destructive) };
  if (h.openWorld.value) return { value: 'irreversible', source: annotationSource(trusted, h.readOnly, h.destructive, h.openWorld), why: `${show('openWorldHint', h.openWorld)}: effects outside cannot be rolled back` };
  return { value: 'reversible', source: annotationSource(trusted, h.readOnly, h.destructive, h.openWorld), why: 'destructiveHint: false, openWorldHint: false: additive changes only' };
}

function ratePermission(h: Hints, trusted: boolean, heuristic: Answer<Permission> | undefined): Answer<Permission> {
  const fromAnnotations = annotationPermission(h, trusted);
  if (!heuristic) return fromAnnotations;
  if (trusted && h.readOnly.given) {
    // A vouched-for server's own hints stand; only what hints cannot say (delete, execute) is added.
    if (fromAnnotations.value === 'read') return fromAnnotations;
    return rank(PERMISSIONS, heuristic.value) > rank(PERMISSIONS, fromAnnotations.value) && (heuristic.value === 'delete' || heuristic.value === 'execute') ? heuristic : fromAnnotations;
  }
  return worse(PERMISSIONS, fromAnnotations, heuristic);
}

function rateReversibility(h: Hints, trusted: boolean, heuristic: Answer<Reversibility> | undefined): Answer<Reversibility> {
  const fromAnnotations = annotationReversibility(h, trusted);
  if (!heuristic || (trusted && h.readOnly.given && h.destructive.given)) return fromAnnotations;
  return worse(REVERSIBILITIES, fromAnnotations, heuristic);
}

// ---- heuristics ----------------------------------------------------------------

const EXECUTE_WORDS = new Set(['exec', 'execute', 'execution', 'shell', 'bash', 'sh', 'zsh', 'powershell', 'cmd', 'command', 'commands', 'eval', 'evaluate', 'spawn', 'subprocess', 'terminal', 'script', 'repl']);
const RUN_OBJECTS = new Set(['code', 'command', 'script', 'program', 'process', 'query', 'sql', 'job', 'python', 'js', 'javascript', 'node']);
const DELETE_WORDS = new Set(['delete', 'deletion', 'remove', 'removal', 'drop', 'destroy', 'purge', 'erase', 'wipe', 'truncate', 'unlink', 'rm', 'rmdir', 'del', 'uninstall', 'revoke', 'terminate']);
const SEND_WORDS = new Set(['send', 'post', 'publish', 'upload', 'share', 'tweet', 'toot', 'notify', 'forward', 'transmit', 'webhook', 'broadcast', 'reply', 'dm', 'invite']);
/** Words that are also nouns: after a leading read verb (get_post, list_orders) they name data, not an action. */
const AMBIGUOUS = new Set(['post', 'share', 'reply', 'invite', 'drop', 'order', 'charge', 'payment', 'billing', 'mark', 'store', 'book', 'notify', 'refund', 'command', 'script', 'commands']);
const WRITE_WORDS = new Set([
  'create', 'update', 'write', 'set', 'put', 'insert', 'add', 'edit', 'modify', 'patch', 'save', 'move', 'rename', 'refund', 'charge', 'pay',
  'payment', 'transfer', 'approve', 'assign', 'close', 'merge', 'commit', 'push', 'deploy', 'change', 'replace', 'append', 'upsert', 'toggle',
  'enable', 'disable', 'register', 'book', 'order', 'cancel', 'archive', 'restore', 'import', 'apply', 'grant', 'reset', 'mark', 'store', 'billing',
]);
const READ_WORDS = new Set(['get', 'read', 'list', 'search', 'find', 'fetch', 'query', 'lookup', 'view', 'show', 'describe', 'retrieve', 'download', 'browse', 'count', 'check', 'inspect', 'stat', 'cat', 'summarise', 'summarize']);

const LEAD_EXECUTE = /^(executes?|runs?|evaluates?)\b/;
const LEAD_DELETE = /^(permanently |irreversibly )?(deletes?|removes?|destroys?|purges?|erases?|wipes?|drops?)\b/;
const LEAD_SEND = /^(sends?|posts?|publish(es)?|uploads?|forwards?|transmits?|emails?|tweets?|broadcasts?|shares?)\b/;
const DESC_EXECUTE = /\b(arbitrary (shell |system )?(code|commands?)|shell commands?|runs? (a |an |any )?(shell|system|terminal) command)\b/;
const DESC_IRREVERSIBLE = /\b(irreversib\w*|cannot be (undone|reversed|recalled|restored)|can ?not be (undone|reversed|recalled)|can't be (undone|reversed|recalled)|permanent(ly)?|no undo|not reversible)\b/;
const ENTERPRISE_WORDS = new Set(['admin', 'administrator', 'database', 'db', 'sql', 'tenant', 'tenants', 'org', 'organization', 'organisation', 'global', 'everyone', 'all']);
const DESC_ENTERPRISE = /\b(administrative|administrator|admin access|all (users|customers|accounts|records|tenants|employees)|organi[sz]ation[- ]wide|company[- ]wide|every (user|customer|account|employee)|bulk|database|tenant)\b/;

/** snake_case, kebab-case, dotted and camelCase names as lower-case words. */
export function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .map((w) => w.toLowerCase())
    .filter(Boolean);
}

/** The first sentence's opening words: where descriptions put their verb ("Sends an email…"). */
function leadWords(desc: string): string {
  return desc.split(/(?<=[.!?])\s|\n/)[0]?.trim().split(/\s+/).slice(0, 3).join(' ') ?? '';
}

function heuristicPermission(all: string[], lead: string, desc: string): Answer<Permission> | undefined {
  // Names put the verb first (get_order, send_reply_email) or last (account_deletion). After a
  // leading read verb only unambiguous danger words count: get_post reads a post, it posts nothing.
  const readFirst = all.length > 0 && READ_WORDS.has(all[0]);
  const words = readFirst ? all.filter((w) => !AMBIGUOUS.has(w)) : all;
  const hit = (set: Set<string>) => words.find((w) => set.has(w));
  const runs = words.includes('run') && words.find((w) => RUN_OBJECTS.has(w));
  const exec = hit(EXECUTE_WORDS) ?? (runs ? `run ${runs}` : undefined);
  if (exec) return heuristic('execute', `name says "${exec}"`);
  if (LEAD_EXECUTE.test(lead)) return heuristic('execute', `description starts "${lead}"`);
  const code = DESC_EXECUTE.exec(desc);
  if (code) return heuristic('execute', `description says "${code[0]}"`);
  const del = hit(DELETE_WORDS);
  if (del) return heuristic('delete', `name says "${del}"`);
  if (LEAD_DELETE.test(lead)) return heuristic('delete', `description starts "${lead}"`);
  const send = hit(SEND_WORDS);
  if (send) return heuristic('send-external', `name says "${send}"`);
  if (LEAD_SEND.test(lead)) return heuristic('send-external', `description starts "${lead}"`);
  if (readFirst) return heuristic('read', `name starts "${all[0]}"`);
  const write = hit(WRITE_WORDS);
  if (write) return heuristic('write', `name says "${write}"`);
  const read = hit(READ_WORDS);
  if (read) return heuristic('read', `name says "${read}"`);
  return undefined;
}

function heuristicReversibility(desc: string, permission: Permission): Answer<Reversibility> | undefined {
  const m = DESC_IRREVERSIBLE.exec(desc);
  if (m && permission !== 'read') return heuristic('irreversible', `description says "${m[0]}"`);
  if (permission === 'delete' || permission === 'execute') return heuristic('irreversible', `${permission} assumed permanent`);
  if (permission === 'send-external') return heuristic('irreversible', 'what was sent cannot be recalled');
  return undefined;
}

function heuristicBlast(words: string[], desc: string): Answer<BlastRadius> | undefined {
  const w = words.find((x) => ENTERPRISE_WORDS.has(x));
  if (w) return heuristic('enterprise', `name says "${w}"`);
  const m = DESC_ENTERPRISE.exec(desc);
  if (m) return heuristic('enterprise', `description says "${m[0]}"`);
  return undefined;
}

// ---- flow labels ---------------------------------------------------------------

const UNTRUSTED_WORDS = new Set(['fetch', 'browse', 'browser', 'web', 'url', 'http', 'https', 'scrape', 'crawl', 'rss', 'feed', 'inbox', 'inbound', 'issue', 'issues', 'comment', 'comments', 'chat', 'slack', 'discord', 'tweet', 'tweets', 'news', 'webpage', 'page', 'html', 'internet', 'google', 'bing']);
const PRIVATE_WORDS = new Set(['crm', 'customer', 'customers', 'file', 'files', 'database', 'db', 'record', 'records', 'account', 'accounts', 'contact', 'contacts', 'employee', 'employees', 'payroll', 'secret', 'secrets', 'credential', 'credentials', 'mail', 'email', 'inbox', 'calendar', 'document', 'documents', 'doc', 'docs', 'note', 'notes', 'patient', 'invoice', 'invoices', 'order', 'orders', 'ticket', 'tickets', 'env', 'user', 'users']);

function rateLabels(server: string, policy: ServerPolicyConfig, name: string, permission: Permission, h: Hints, words: string[], desc: string): Answer<readonly FlowLabel[]> {
  const configured = matchingEntries(policy.labels, name);
  if (configured.length > 0) {
    const labels = [...new Set(configured.flatMap(([, v]) => v))].sort() as FlowLabel[];
    return { value: Object.freeze(labels), source: 'config', why: configured.map(([k]) => `servers.${server}.labels.${k}`).join(', ') };
  }
  const labels = new Set<FlowLabel>();
  const why: string[] = [];
  if (permission === 'read') {
    const outside = words.find((w) => UNTRUSTED_WORDS.has(w));
    if (h.openWorld.value) {
      labels.add('untrusted');
      why.push(`read tool with ${show('openWorldHint', h.openWorld)}: returns outside content`);
    } else if (outside) {
      labels.add('untrusted');
      why.push(`name says "${outside}": returns outside content`);
    }
    const inside = words.find((w) => PRIVATE_WORDS.has(w)) ?? (/\b(customer|personal|confidential|private|internal)\b/.exec(desc)?.[0]);
    if (!h.openWorld.value) {
      labels.add('private');
      why.push('read tool of a closed world (openWorldHint: false): returns the organisation\'s data');
    } else if (inside) {
      labels.add('private');
      why.push(`mentions "${inside}": may return sensitive data`);
    }
  } else if (permission === 'send-external' || permission === 'execute') {
    labels.add('sink');
    why.push(permission === 'execute' ? 'runs code, which can send anything anywhere' : 'sends data out');
  }
  return { value: Object.freeze([...labels].sort()), source: 'derived', why: why.join('; ') || 'reads nothing sensitive and sends nothing out' };
}

// ---- helpers -----------------------------------------------------------------

function heuristic<T>(value: T, why: string): Answer<T> {
  return { value, source: 'heuristic', why };
}

function configured<T>(value: T, why: string): Answer<T> {
  return { value, source: 'config', why };
}

function rank<T>(order: readonly T[], v: T): number {
  return order.indexOf(v);
}

/** The more dangerous answer; on a tie the first (annotations/defaults) keeps the credit. */
function worse<T>(order: readonly T[], a: Answer<T>, b: Answer<T>): Answer<T> {
  return rank(order, b.value) > rank(order, a.value) ? b : a;
}

interface ResolvedOverride extends ToolRiskOverride {
  /** Which config key gave each field (an exact name or a glob). */
  keys: Record<keyof ToolRiskOverride, string>;
}

/** Exact tool names win; otherwise glob keys apply in the order written, later ones overriding. */
function toolOverride(policy: ServerPolicyConfig, name: string): ResolvedOverride {
  const out: Record<string, unknown> = {};
  const keys = {} as Record<keyof ToolRiskOverride, string>;
  for (const [key, o] of matchingEntries(policy.risk?.tools, name)) {
    for (const field of ['permission', 'blast_radius', 'reversibility', 'tier'] as const) {
      if (o[field] !== undefined) {
        out[field] = o[field];
        keys[field] = key;
      }
    }
  }
  return { ...(out as ToolRiskOverride), keys };
}

