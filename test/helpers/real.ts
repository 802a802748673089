/**
 * Helpers for running the gateway against the real MCP reference servers and
 * the real inspector CLI installed in node_modules, next to direct SDK
 * connections to the same servers for comparison.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, realpath, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
  type ClientCapabilities,
  type CreateMessageRequest,
  type ElicitRequest,
  type JSONRPCMessage,
  type MessageExtraInfo,
  type Root,
} from '@modelcontextprotocol/sdk/types.js';
import { parseConfig, type LoadedConfig } from '../../src/config/load.js';
import { Gateway } from '../../src/gateway/gateway.js';
import { startHttpGateway, type RunningHttpGateway } from '../../src/serve/http.js';

/** The repository root (this file runs from dist/test/helpers). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const NODE = process.execPath;
// Real paths: a sandboxed server sees host paths as mounted, not through symlinks.
const MCP = realpathSync(join(ROOT, 'node_modules', '@modelcontextprotocol'));
export const EVERYTHING = join(MCP, 'server-everything', 'dist', 'index.js');
export const FILESYSTEM = join(MCP, 'server-filesystem', 'dist', 'index.js');
export const MEMORY = join(MCP, 'server-memory', 'dist', 'index.js');
export const INSPECTOR_BUILD = join(MCP, 'inspector-cli', 'build');

/** What the gateway itself declares to every upstream (src/gateway/upstream.ts). */
export const FULL_CAPABILITIES: ClientCapabilities = { sampling: {}, elicitation: { form: {}, url: {} }, roots: { listChanged: true } };

/** Runs cleanup steps in reverse order, tolerating failures, so one broken step leaves no orphans. */
export class Cleanup {
  readonly #steps: (() => unknown)[] = [];
  add(step: () => unknown): void {
    this.#steps.push(step);
  }
  async run(): Promise<void> {
    while (this.#steps.length > 0) {
      const step = this.#steps.pop()!;
      try {
        await step();
      } catch {
        // keep going: the remaining steps must still run
      }
    }
  }
}

/**
 * A fresh directory removed by the cleanup. `mode` opens it up for sandboxed
 * servers: when the tests run as root the gateway runs them as uid 65534.
 */
export async function tempDir(cleanup: Cleanup, prefix: string, mode?: number): Promise<string> {
  const dir = await realpath(await mkdtemp(join(tmpdir(), prefix)));
  cleanup.add(() => rm(dir, { recursive: true, force: true }));
  if (mode !== undefined) await chmod(dir, mode);
  return dir;
}

/** A directory inside a temp dir, opened up like tempDir's. */
export async function subDir(parent: string, name: string, mode = 0o777): Promise<string> {
  const dir = join(parent, name);
  await mkdir(dir);
  await chmod(dir, mode);
  return dir;
}

type Outcome = { result?: Record<string, unknown>; error?: { code: number; message: string; data?: unknown } };

/**
 * A transport wrapper that records every JSON-RPC message on the wire, so
 * results can be compared exactly as they were sent, before the SDK parses them.
 */
export class Tap implements Transport {
  readonly sent: JSONRPCMessage[] = [];
  readonly received: JSONRPCMessage[] = [];
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void;

  constructor(readonly inner: Transport) {
    inner.onmessage = (message, extra) => {
      this.received.push(message);
      this.onmessage?.(message, extra);
    };
    inner.onclose = () => this.onclose?.();
    inner.onerror = (error) => this.onerror?.(error);
  }

  get sessionId(): string | undefined {
    return this.inner.sessionId;
  }
  setProtocolVersion(version: string): void {
    this.inner.setProtocolVersion?.(version);
  }
  start(): Promise<void> {
    return this.inner.start();
  }
  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    this.sent.push(message);
    return this.inner.send(message, options);
  }
  close(): Promise<void> {
    return this.inner.close();
  }

  /** The raw answer to the last request this client sent with `method`. */
  last(method: string): Outcome {
    const request = [...this.sent].reverse().find((m) => 'method' in m && m.method === method && 'id' in m) as { id: string | number } | undefined;
    if (!request) throw new Error(`no ${method} request was sent`);
    const answer = this.received.find((m) => !('method' in m) && 'id' in m && m.id === request.id);
    if (!answer) throw new Error(`no answer to ${method} (id ${request.id}) was received`);
    return answer as Outcome;
  }

  /** Raw notifications received with this method. */
  notifications(method: string): Record<string, unknown>[] {
    return this.received.filter((m) => 'method' in m && m.method === method && !('id' in m)).map((m) => ((m as { params?: Record<string, unknown> }).params ?? {}));
  }
}

