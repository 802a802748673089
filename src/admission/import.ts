/**
 * `portcullis import`: turns a client config (Claude Desktop, Cursor, VS Code)
 * into a Portcullis config, and writes the client config that launches the
 * gateway instead of each server.
 *
 * What a security user expects of it: no secret is copied (an inline value
 * becomes a `{ from_env }` reference and a note to rotate it); every stdio
 * server keeps the default sandbox (no network) except for the API host of a
 * well-known package, with its absolute-path arguments declared as the only
 * host paths it sees; one identity for the client, allowed every imported
 * server's tools and prompts; registry launches (`npx -y pkg@latest`) flagged
 * with a note to pin and install them. The result is validated by the config
 * loader before it is returned.
 */
import { isAbsolute } from 'node:path';
import { Document } from 'yaml';
import { parseConfig } from '../config/load.js';
import { CLIENT_NAMES, type ClientConfigFile, type ClientKind, type ConfiguredServer } from './client-config.js';
import { analyseLaunch, type Launch } from './launch.js';
import { isLoopback, launchesPortcullis, secretKinds } from './scan.js';

export interface ImportOptions {
  /** Absolute path the Portcullis config will be saved at (the client launches the gateway with it). */
  configPath: string;
  /** Absolute data directory for the gateway (audit log, keys). */
  dataDir: string;
  /** Identity the client acts as; default: named after the client (`claude-desktop`, `cursor`, `vscode`). */
  identity?: string;
  /** How the client starts Portcullis: the command and the arguments before `stdio`. */
  gateway: { command: string; args: readonly string[] };
}

export interface ImportResult {
  /** The Portcullis config, as YAML, already validated by the loader. */
  yaml: string;
  /** Names of the imported servers, in order. */
  servers: string[];
  identity: string;
  /** The client config that launches the gateway, in the client's own shape. */
  client: { kind: ClientKind; name: string; config: Record<string, unknown> };
  /** What the user must do or know: secrets to set, versions to pin, servers skipped, loader warnings. */
  notes: string[];
}

/** API hosts of well-known packages that obviously need the network for nothing else. */
const KNOWN_EGRESS: Readonly<Record<string, readonly string[]>> = {
  '@modelcontextprotocol/server-github': ['api.github.com:443'],
  '@modelcontextprotocol/server-gitlab': ['gitlab.com:443'],
  '@modelcontextprotocol/server-slack': ['slack.com:443'],
  '@modelcontextprotocol/server-brave-search': ['api.search.brave.com:443'],
  '@modelcontextprotocol/server-google-maps': ['maps.googleapis.com:443'],
};
/** Packages that write inside the directories they are given. */
const WRITES_ITS_DIRECTORIES = new Set(['@modelcontextprotocol/server-filesystem']);
/** Scripts are mounted by the sandbox itself (their package directory); other absolute paths must be declared. */
const SCRIPT = /\.(?:[cm]?js|ts|py|rb|sh)$/i;
const SERVER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const REFERENCE = /^\$\{(input|env):([^}]+)\}$/;
/** Written in place of a secret argument or header: loads, fails visibly, and says where to look. */
export const SECRET_PLACEHOLDER = '<secret removed by portcullis import: see the notes>';

export function importClientConfig(file: ClientConfigFile, options: ImportOptions): ImportResult {
  if (file.error) throw new Error(`${file.file}: ${file.error}; fix the file before importing it`);
  const client = CLIENT_NAMES[file.client];
  const notes: string[] = [];
  const servers: Record<string, Record<string, unknown>> = {};
  const gatewayEnv: Record<string, string> = {};
  const usedInputs = new Set<string>();
  const taken = new Set<string>();

  for (const s of file.servers) {
    if (launchesPortcullis(s)) {
      notes.push(`${s.name}: already runs through portcullis; not imported`);
      continue;
    }
    const name = serverName(s.name, taken);
    if (name !== s.name) notes.push(`${s.name}: renamed "${name}" (server names use letters, digits, "_" and "-", without "__")`);
    const ctx: EnvContext = { server: name, client: file.client, notes, gatewayEnv, usedInputs };
    const entry = s.transport === 'stdio' ? stdioServer(s, ctx) : remoteServer(s, ctx);
    if (entry) servers[name] = entry;
  }
  if (Object.keys(servers).length === 0) throw new Error(`${file.file}: no server to import (${file.servers.length === 0 ? 'the file configures none' : 'every server already runs through portcullis'})`);

  const identity = options.identity ?? (file.client === 'mcp-json' ? 'mcp-client' : file.client);
  const names = Object.keys(servers);
  const config = {
    servers,
    identities: { [identity]: { allowed_tools: names.map((n) => `${n}.*`), allowed_prompts: names.map((n) => `${n}.*`) } },
  };
  const doc = new Document(config);
  doc.commentBefore = ` Portcullis config imported from ${file.file} (${client}) by \`portcullis import\`.\n Secrets are not in this file: see the { from_env } references.`;
  const yaml = doc.toString({ lineWidth: 0 });
  const loaded = parseConfig(yaml, options.configPath);
  for (const w of loaded.warnings) notes.push(`warning: ${w.path}: ${w.message}`);
  if (Object.keys(gatewayEnv).some((k) => !gatewayEnv[k])) {
    notes.push(`set the variables named in { from_env } in the environment ${client} starts the gateway with, or put each secret in a file only you can read and use { from_file: /path } instead`);
  }
  return {
    yaml,
    servers: names,
    identity,
    client: { kind: file.client, name: client, config: clientConfig(file, identity, options, gatewayEnv, usedInputs) },
    notes,
  };
}

