/**
 * `portcullis scan`: checks the MCP servers configured in client configs for
 * unpinned packages, typosquats, inline secrets, missing sandboxing, plain-HTTP
 * remotes and packages fetched from a registry at every launch.
 */
import { relative, sep } from 'node:path';
import { findSecrets, isCredentialKey } from '../screening/index.js';
import { CLIENT_NAMES, readClientConfig, resolveConfigPaths, type ClientConfigFile, type ClientKind, type ConfiguredServer } from './client-config.js';
import { KNOWN_NPM_PACKAGES, KNOWN_PYPI_PACKAGES } from './known-servers.js';
import { analyseLaunch, type Launch } from './launch.js';
import type { ConnectOutcome } from './scan-connect.js';
import { packageSquatMessage, serverNameSquatMessage, typosquatSuspects, type TyposquatMatch, type TyposquatReason } from './typosquat.js';

export type Severity = 'error' | 'warning' | 'note';
export const SEVERITIES: readonly Severity[] = ['error', 'warning', 'note'];

export type RuleId = 'typosquat' | 'inline-secret' | 'insecure-url' | 'unpinned-package' | 'no-sandbox' | 'registry-fetch-at-runtime' | 'invalid-config' | 'tool-poisoning' | 'not-connected';

export interface Rule {
  id: RuleId;
  severity: Severity;
  title: string;
  description: string;
}

/** Every rule, in report order. */
export const RULES: readonly Rule[] = [
  { id: 'invalid-config', severity: 'error', title: 'Unreadable client config', description: 'The file is not a client config that can be read, so its servers were not checked.' },
  { id: 'typosquat', severity: 'error', title: 'Possible typosquat', description: 'A server or package name imitates a well-known MCP server package or another configured server: near-identical spelling, look-alike Unicode characters, different separators or a different npm scope.' },
  { id: 'inline-secret', severity: 'error', title: 'Secret written inline', description: 'A credential is written in plain text in the client config (env, args, headers or URL), where every tool that reads the file can see it.' },
  { id: 'insecure-url', severity: 'error', title: 'Remote server without TLS', description: 'A remote MCP server is reached over plain http:// on a non-loopback host: requests, tool results and credentials travel unencrypted.' },
  { id: 'unpinned-package', severity: 'warning', title: 'Unpinned package', description: 'The server runs a registry package without an exact version (no version, @latest or a range), so each launch may run different code.' },
  { id: 'no-sandbox', severity: 'warning', title: 'Server runs without a sandbox', description: 'A stdio server launched directly by the client runs with the user\'s files, network and environment. Routed through `portcullis stdio`, it runs in a bubblewrap sandbox.' },
  { id: 'tool-poisoning', severity: 'error', title: 'Poisoned tool definition', description: 'With --connect: a tool, prompt, resource template or the server\'s instructions carry instructions for the model (hidden tags, "do not tell the user", requests to read keys or configs, shadowing another server\'s tool) or hidden characters. High findings are errors, weaker ones warnings or notes.' },
  { id: 'registry-fetch-at-runtime', severity: 'note', title: 'Package fetched at launch', description: 'The server is downloaded from a registry when the client starts it (npx, uvx, pipx run, docker run), so a compromised or republished package reaches the machine without review.' },
  { id: 'not-connected', severity: 'note', title: 'Server not checked', description: 'With --connect: the server could not be started (sandboxed, without network) and listed, so its definitions were not checked.' },
];
const RULE_ORDER = new Map(RULES.map((r, i) => [r.id, i]));
const SEVERITY_OF = new Map(RULES.map((r) => [r.id, r.severity]));

export interface ScanFinding {
  rule: RuleId;
  severity: Severity;
  /** What is wrong and how to fix it; never a secret's value. */
  message: string;
  /** Config file, relative to the working directory, with `/` separators. */
  file: string;
  client: ClientKind;
  /** The server's name; absent for a file-level finding. */
  server?: string;
  /** JSON pointer of the offending value. */
  pointer: string;
  line?: number;
  /** For `typosquat`: the name probably meant, and how it is imitated. */
  intended?: string;
  why?: TyposquatReason[];
}

export interface ScannedFile {
  file: string;
  client: ClientKind;
  servers: { name: string; line?: number; transport: ConfiguredServer['transport'] }[];
  error?: string;
}

export interface ScanReport {
  files: ScannedFile[];
  findings: ScanFinding[];
  /** Default locations that were missing, directories without a config. */
  notes: string[];
}

/**
 * Finds, reads and checks the client configs at `paths` (default locations
 * when empty); with `connect`, also starts each server sandboxed and checks
 * what it offers for poisoning.
 */