/** A client with recording handlers for every server→client request it declares. */
export interface Probe {
  client: Client;
  tap?: Tap;
  sampling: CreateMessageRequest['params'][];
  elicitation: ElicitRequest['params'][];
  rootsAsked: number;
  logs: Record<string, unknown>[];
  updated: string[];
  errors: Error[];
}

export interface ProbeOptions {
  name?: string;
  capabilities?: ClientCapabilities;
  roots?: Root[];
  samplingText?: string;
  elicitContent?: Record<string, string | number | boolean | string[]>;
}

export function probe(options: ProbeOptions = {}): Probe {
  const capabilities = options.capabilities ?? FULL_CAPABILITIES;
  const client = new Client({ name: options.name ?? 'real-servers-test', version: '1.0.0' }, { capabilities });
  const p: Probe = { client, sampling: [], elicitation: [], rootsAsked: 0, logs: [], updated: [], errors: [] };
  if (capabilities.sampling) {
    client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
      p.sampling.push(request.params);
      return { model: 'test-model', role: 'assistant', content: { type: 'text', text: options.samplingText ?? 'sampled answer' } };
    });
  }
  if (capabilities.elicitation) {
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      p.elicitation.push(request.params);
      return { action: 'accept', content: options.elicitContent ?? { name: 'Ada Lovelace', check: true } };
    });
  }
  if (capabilities.roots) {
    client.setRequestHandler(ListRootsRequestSchema, async () => {
      p.rootsAsked++;
      return { roots: options.roots ?? [{ uri: 'file:///srv/project', name: 'project' }] };
    });
  }
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void p.logs.push(n.params));
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void p.updated.push(n.params.uri));
  client.onerror = (error) => void p.errors.push(error);
  return p;
}

/** Connects a probe through a tap; the cleanup closes it. */
export async function attach(cleanup: Cleanup, p: Probe, transport: Transport): Promise<Probe> {
  p.tap = new Tap(transport);
  await p.client.connect(p.tap);
  cleanup.add(() => p.client.close());
  return p;
}

/** A probe connected straight to a stdio server (no gateway). */
export async function direct(cleanup: Cleanup, command: string, args: string[], options: ProbeOptions & { env?: Record<string, string>; cwd?: string } = {}): Promise<Probe> {
  const transport = new StdioClientTransport({ command, args, env: { PATH: process.env.PATH ?? '', ...options.env }, cwd: options.cwd, stderr: 'ignore' });
  return attach(cleanup, probe(options), transport);
}

export async function directHttp(cleanup: Cleanup, url: URL, options: ProbeOptions = {}): Promise<Probe> {
  return attach(cleanup, probe(options), new StreamableHTTPClientTransport(url));
}

export interface GatewayHarness {
  gateway: Gateway;
  loaded: LoadedConfig;
  dataDir: string;
  /** An in-process session bound to the configured identity. */
  connect(identity: string, options?: ProbeOptions): Promise<Probe>;
  /** Serves the gateway over Streamable HTTP on 127.0.0.1 (like `portcullis serve`). */
  http(): Promise<RunningHttpGateway>;
}

/** Starts a gateway from a config object (passed through parseConfig as JSON, which is YAML). */
export async function startGateway(cleanup: Cleanup, config: Record<string, unknown>): Promise<GatewayHarness> {
  const dataDir = await tempDir(cleanup, 'portcullis-real-data-');
  const loaded = parseConfig(JSON.stringify(config), 'real-servers.json');
  const gateway = await Gateway.start({ config: loaded.config, dataDir });
  cleanup.add(() => gateway.close());
  return {
    gateway,
    loaded,
    dataDir,
    async connect(identity, options) {
      const found = loaded.identities.get(identity);
      if (!found) throw new Error(`identity ${identity} is not configured`);
      return attach(cleanup, probe(options), await gateway.connect(found));
    },
    async http() {
      const running = await startHttpGateway({ gateway, loaded, dataDir, host: '127.0.0.1', port: 0 });
      cleanup.add(() => running.close());
      return running;
    },
  };
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real inspector CLI (build/index.js, which `mcp-inspector-cli --cli`
 * spawns). Its cwd must be its build directory: it locates its own package.json
 * with fs.existsSync("../package.json") relative to the cwd.
 */
export function inspector(target: string[], args: string[], timeoutMs = 20_000): Promise<CliRun> {
  return new Promise((resolveRun) => {
    execFile(NODE, [join(INSPECTOR_BUILD, 'index.js'), ...target, ...args], { cwd: INSPECTOR_BUILD, timeout: timeoutMs, env: { PATH: process.env.PATH ?? '' } }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolveRun({ code, stdout, stderr });
    });
  });
}

