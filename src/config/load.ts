import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { closest } from 'fastest-levenshtein';
import { LineCounter, parseDocument, isMap, type Document } from 'yaml';
import type { z } from 'zod';
import { configSchema, isStdioServer, type Config, type ConfigInput } from './schema.js';
import { Identity } from '../policy/identity.js';
import { isGlob, parseNamePattern } from '../policy/patterns.js';
import { APPROVALS_CONFIG_KEYS, checkApprovalsConfig } from '../approvals/config.js';
import { RISK_CONFIG_KEYS, checkRiskConfig } from '../risk/config.js';
import { RATE_LIMIT_CONFIG_KEYS, rateLimitsOptions } from '../guards/rate-limit/config.js';
import { SCREENING_CONFIG_KEYS } from '../guards/output-screening/config.js';
import { ADMISSION_CONFIG_KEYS } from '../admission/config.js';
import { analyseLaunch } from '../admission/launch.js';
import { findConfigTyposquats } from '../admission/config-typosquats.js';

export interface ConfigProblem {
  /** Dotted path with [index] for arrays: identities.support-agent-v1.allowed_tools[1] */
  path: string;
  line?: number;
  column?: number;
  message: string;
}

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: ConfigProblem[],
  ) {
    super(
      `${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n` +
        problems.map((p) => `  ${p.line ? `${file}:${p.line}:${p.column} ` : ''}${p.path || '(top level)'}: ${p.message}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

export interface LoadedConfig {
  config: Config;
  identities: ReadonlyMap<string, Identity>;
  warnings: ConfigProblem[];
  file: string;
}

export async function loadConfigFile(file: string): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, [{ path: '', message: `cannot read the config file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); pass --config with the path of a YAML or JSON file` }]);
  }
  const loaded = parseConfig(text, file);
  // Files the config names are found from the config's own directory, wherever the gateway is started.
  const base = dirname(resolve(file));
  const admission = loaded.config.admission;
  admission.lock = resolve(base, admission.lock ?? 'portcullis.lock');
  for (const [name, key] of Object.entries(admission.trusted_keys)) if (!key.includes('-----BEGIN')) admission.trusted_keys[name] = resolve(base, key);
  if (admission.sigstore_trusted_root) admission.sigstore_trusted_root = resolve(base, admission.sigstore_trusted_root);
  for (const server of Object.values(loaded.config.servers)) {
    if (!isStdioServer(server)) {
      if (server.ca) server.ca = resolve(base, server.ca);
    } else if (server.sigstore) {
      server.sigstore.bundle = resolve(base, server.sigstore.bundle);
      if (server.sigstore.public_key && !server.sigstore.public_key.includes('-----BEGIN')) server.sigstore.public_key = resolve(base, server.sigstore.public_key);
    }
  }
  return loaded;
}

/** Parses YAML (JSON is a subset), validates the shape, then the meaning. */
export function parseConfig(text: string, file = '<config>'): LoadedConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const locate = (path: readonly PropertyKey[]) => position(doc, lines, path);
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => {
        const at = lines.linePos(e.pos[0]);
        return { path: '', line: at.line, column: at.col, message: `${e.message.split('\n')[0]} (fix the YAML syntax)` };
      }),
    );
  }
  return validateConfig(doc.toJS() ?? {}, file, locate);
}

/**
 * Validates a config given as an object (for embedding applications); the
 * same checks as a file, with paths but no line numbers.
 */
export function defineConfig(input: ConfigInput): LoadedConfig {
  return validateConfig(input, '<inline config>', () => ({}));
}

function validateConfig(raw: unknown, file: string, locate: (path: readonly PropertyKey[]) => { line?: number; column?: number }): LoadedConfig {
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(file, flattenIssues(parsed.error.issues, raw).map((i) => ({ ...locate(i.path), path: formatPath(i.path), message: i.message })));
  }
  const config = parsed.data;
  const { problems, warnings } = checkMeaning(config);
  if (problems.length > 0) {
    throw new ConfigError(file, problems.map((p) => ({ ...locate(p.at), path: formatPath(p.at), message: p.message })));
  }
  const identities = new Map<string, Identity>();
  const identityProblems: ConfigProblem[] = [];
  for (const [name, id] of Object.entries(config.identities)) {
    try {
      identities.set(name, identityFromConfig(name, id));
    } catch (error) {
      identityProblems.push({ ...locate(['identities', name]), path: `identities.${name}`, message: (error as Error).message });
    }
  }
  if (identityProblems.length > 0) throw new ConfigError(file, identityProblems);
  return { config, identities, warnings: warnings.map((w) => ({ ...locate(w.at), path: formatPath(w.at), message: w.message })), file };
}

export function identityFromConfig(name: string, id: Config['identities'][string]): Identity {
  return new Identity({
    name,
    allowedTools: id.allowed_tools,
    deniedTools: id.denied_tools,
    allowedResources: id.allowed_resources,
    deniedResources: id.denied_resources,
    allowedPrompts: id.allowed_prompts,
    deniedPrompts: id.denied_prompts,
    sessionTtlSeconds: id.session_ttl_seconds,
    requiresHumanApprovalOn: id.requires_human_approval_on,
    argumentConstraints: id.argument_constraints,
    rateLimits: rateLimitsOptions(id.rate_limits),
  });
}

type Path = (string | number)[];
interface Finding { at: Path; message: string }

const KNOWN_KEYS = [
  ...Object.keys(configSchema.shape),
  'command', 'args', 'env', 'cwd', 'prefix', 'timeout_seconds', 'url', 'headers', 'ca',
  'allowed_tools', 'denied_tools', 'allowed_resources', 'denied_resources', 'allowed_prompts', 'denied_prompts',
  'session_ttl_seconds', 'requires_human_approval_on', 'argument_constraints', 'max_message_bytes', 'durability', 'audience', 'issuer',
  'sandbox', 'filesystem', 'read_only', 'read_write', 'network', 'allow', 'memory_mb', 'cpu_seconds', 'processes', 'open_files', 'tmp_mb', 'stderr_kb',
  'from_env', 'from_file',
  ...APPROVALS_CONFIG_KEYS,
  ...RISK_CONFIG_KEYS,
  ...RATE_LIMIT_CONFIG_KEYS,
  ...SCREENING_CONFIG_KEYS,
  ...ADMISSION_CONFIG_KEYS,
];

/** Zod reports a union failure as one vague issue; pick the branch the user meant and report its issues instead. */
function flattenIssues(issues: z.core.$ZodIssue[], raw: unknown): { path: Path; message: string }[] {
  const out: { path: Path; message: string }[] = [];
  for (const issue of issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code === 'invalid_union' && path[0] === 'servers') {
      const value = valueAt(raw, path) as Record<string, unknown> | undefined;
      const hasCommand = value && typeof value === 'object' && 'command' in value;
      const hasUrl = value && typeof value === 'object' && 'url' in value;
      if (hasCommand !== hasUrl) {
        const branch = issue.errors[hasCommand ? 0 : 1] ?? [];
        out.push(...flattenIssues(branch.map((e) => ({ ...e, path: [...path, ...e.path] })) as z.core.$ZodIssue[], raw));
        continue;
      }
    }
    if (issue.code === 'invalid_union' && path.length > 0) {
      // A nested union (sandbox, network, an env value): when exactly one branch
      // got past the top-level type check, the user meant that one; report its issues.
      const meant = issue.errors.filter((branch) => branch.some((e) => e.path.length > 0 || e.code === 'unrecognized_keys'));
      if (meant.length === 1) {
        out.push(...flattenIssues(meant[0].map((e) => ({ ...e, path: [...path, ...e.path] })) as z.core.$ZodIssue[], raw));
        continue;
      }
    }
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        if (key === 'sandbox' && path[0] === 'servers' && path.length === 2) {
          out.push({ path: [...path, key], message: 'remote (HTTP) servers are not sandboxed by the gateway (their egress is the network\'s to control); remove sandbox here' });
          continue;
        }
        const guess = closest(key, KNOWN_KEYS);
        out.push({ path: [...path, key], message: `unknown field "${key}"${guess && distanceOk(key, guess) ? ` — did you mean "${guess}"?` : ''}` });
      }
      continue;
    }
    out.push({ path, message: issue.message });
  }
  return out;
}

function distanceOk(a: string, b: string): boolean {
  // Only suggest names that look like a slip of the keyboard, not unrelated words.
  let same = 0;
  for (const ch of new Set(a)) if (b.includes(ch)) same++;
  return same / new Set(a).size >= 0.6;
}

function checkMeaning(config: Config): { problems: Finding[]; warnings: Finding[] } {
  const problems: Finding[] = [];
  const warnings: Finding[] = [];
  const servers = Object.keys(config.servers);
  const sep = config.tool_name_separator;
  if (Object.keys(config.identities).length === 0) {
    warnings.push({ at: ['identities'], message: 'no identities are configured, so every client is refused; add one under identities:' });
  }

  if (config.anonymous_identity !== undefined) {
    if (!(config.anonymous_identity in config.identities)) {
      problems.push({ at: ['anonymous_identity'], message: `names identity "${config.anonymous_identity}", which is not configured${suggest(config.anonymous_identity, Object.keys(config.identities))}` });
    }
    if (config.mode === 'production') {
      problems.push({ at: ['anonymous_identity'], message: 'production mode refuses unauthenticated clients; remove anonymous_identity and issue tokens with "portcullis token issue"' });
    }
  }

  if (config.mode === 'production' && config.admission.first_use === 'pin') {
    problems.push({ at: ['admission', 'first_use'], message: 'production mode never pins on first use: every server must be in the signed lock; remove first_use or set it to refuse' });
  }
  if (config.mode === 'production' && Object.keys(config.admission.trusted_keys).length === 0) {
    problems.push({ at: ['admission', 'trusted_keys'], message: 'production mode needs a signed lock, so at least one trusted key; create one with "portcullis keygen" and list its .pub file here' });
  }
  if (config.admission.required_signatures > Math.max(1, Object.keys(config.admission.trusted_keys).length)) {
    problems.push({ at: ['admission', 'required_signatures'], message: `requires ${config.admission.required_signatures} signatures but only ${Object.keys(config.admission.trusted_keys).length} keys are trusted; add keys or lower it` });
  }

  for (const [name, server] of Object.entries(config.servers)) {
    if (!isStdioServer(server)) {
      if (config.mode === 'production' && server.url.startsWith('http:') && !isLoopbackUrl(server.url)) {
        problems.push({ at: ['servers', name, 'url'], message: 'production mode refuses plain-HTTP remote servers: their tools could be swapped in transit; use https:// (the lock pins its TLS key)' });
      }
      continue;
    }
    if (server.sigstore && !config.admission.sigstore_trusted_root) {
      problems.push({ at: ['servers', name, 'sigstore'], message: 'a sigstore bundle is verified against admission.sigstore_trusted_root, which is not set; point it at your trusted_root.json' });
    }
    const launch = analyseLaunch(server.command, server.args);
    if (config.mode === 'production' && launch && (!launch.pinned || launch.ecosystem !== 'npm')) {
      problems.push({
        at: ['servers', name, 'args', launch.argIndex],
        message: launch.ecosystem === 'npm'
          ? `production mode refuses "${launch.launcher} ${launch.spec}": an unpinned package is fetched from the registry at launch, which is how a typosquat or hijacked release gets in; install it and pin an exact version (${launch.name}@1.2.3)`
          : `production mode refuses "${launch.launcher} ${launch.spec}": it fetches at launch and its files cannot be verified against the lock; install the server and launch its entry point by path`,
      });
    }
    if (server.sandbox === 'none') {
      if (config.mode === 'production') {
        problems.push({ at: ['servers', name, 'sandbox'], message: 'production mode refuses unsandboxed stdio servers; remove sandbox: none and declare what the server needs (sandbox.filesystem, sandbox.network)' });
      } else {
        warnings.push({ at: ['servers', name, 'sandbox'], message: 'this server runs unsandboxed with the gateway\'s own privileges (development only; refused in production)' });
      }
      continue;
    }
    const { read_only, read_write } = server.sandbox.filesystem;
    read_only.forEach((p, i) => {
      if (read_write.includes(p)) problems.push({ at: ['servers', name, 'sandbox', 'filesystem', 'read_only', i], message: `"${p}" is also in read_write; list it once` });
    });
  }

  // A near miss of another server's or a well-known package's name may be a typosquat;
  // only the user knows which was meant, so it is a warning, not a refusal.
  for (const squat of findConfigTyposquats(config.servers)) warnings.push({ at: squat.at, message: squat.message });

  // Exposed names are <server><sep><tool>; names that could split two ways would let
  // one server's tool pass as another's.
  const prefixed = servers.filter((s) => config.servers[s].prefix);
  for (const s of servers) {
    if (s.includes(sep)) problems.push({ at: ['servers', s], message: `server name contains the tool name separator "${sep}", so exposed names would be ambiguous; rename the server` });
    for (const other of prefixed) {
      if (other !== s && other.startsWith(s + sep)) problems.push({ at: ['servers', other], message: `exposed names of "${other}" could collide with those of server "${s}"; rename one of them` });
    }
  }
  const unprefixed = servers.filter((s) => !config.servers[s].prefix);
  if (unprefixed.length > 1) {
    for (const s of unprefixed.slice(1)) {
      problems.push({ at: ['servers', s, 'prefix'], message: `only one server may set prefix: false (already "${unprefixed[0]}"); their tool names would share one namespace and could collide` });
    }
  }

  for (const [name, id] of Object.entries(config.identities)) {
    const at = (field: string, i: number): Path => ['identities', name, field, i];
    const checkPatterns = (field: 'allowed_tools' | 'denied_tools' | 'allowed_prompts' | 'denied_prompts' | 'requires_human_approval_on', list: string[]) =>
      list.forEach((source, i) => {
        const problem = checkNamePattern(source, servers, sep);
        if (problem) problems.push({ at: at(field, i), message: problem });
      });
    checkPatterns('allowed_tools', id.allowed_tools);
    checkPatterns('denied_tools', id.denied_tools);
    checkPatterns('allowed_prompts', id.allowed_prompts);
    checkPatterns('denied_prompts', id.denied_prompts);
    checkPatterns('requires_human_approval_on', id.requires_human_approval_on);
    for (const key of Object.keys(id.argument_constraints)) {
      const problem = checkNamePattern(key, servers, sep);
      if (problem) problems.push({ at: ['identities', name, 'argument_constraints', key], message: problem });
    }
    for (const key of Object.keys(id.rate_limits?.per_tool ?? {})) {
      const problem = checkNamePattern(key, servers, sep);
      if (problem) problems.push({ at: ['identities', name, 'rate_limits', 'per_tool', key], message: problem });
    }
    id.requires_human_approval_on.forEach((source, i) => {
      const p = parseNamePattern(source);
      const covered = id.allowed_tools.some((a) => a === source || (p.server !== null && !isGlob(p.name) && parseNamePattern(a).matches(p.server, p.name)));
      if (!covered && !isGlob(source)) {
        warnings.push({ at: at('requires_human_approval_on', i), message: `"${source}" is not in allowed_tools, so it is denied outright and approval never comes into play` });
      }
    });
  }
  const approvals = checkApprovalsConfig(config);
  problems.push(...approvals.problems);
  warnings.push(...approvals.warnings);
  problems.push(...checkRiskConfig(config, (p) => checkNamePattern(p, servers, sep)).problems);
  for (const name of Object.keys(config.screening.servers)) {
    if (!servers.includes(name)) problems.push({ at: ['screening', 'servers', name], message: `unknown server "${name}"${suggest(name, servers)}` });
  }
  for (const key of Object.keys(config.screening.tools)) {
    const problem = checkNamePattern(key, servers, sep);
    if (problem) problems.push({ at: ['screening', 'tools', key], message: problem });
  }
  return { problems, warnings };
}

function checkNamePattern(source: string, servers: string[], sep: string): string | undefined {
  const p = parseNamePattern(source);
  if (p.server !== null) {
    if (p.name === '') return `pattern "${source}" has no tool part after "${p.server}."; write "${p.server}.*" for every tool of that server`;
    if (!isGlob(p.server) && !servers.includes(p.server)) {
      return `unknown server "${p.server}" in pattern "${source}"${suggest(p.server, servers)}`;
    }
    return undefined;
  }
  for (const s of servers) {
    if (source.startsWith(s + sep)) {
      return `"${source}" looks like an exposed tool name; policy names tools as <server>.<tool>, so write "${s}.${source.slice(s.length + sep.length)}"`;
    }
  }
  return undefined;
}

function suggest(word: string, options: string[]): string {
  if (options.length === 0) return '';
  const guess = closest(word, options);
  return ` — did you mean "${guess}"?`;
}

function valueAt(root: unknown, path: Path): unknown {
  let v = root;
  for (const k of path) v = v && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined;
  return v;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const k of path) {
    if (typeof k === 'number') out += `[${k}]`;
    else out += out === '' ? String(k) : `.${String(k)}`;
  }
  return out;
}

/** Points at the deepest node of the path that exists in the document. */
function position(doc: Document, lines: LineCounter, path: readonly PropertyKey[]): { line?: number; column?: number } {
  for (let depth = path.length; depth >= 0; depth--) {
    const prefix = path.slice(0, depth) as (string | number)[];
    let node: unknown = prefix.length === 0 ? doc.contents : doc.getIn(prefix, true);
    // For a key that is present, point at the key itself rather than its value.
    if (depth > 0 && depth === path.length) {
      const parent = depth === 1 ? doc.contents : doc.getIn(prefix.slice(0, -1), true);
      if (isMap(parent)) {
        const pair = parent.items.find((it) => (it.key as { value?: unknown } | null)?.value === prefix[prefix.length - 1]);
        if (pair?.key) node = pair.key;
      }
    }
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (range) {
      const at = lines.linePos(range[0]);
      return { line: at.line, column: at.col };
    }
  }
  return {};
}

function isLoopbackUrl(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '[::1]' || /^127\./.test(host);
}
