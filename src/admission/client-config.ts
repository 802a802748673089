/**
 * Reading MCP client configs: Claude Desktop (`claude_desktop_config.json`),
 * Cursor (`~/.cursor/mcp.json`, `.cursor/mcp.json`) and VS Code
 * (`.vscode/mcp.json`), each in its own shape, into one list of configured
 * servers with the JSON pointer and line of each.
 */
import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';

export type ClientKind = 'claude-desktop' | 'cursor' | 'vscode' | 'mcp-json';

export const CLIENT_NAMES: Record<ClientKind, string> = {
  'claude-desktop': 'Claude Desktop',
  cursor: 'Cursor',
  vscode: 'VS Code',
  'mcp-json': 'MCP client',
};

export interface ConfiguredServer {
  name: string;
  client: ClientKind;
  /** Absolute path of the config file. */
  file: string;
  /** JSON pointer of the server entry, e.g. `/mcpServers/github`. */
  pointer: string;
  transport: 'stdio' | 'http' | 'sse';
  command?: string;
  args: string[];
  env: Record<string, string>;
  url?: string;
  headers: Record<string, string>;
}

export interface ClientConfigFile {
  file: string;
  client: ClientKind;
  servers: ConfiguredServer[];
  /** VS Code's `inputs` (prompted values that `${input:id}` references), as written. */
  inputs?: unknown[];
  /** Set when the file could not be read as a client config. */
  error?: string;
  /** 1-based line of a JSON pointer inside the file, when known. */
  lineOf(pointer: string): number | undefined;
}

/** File names a directory is searched for, in order. */
export const CONFIG_FILE_NAMES = ['claude_desktop_config.json', '.cursor/mcp.json', '.vscode/mcp.json', 'mcp.json'];

/** The per-user default locations: Claude Desktop, Cursor (user and project) and VS Code (project). */
export function defaultConfigPaths(env: { home?: string; cwd?: string; platform?: NodeJS.Platform; appData?: string } = {}): string[] {
  const home = env.home ?? homedir();
  const cwd = env.cwd ?? process.cwd();
  const platform = env.platform ?? process.platform;
  const claude =
    platform === 'darwin'
      ? join(home, 'Library', 'Application Support', 'Claude', 'claude_desktop_config.json')
      : platform === 'win32'
        ? join(env.appData ?? join(home, 'AppData', 'Roaming'), 'Claude', 'claude_desktop_config.json')
        : join(home, '.config', 'Claude', 'claude_desktop_config.json');
  return [claude, join(home, '.cursor', 'mcp.json'), join(cwd, '.cursor', 'mcp.json'), join(cwd, '.vscode', 'mcp.json')];
}

export class ScanUsageError extends Error {}

/**
 * The config files to read: each PATH (a directory is searched for the known
 * file names), or the default locations when there is none. Missing default
 * locations and directories without a config are skipped with a note; a
 * missing explicit file is a usage error.
 */
export async function resolveConfigPaths(paths: string[], cwd = process.cwd()): Promise<{ files: string[]; notes: string[] }> {
  const files: string[] = [];
  const notes: string[] = [];
  const add = (f: string) => {
    if (!files.includes(f)) files.push(f);
  };
  if (paths.length === 0) {
    for (const f of defaultConfigPaths({ cwd })) {
      if (await isFile(f)) add(f);
      else notes.push(`no config at ${f}`);
    }
    return { files, notes };
  }
  for (const p of paths) {
    const abs = resolve(cwd, p);
    const st = await stat(abs).catch(() => undefined);
    if (!st) throw new ScanUsageError(`${p}: no such file or directory`);
    if (st.isFile()) {
      add(abs);
      continue;
    }
    const found = [];
    for (const name of CONFIG_FILE_NAMES) if (await isFile(join(abs, name))) found.push(join(abs, name));
    if (found.length === 0) notes.push(`${p}: no client config (${CONFIG_FILE_NAMES.join(', ')}) in this directory`);
    found.forEach(add);
  }
  return { files, notes };
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}

/** Reads and parses one client config file (JSON with comments and trailing commas, as VS Code allows). */
export async function readClientConfig(file: string): Promise<ClientConfigFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    return failed(file, guessClient(file, undefined), `cannot read: ${(error as Error).message}`);
  }
  return parseClientConfig(text, file);
}