/** A free loopback port (for servers that cannot report the port they bound). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolvePort(port));
    });
  });
}

/** server-everything in Streamable HTTP mode; resolves once it listens. */
export async function startEverythingHttp(cleanup: Cleanup): Promise<URL> {
  const port = await freePort();
  const child: ChildProcess = spawn(NODE, [EVERYTHING, 'streamableHttp'], { env: { PATH: process.env.PATH ?? '', PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] });
  cleanup.add(() => stopChild(child));
  await new Promise<void>((ok, fail) => {
    let seen = '';
    const timer = setTimeout(() => fail(new Error(`server-everything streamableHttp did not start: ${seen}`)), 10_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes('listening on port')) {
        clearTimeout(timer);
        ok();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`server-everything streamableHttp exited with ${code}: ${seen}`));
    });
  });
  return new URL(`http://127.0.0.1:${port}/mcp`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 2000);
    child.once('exit', () => {
      clearTimeout(force);
      done();
    });
    child.kill('SIGTERM');
  });
}

/**
 * A paginating MCP server built on the SDK's low-level Server (the npm
 * reference servers never paginate): 8 resources, 7 tools and 5 prompts,
 * served 3 per page with opaque cursors. Run with `node --input-type=module -e`
 * in PAGED_SERVER_CWD.
 */
export const PAGED_SERVER_SOURCE = `
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { McpError, ListResourcesRequestSchema, ReadResourceRequestSchema, ListToolsRequestSchema, CallToolRequestSchema, ListPromptsRequestSchema, GetPromptRequestSchema } from '@modelcontextprotocol/sdk/types.js';
const PAGE = 3;
function page(items, cursor, key) {
  let start = 0;
  if (cursor !== undefined) {
    start = Number(String(cursor).replace(/^page-/, ''));
    if (!Number.isInteger(start) || start < 0 || start >= items.length) throw new McpError(-32602, 'Invalid cursor');
  }
  const end = start + PAGE;
  return { [key]: items.slice(start, end), ...(end < items.length ? { nextCursor: 'page-' + end } : {}) };
}
const resources = Array.from({ length: 8 }, (_, i) => ({ uri: 'paged://item/' + (i + 1), name: 'item-' + (i + 1), mimeType: 'text/plain' }));
const tools = Array.from({ length: 7 }, (_, i) => ({ name: 'tool-' + (i + 1), description: 'paged tool ' + (i + 1), inputSchema: { type: 'object', properties: {} } }));
const prompts = Array.from({ length: 5 }, (_, i) => ({ name: 'prompt-' + (i + 1), description: 'paged prompt ' + (i + 1) }));
const server = new Server({ name: 'paged', version: '1.0.0' }, { capabilities: { resources: {}, tools: {}, prompts: {} } });
server.setRequestHandler(ListResourcesRequestSchema, (r) => page(resources, r.params?.cursor, 'resources'));
server.setRequestHandler(ListToolsRequestSchema, (r) => page(tools, r.params?.cursor, 'tools'));
server.setRequestHandler(ListPromptsRequestSchema, (r) => page(prompts, r.params?.cursor, 'prompts'));
server.setRequestHandler(ReadResourceRequestSchema, (r) => ({ contents: [{ uri: r.params.uri, mimeType: 'text/plain', text: 'content of ' + r.params.uri }] }));
server.setRequestHandler(CallToolRequestSchema, (r) => ({ content: [{ type: 'text', text: 'called ' + r.params.name }] }));
server.setRequestHandler(GetPromptRequestSchema, (r) => ({ messages: [{ role: 'user', content: { type: 'text', text: 'prompt ' + r.params.name } }] }));
await server.connect(new StdioServerTransport());
`;

export const PAGED_SERVER_ARGS = ['--input-type=module', '-e', PAGED_SERVER_SOURCE];
/** Where the paged server runs: bare imports resolve from node_modules, which its sandbox sees read-only. */
export const PAGED_SERVER_CWD = realpathSync(join(ROOT, 'node_modules'));

/** Polls until the predicate holds or the time is up; returns whether it held. */
export async function waitFor(predicate: () => boolean, timeoutMs = 3000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (predicate()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return predicate();
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The JSON-RPC error a rejected SDK call carried (McpError keeps code and data). */
export async function rpcError(promise: Promise<unknown>): Promise<{ code: number; message: string; data?: { code?: string; guard?: string } }> {
  try {
    const value = await promise;
    throw new Error(`expected a JSON-RPC error, got ${JSON.stringify(value).slice(0, 300)}`);
  } catch (error) {
    const e = error as { code?: unknown; message: string; data?: { code?: string; guard?: string } };
    if (typeof e.code !== 'number') throw error;
    return { code: e.code, message: e.message, data: e.data };
  }
}

export function textOf(result: unknown): string {
  const content = (result as { content?: { type: string; text?: string }[] }).content ?? [];
  return content.map((c) => c.text ?? '').join('\n');
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