interface EnvContext {
  server: string;
  client: ClientKind;
  notes: string[];
  /** Variables the gateway needs: value is what the client entry passes (a `${…}` reference), or '' when the user must provide it. */
  gatewayEnv: Record<string, string>;
  usedInputs: Set<string>;
}

function stdioServer(s: ConfiguredServer, ctx: EnvContext): Record<string, unknown> {
  const launch = analyseLaunch(s.command, s.args);
  const args = s.args.map((a, i) => {
    const kinds = secretKinds(flagBefore(s.args, i), a);
    if (kinds.length === 0) return a;
    ctx.notes.push(`${ctx.server}: argument ${i + 1} held a ${kinds.join(', ')} in plain text; it was not copied. Rotate it, then have the server read it from an environment variable (env: { NAME: { from_env: NAME } }) and remove the argument`);
    return SECRET_PLACEHOLDER;
  });
  const entry: Record<string, unknown> = { command: s.command, args };
  const env = envOf(s, ctx);
  if (Object.keys(env).length > 0) entry.env = env;

  const paths = args.flatMap((a) => {
    const path = /^--?[\w-]+=(.+)$/.exec(a)?.[1] ?? a;
    return (path.startsWith('/') || path.startsWith('~/')) && !SCRIPT.test(path) && isAbsolute(path.replace(/^~/, '')) ? [path] : [];
  });
  const declared = paths.filter((p) => p.replace(/\/+$/, '') !== '');
  if (declared.length < paths.length) ctx.notes.push(`${ctx.server}: "/" is an argument; a sandbox never mounts the whole host, so declare the directories the server needs under sandbox.filesystem`);
  const writes = launch !== undefined && WRITES_ITS_DIRECTORIES.has(launch.name);
  const sandbox: Record<string, unknown> = {};
  if (declared.length > 0) {
    sandbox.filesystem = { [writes ? 'read_write' : 'read_only']: [...new Set(declared)] };
    if (!writes) ctx.notes.push(`${ctx.server}: ${declared.join(', ')} declared read-only in its sandbox; move to read_write what the server must change`);
  }
  const egress = launch && KNOWN_EGRESS[launch.name];
  if (egress) sandbox.network = { allow: [...egress] };
  else if (Object.values(env).some((v) => typeof v === 'object')) {
    ctx.notes.push(`${ctx.server}: runs without network (the default sandbox); it holds credentials, so it probably calls an API: add sandbox.network.allow: ["api.host:443"]`);
  }
  if (Object.keys(sandbox).length > 0) entry.sandbox = sandbox;
  if (launch) ctx.notes.push(`${ctx.server}: ${launchNote(launch)}`);
  return entry;
}

function launchNote(launch: Launch): string {
  if (launch.ecosystem === 'docker') {
    return `runs ${launch.spec} with ${launch.launcher}, which needs the Docker socket the sandbox does not give it; run the server's own binary instead${launch.pinned ? '' : ', and pin the image by digest'}`;
  }
  const unpinned = launch.version === undefined ? 'has no version' : `asks for "${launch.version}"`;
  const steps = launch.pinned ? 'install it' : `pin an exact version (it ${unpinned}, so each launch may run different code) and install it`;
  return `${launch.launcher} ${launch.spec} downloads the package at every start, which the sandbox (no network, no lasting home) does not allow: ${steps} ahead of time, then point command/args at the installed files`;
}