export function parseClientConfig(text: string, file: string): ClientConfigFile {
  const json = stripJsonComments(text.replace(/^\uFEFF/, ' '));
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    return failed(file, guessClient(file, undefined), `not valid JSON: ${(error as Error).message}`);
  }
  const client = guessClient(file, raw);
  if (!isObject(raw)) return failed(file, client, 'expected a JSON object');
  const key = client === 'vscode' ? 'servers' : 'mcpServers';
  const entries = raw[key];
  const lines = jsonLines(json);
  const lineOf = (pointer: string) => lines.get(pointer);
  if (entries === undefined) return { file, client, servers: [], lineOf };
  if (!isObject(entries)) return { ...failed(file, client, `"${key}" must be an object of servers`), lineOf };
  const servers: ConfiguredServer[] = [];
  for (const [name, entry] of Object.entries(entries)) {
    if (!isObject(entry)) continue;
    const url = typeof entry.url === 'string' ? entry.url : undefined;
    const type = entry.type === 'http' || entry.type === 'sse' || entry.type === 'stdio' ? entry.type : undefined;
    servers.push({
      name,
      client,
      file,
      pointer: `/${key}/${escapePointer(name)}`,
      transport: type ?? (url !== undefined ? (/\/sse\/?$/.test(url) ? 'sse' : 'http') : 'stdio'),
      command: typeof entry.command === 'string' ? entry.command : undefined,
      args: Array.isArray(entry.args) ? entry.args.map(String) : [],
      env: stringRecord(entry.env),
      url,
      headers: stringRecord(entry.headers),
    });
  }
  return { file, client, servers, lineOf, ...(Array.isArray(raw.inputs) ? { inputs: raw.inputs } : {}) };
}

function failed(file: string, client: ClientKind, error: string): ClientConfigFile {
  return { file, client, servers: [], error, lineOf: () => undefined };
}

/** The client a config belongs to: by content (`servers` is VS Code's shape), then by file name. */
function guessClient(file: string, raw: unknown): ClientKind {
  const name = basename(file);
  const parent = basename(dirname(file));
  if (isObject(raw) && raw.servers !== undefined && raw.mcpServers === undefined) return 'vscode';
  if (name === 'claude_desktop_config.json') return 'claude-desktop';
  if (parent === '.cursor') return 'cursor';
  if (parent === '.vscode' && !(isObject(raw) && raw.mcpServers !== undefined)) return 'vscode';
  return 'mcp-json';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringRecord(v: unknown): Record<string, string> {
  if (!isObject(v)) return {};
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, typeof x === 'string' ? x : JSON.stringify(x)]));
}

export function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Blanks `//` and `/* *\/` comments and trailing commas, keeping every offset and line. */
export function stripJsonComments(text: string): string {
  const out = text.split('');
  let i = 0;
  const blank = (from: number, to: number) => {
    for (let j = from; j < to; j++) if (out[j] !== '\n' && out[j] !== '\r') out[j] = ' ';
  };
  let lastComma = -1;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      i++;
      lastComma = -1;
    } else if (c === '/' && text[i + 1] === '/') {
      const end = text.indexOf('\n', i);
      blank(i, end === -1 ? text.length : end);
      i = end === -1 ? text.length : end;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      blank(i, end === -1 ? text.length : end + 2);
      i = end === -1 ? text.length : end + 2;
    } else if (c === ',') {
      lastComma = i++;
    } else if ((c === '}' || c === ']') && lastComma !== -1) {
      out[lastComma] = ' ';
      lastComma = -1;
      i++;
    } else {
      if (!/\s/.test(c)) lastComma = -1;
      i++;
    }
  }
  return out.join('');
}

/** Line (1-based) of every member key and array item of valid JSON, by JSON pointer. */
function jsonLines(json: string): Map<string, number> {
  const lines = new Map<string, number>();
  let i = 0;
  let line = 1;
  const ws = () => {
    while (i < json.length && /\s/.test(json[i])) if (json[i++] === '\n') line++;
  };
  const str = (): string => {
    const start = i++;
    while (json[i] !== '"') i += json[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(json.slice(start, i)) as string;
  };
  const value = (ptr: string): void => {
    ws();
    if (json[i] === '{') {
      i++;
      for (;;) {
        ws();
        if (json[i] === '}') return void i++;
        if (json[i] === ',') {
          i++;
          continue;
        }
        const keyLine = line;
        const key = str();
        const child = `${ptr}/${escapePointer(key)}`;
        lines.set(child, keyLine);
        ws();
        i++; // ':'
        value(child);
      }
    } else if (json[i] === '[') {
      i++;
      for (let n = 0; ; ) {
        ws();
        if (json[i] === ']') return void i++;
        if (json[i] === ',') {
          i++;
          continue;
        }
        lines.set(`${ptr}/${n}`, line);
        value(`${ptr}/${n++}`);
      }
    } else if (json[i] === '"') {
      str();
    } else {
      while (i < json.length && !/[\s,\]}]/.test(json[i])) i++;
    }
  };
  value('');
  return lines;
}