export async function scanClientConfigs(paths: string[], cwd = process.cwd(), options: { connect?: boolean } = {}): Promise<ScanReport> {
  const { files, notes } = await resolveConfigPaths(paths, cwd);
  const configs = await Promise.all(files.map((f) => readClientConfig(f)));
  // Starting servers needs the gateway; a plain scan never loads it.
  const connected = options.connect ? await (await import('./scan-connect.js')).connectAndInspect(configs.filter((c) => !c.error)) : undefined;
  return { ...scanConfigs(configs, cwd, connected), notes };
}

/** Checks already parsed configs; servers are compared with each other across all of them. */
export function scanConfigs(configs: ClientConfigFile[], cwd = process.cwd(), connected?: ConnectOutcome): Omit<ScanReport, 'notes'> {
  const findings: ScanFinding[] = [];
  const files: ScannedFile[] = [];
  const servers: { server: ConfiguredServer; config: ClientConfigFile; launch?: Launch }[] = [];
  for (const config of configs) {
    const file = displayPath(config.file, cwd);
    files.push({
      file,
      client: config.client,
      servers: config.servers.map((s) => ({ name: s.name, line: config.lineOf(s.pointer), transport: s.transport })),
      ...(config.error ? { error: config.error } : {}),
    });
    if (config.error) {
      findings.push({ rule: 'invalid-config', severity: 'error', message: `${config.error}; fix the file so its servers can be checked`, file, client: config.client, pointer: '' });
    }
    for (const server of config.servers) servers.push({ server, config, launch: server.transport === 'stdio' ? analyseLaunch(server.command, server.args) : undefined });
  }

  const add = (s: ConfiguredServer, config: ClientConfigFile, rule: RuleId, pointer: string, message: string, extra: Partial<ScanFinding> = {}) =>
    findings.push({
      rule,
      severity: SEVERITY_OF.get(rule)!,
      message,
      file: displayPath(config.file, cwd),
      client: config.client,
      server: s.name,
      pointer,
      line: config.lineOf(pointer) ?? config.lineOf(s.pointer),
      ...extra,
    });

  // Typosquats: server names among themselves, packages against the shipped list and each other.
  const nameSuspects = typosquatSuspects(servers.map((x) => x.server.name), []);
  const packageSuspects = new Map<string, TyposquatMatch>();
  for (const [eco, shipped] of [['npm', KNOWN_NPM_PACKAGES], ['pypi', KNOWN_PYPI_PACKAGES], ['docker', []]] as const) {
    const names = servers.filter((x) => x.launch?.ecosystem === eco).map((x) => x.launch!.name);
    for (const [k, v] of typosquatSuspects(names, shipped)) packageSuspects.set(`${eco}:${k}`, v);
  }

  for (const { server: s, config, launch } of servers) {
    const p = s.pointer;
    const client = CLIENT_NAMES[config.client];
    const nameMatch = nameSuspects.get(s.name);
    if (nameMatch) {
      add(s, config, 'typosquat', p, serverNameSquatMessage(s.name, nameMatch), nameMatch);
    }
    if (launch) {
      const at = `${p}/args/${launch.argIndex}`;
      const pkgMatch = packageSuspects.get(`${launch.ecosystem}:${launch.name}`);
      if (pkgMatch) {
        add(s, config, 'typosquat', at, packageSquatMessage(launch.name, pkgMatch), pkgMatch);
      }
      if (!launch.pinned) {
        const how = launch.version === undefined ? 'has no version' : launch.version === 'latest' ? 'asks for @latest' : `asks for "${launch.version}", not an exact version`;
        const fix =
          launch.ecosystem === 'npm' ? `pin an exact version: ${launch.name}@<version>`
          : launch.ecosystem === 'pypi' ? `pin an exact version: ${launch.name}==<version>`
          : `pin the image by digest: ${launch.name}@sha256:<digest>`;
        add(s, config, 'unpinned-package', at, `${launch.launcher} ${launch.spec} ${how}, so each launch may run different code; ${fix}`);
      }
      add(s, config, 'registry-fetch-at-runtime', at, `${launch.launcher} downloads ${launch.name} from the ${launch.ecosystem === 'npm' ? 'npm registry' : launch.ecosystem === 'pypi' ? 'Python package index' : 'image registry'} when ${client} starts the server; install a reviewed, pinned copy ahead of time and run that instead`);
    }
    if (s.transport === 'stdio' && s.command !== undefined && !sandboxed(s, launch)) {
      add(s, config, 'no-sandbox', `${p}/command`, `${client} runs "${[s.command, ...s.args.slice(0, 3)].join(' ')}${s.args.length > 3 ? ' …' : ''}" directly, with your files, network and environment; add it to a Portcullis config's servers and point ${client} at \`portcullis stdio\` to run it in the sandbox`);
    }
    if (s.url !== undefined) {
      let url: URL | undefined;
      try {
        url = new URL(s.url);
      } catch {
        /* not a URL: nothing to check */
      }
      if (url && url.protocol === 'http:' && !isLoopback(url.hostname)) {
        add(s, config, 'insecure-url', `${p}/url`, `${url.protocol}//${url.host} is plain HTTP to a remote host: requests, results and credentials travel unencrypted; use https://`);
      }
    }
    for (const hit of inlineSecrets(s)) {
      const name = hit.where.startsWith('env/') ? hit.label.slice(4) : 'NAME';
      const advice =
        config.client === 'vscode'
          ? 'move it to an "inputs" entry with "password": true and reference it as ${input:…}'
          : `run the server behind \`portcullis stdio\` and give it the value from the environment there (env: { ${name}: { from_env: … } })`;
      add(s, config, 'inline-secret', `${p}/${hit.where}`, `${hit.label} holds a ${hit.kinds.join(', ')} in plain text: rotate it, then ${advice}`);
    }
  }
  for (const c of connected?.servers ?? []) {
    if (c?.error && !launchesPortcullis(c.server)) add(c.server, c.config, 'not-connected', c.server.pointer, `could not be started (sandboxed, no network) to check its tools: ${c.error}`);
  }
  for (const { finding: f, server, config } of connected?.findings ?? []) {
    const what = f.kind === 'instructions' ? 'its instructions' : `${f.kind.replace('_', ' ')} "${f.name}"${f.where ? ` at ${f.where}` : ''}`;
    add(server, config, 'tool-poisoning', server.pointer, `${what}: ${f.message} (${f.rule}: ${f.evidence})`, { severity: f.severity === 'high' ? 'error' : f.severity === 'medium' ? 'warning' : 'note' });
  }
  findings.sort(
    (a, b) =>
      cmp(a.file, b.file) || (a.line ?? 0) - (b.line ?? 0) || cmp(a.server ?? '', b.server ?? '') || RULE_ORDER.get(a.rule)! - RULE_ORDER.get(b.rule)! || cmp(a.pointer, b.pointer),
  );
  files.sort((a, b) => cmp(a.file, b.file));
  return { files, findings };
}