function remoteServer(s: ConfiguredServer, ctx: EnvContext): Record<string, unknown> | undefined {
  if (s.url === undefined) {
    ctx.notes.push(`${ctx.server}: has neither a command nor a URL; not imported`);
    return undefined;
  }
  if (secretKinds(undefined, s.url).length > 0) {
    ctx.notes.push(`${ctx.server}: its URL holds a credential, which portcullis import does not copy; not imported. Rotate it and add the server by hand`);
    return undefined;
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(s.headers)) {
    if (REFERENCE.test(v) || secretKinds(k, v).length > 0) {
      headers[k] = SECRET_PLACEHOLDER;
      ctx.notes.push(`${ctx.server}: header ${k} holds a secret${REFERENCE.test(v) ? ` (${v})` : ' in plain text (rotate it)'}; a remote server's headers are plain strings in the Portcullis config, so put the value in by hand where only the gateway can read the file`);
    } else headers[k] = v;
  }
  const url = URL.canParse(s.url) ? new URL(s.url) : undefined;
  if (url?.protocol === 'http:' && !isLoopback(url.hostname)) ctx.notes.push(`${ctx.server}: ${url.origin} is plain HTTP to a remote host: requests, results and credentials travel unencrypted; use https://`);
  if (s.transport === 'sse') ctx.notes.push(`${ctx.server}: the client used the older SSE transport; Portcullis speaks Streamable HTTP, so check that ${s.url} serves it (often at /mcp)`);
  return Object.keys(headers).length > 0 ? { url: s.url, headers } : { url: s.url };
}

/** A server's env with secrets and `${…}` references turned into `{ from_env }` references. */
function envOf(s: ConfiguredServer, ctx: EnvContext): Record<string, string | { from_env: string }> {
  const env: Record<string, string | { from_env: string }> = {};
  for (const [key, value] of Object.entries(s.env)) {
    const ref = REFERENCE.exec(value.trim());
    const variable = envName(ref?.[1] === 'env' ? ref[2] : key);
    if (ref) {
      env[key] = { from_env: variable };
      if (ref[1] === 'input') ctx.usedInputs.add(ref[2]);
      // VS Code and Cursor expand ${input:…} and ${env:…} in the gateway's own entry: pass the value through.
      ctx.gatewayEnv[variable] = ctx.client === 'vscode' || ctx.client === 'cursor' ? value.trim() : '';
      continue;
    }
    const kinds = secretKinds(key, value);
    if (kinds.length === 0) {
      env[key] = value;
      continue;
    }
    env[key] = { from_env: variable };
    ctx.gatewayEnv[variable] ??= '';
    ctx.notes.push(`${ctx.server}: env ${key} held a ${kinds.join(', ')} in plain text; it is now { from_env: ${variable} } and was not copied. Rotate it (the old one sat in a file every local tool can read) and give the new one to the gateway as ${variable}`);
  }
  return env;
}

function clientConfig(file: ClientConfigFile, identity: string, options: ImportOptions, gatewayEnv: Record<string, string>, usedInputs: Set<string>): Record<string, unknown> {
  const kind = file.client;
  const passed = Object.fromEntries(Object.entries(gatewayEnv).filter(([, v]) => v !== ''));
  const entry: Record<string, unknown> = {
    ...(kind === 'vscode' ? { type: 'stdio' } : {}),
    command: options.gateway.command,
    args: [...options.gateway.args, 'stdio', '--identity', identity, '--config', options.configPath, '--data', options.dataDir],
    ...(Object.keys(passed).length > 0 ? { env: passed } : {}),
  };
  if (kind !== 'vscode') return { mcpServers: { portcullis: entry } };
  // The gateway entry passes ${input:…} values on, so VS Code must still prompt for them.
  const inputs = (file.inputs ?? []).filter((i) => isRecord(i) && usedInputs.has(String(i.id)));
  return { ...(inputs.length > 0 ? { inputs } : {}), servers: { portcullis: entry } };
}

function serverName(original: string, taken: Set<string>): string {
  let base = original.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/_{2,}/g, '_').replace(/^[-_]+/, '').slice(0, 60) || 'server';
  if (!SERVER_NAME.test(base)) base = `s-${base}`.slice(0, 60);
  let name = base;
  for (let n = 2; taken.has(name.toLowerCase()); n++) name = `${base}-${n}`;
  taken.add(name.toLowerCase());
  return name;
}

function envName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9_]/g, '_').toUpperCase();
  return ENV_NAME.test(cleaned) ? cleaned : `_${cleaned}`;
}

function flagBefore(args: readonly string[], i: number): string | undefined {
  const prev = args[i - 1];
  return prev?.startsWith('-') && !args[i].startsWith('-') ? prev.replace(/^-+/, '') : undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