/** A server Portcullis already sandboxes (the gateway itself) or a container. */
function sandboxed(s: ConfiguredServer, launch: Launch | undefined): boolean {
  return launch?.ecosystem === 'docker' || launchesPortcullis(s);
}

/** A client entry that launches the gateway (`portcullis … stdio`, `node …/main.js stdio`) rather than a server. */
export function launchesPortcullis(s: ConfiguredServer): boolean {
  const words = [s.command ?? '', ...s.args].map((w) => w.split(/[\\/]/).pop()!);
  const at = words.findIndex((w) => w === 'portcullis' || /^portcullis@/.test(w) || w === 'main.js');
  return at !== -1 && words.slice(at + 1).includes('stdio');
}

/** Whether a URL host is this machine (where plain HTTP is acceptable). */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

interface SecretHit {
  /** Pointer suffix under the server entry. */
  where: string;
  label: string;
  kinds: string[];
}

/** Secrets written in a server's env, args, headers or URL: kinds and where, never the values. */
function inlineSecrets(s: ConfiguredServer): SecretHit[] {
  const hits: SecretHit[] = [];
  const check = (key: string | undefined, value: string, where: string, label: string) => {
    const kinds = secretKinds(key, value);
    if (kinds.length > 0) hits.push({ where, label, kinds });
  };
  for (const [k, v] of Object.entries(s.env)) check(k, v, `env/${escape(k)}`, `env ${k}`);
  s.args.forEach((a, i) => {
    const prev = s.args[i - 1];
    const flag = prev?.startsWith('-') && !a.startsWith('-') ? prev.replace(/^-+/, '') : undefined;
    check(flag, a, `args/${i}`, `argument ${i + 1}${flag ? ` (after ${prev})` : ''}`);
  });
  for (const [k, v] of Object.entries(s.headers)) check(k, v, `headers/${escape(k)}`, `header ${k}`);
  if (s.url !== undefined) check(undefined, s.url, 'url', 'the URL');
  return hits;
}

/** Kinds of credential written literally in a config value (`${…}` references are not); empty when none. */
export function secretKinds(key: string | undefined, value: string): string[] {
  const literal = value.replace(/\$\{[^}]*\}/g, '').trim();
  if (!literal) return [];
  const kinds = new Set(findSecrets(key ? `${key}=${literal}` : literal, { pii: false }).map((f) => f.kind.replace(/_/g, ' ')));
  if (kinds.size === 0 && key && isCredentialKey(key) && literal.length >= 8) kinds.add('credential');
  return [...kinds].sort();
}

function escape(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

function displayPath(file: string, cwd: string): string {
  return relative(cwd, file).split(sep).join('/') || file;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Whether a finding at or above `threshold` exists. */
export function reachesSeverity(findings: ScanFinding[], threshold: Severity): boolean {
  const limit = SEVERITIES.indexOf(threshold);
  return findings.some((f) => SEVERITIES.indexOf(f.severity) <= limit);
}
