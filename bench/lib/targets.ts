/**
 * The configurations under test. Each knows how to start its long-lived
 * processes, hand out an SDK client (fixed-rate runs) and lean sessions
 * (saturation runs), and which processes to account CPU and memory to.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent } from 'node:http';
import { defineConfig } from '../../src/config/load.js';
import { LeanHttpSession, LeanStdioConnection, SdkCaller, type Caller } from './clients.js';
import { GATEWAY_TOOL_NAME, TOOL_NAME } from './payload.js';
import { childPids, freePort, spawnTracked, waitForInitialize, type Spawned } from './procs.js';

const here = dirname(fileURLToPath(import.meta.url)); // dist/bench/lib
export const DIST = resolve(here, '..', '..');
export const ROOT = resolve(DIST, '..');
export const SERVER_JS = join(DIST, 'bench', 'server.js');
export const ENTRY_JS = join(DIST, 'bench', 'gateway-entry.js');
export const CLI_JS = join(DIST, 'src', 'cli', 'main.js');
export const MCP_PROXY_JS = join(ROOT, 'node_modules', 'mcp-proxy', 'dist', 'bin', 'mcp-proxy.mjs');
export const SUPERGATEWAY_JS = join(ROOT, 'node_modules', 'supergateway', 'dist', 'index.js');
export const NODE = process.execPath;

export function childEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  env.PORTCULLIS_LOG_LEVEL = 'warn';
  return env;
}

export type Durability = 'fsync' | 'write';

let sandboxKnown: boolean | undefined;
/** Whether this build's config has per-server `sandbox` (the sandbox feature), probed once. */
export function sandboxSupported(): boolean {
  if (sandboxKnown === undefined) {
    try {
      defineConfig({ servers: { s: { command: NODE, sandbox: 'none' } } } as never);
      sandboxKnown = true;
    } catch {
      sandboxKnown = false;
    }
  }
  return sandboxKnown;
}

/**
 * A Portcullis config: one stdio upstream (the bench server), an anonymous
 * loopback identity allowed to call it. `all`: every control this build has,
 * with its defaults (including the sandbox, where the build has one); `relay`:
 * no sandbox either (the guard chain is emptied by gateway-entry).
 */
export function portcullisConfig(durability: Durability, variant: 'all' | 'relay' = 'all'): Record<string, unknown> {
  const server: Record<string, unknown> = { command: NODE, args: [SERVER_JS] };
  if (sandboxSupported()) {
    // The server needs the SDK from node_modules, which may be a symlink out of the checkout.
    server.sandbox = variant === 'relay' ? 'none' : { filesystem: { read_only: [realpathSync(join(ROOT, 'node_modules')), realpathSync(ROOT)] } };
  }
  return {
    mode: 'development',
    anonymous_identity: 'bench',
    audit: { durability },
    servers: { bench: server },
    identities: {
      bench: {
        allowed_tools: ['bench.echo'],
        denied_tools: ['bench.delete_*'],
        session_ttl_seconds: 86_400,
        // Exercises identity argument constraints on top of the tool's own inputSchema.
        argument_constraints: { 'bench.echo': { properties: { customer: { type: 'string', pattern: '^cust-[0-9]+$' } } } },
      },
    },
  };
}

const tempDirs: string[] = [];
export async function tempDir(prefix = 'portcullis-bench-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}
export async function removeTempDirs(): Promise<void> {
  await Promise.all(tempDirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

export async function writeConfig(durability: Durability, variant: 'all' | 'relay' = 'all'): Promise<{ file: string; dataDir: string; dir: string }> {
  const dir = await tempDir();
  const file = join(dir, `portcullis-${variant}-${durability}.json`);
  await writeFile(file, JSON.stringify(portcullisConfig(durability, variant), null, 2));
  return { file, dataDir: join(dir, 'data'), dir };
}

export interface LeanGroup {
  callers: Caller[];
  inflightPerCaller: number;
  close(): Promise<void>;
}

export interface Target {
  id: string;
  label: string;
  family: 'stdio' | 'http';
  /** A gateway/proxy process sits between client and upstream. */
  hasGateway: boolean;
  /** What runs in between (for the docs). */
  path: string;
  guards: string;
  audit: string;
  setup(): Promise<void>;
  /** SDK client for a fixed-rate slice; `release` after the slice. */
  sdk(): Promise<{ caller: Caller; release(): Promise<void> }>;
  /** n concurrent sessions (HTTP) or n calls in flight on the one stdio connection. */
  lean(n: number): Promise<LeanGroup>;
  /** The gateway/proxy process (undefined for direct), and the upstream process(es). */
  pids(): { gateway?: number; upstream: number[] };
  teardown(): Promise<void>;
}

/** All descendants of a process. */
export function descendants(pid: number): number[] {
  const out: number[] = [];
  for (const c of childPids(pid)) out.push(c, ...descendants(c));
  return out;
}

async function openSessions(url: URL, tool: string, n: number, parallel = 8): Promise<LeanHttpSession[]> {
  const sessions: LeanHttpSession[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, n) }, async () => {
      while (next < n) {
        const i = next++;
        sessions[i] = await new LeanHttpSession(url, tool, new Agent({ keepAlive: true, maxSockets: 1 })).open();
      }
    }),
  );
  return sessions;
}

// ---- stdio family ------------------------------------------------------------------

function stdioTarget(o: { id: string; label: string; path: string; guards: string; audit: string; tool: string; command: () => Promise<string[]>; isGateway: boolean }): Target {
  let sdk: SdkCaller | undefined;
  let lean: LeanStdioConnection | undefined;
  return {
    id: o.id,
    label: o.label,
    family: 'stdio',
    hasGateway: o.isGateway,
    path: o.path,
    guards: o.guards,
    audit: o.audit,
    async setup() {
      // Each process gets its own command line: two gateways must never share a data dir (and its audit log).
      sdk = await SdkCaller.stdio(NODE, await o.command(), childEnv(), o.tool);
      lean = await LeanStdioConnection.open(NODE, await o.command(), childEnv(), o.tool);
    },
    async sdk() {
      return { caller: sdk!, release: async () => {} };
    },
    async lean(n) {
      return { callers: [lean!], inflightPerCaller: n, close: async () => {} };
    },
    pids() {
      const pid = lean!.proc.pid;
      return o.isGateway ? { gateway: pid, upstream: descendants(pid) } : { upstream: [pid] };
    },
    async teardown() {
      await Promise.all([sdk?.close(), lean?.close()]);
    },
  };
}

// ---- HTTP family ---------------------------------------------------------------------

function httpTarget(o: { id: string; label: string; path: string; guards: string; audit: string; tool: string; command: (port: number) => Promise<string[]>; isGateway: boolean }): Target {
  let proc: Spawned | undefined;
  let url!: URL;
  return {
    id: o.id,
    label: o.label,
    family: 'http',
    hasGateway: o.isGateway,
    path: o.path,
    guards: o.guards,
    audit: o.audit,
    async setup() {
      const port = await freePort();
      proc = spawnTracked(NODE, await o.command(port), { env: childEnv(), cwd: ROOT });
      url = new URL(`http://127.0.0.1:${port}/mcp`);
      await waitForInitialize(url, 60_000, proc, 20);
    },
    async sdk() {
      const caller = await SdkCaller.http(url, o.tool);
      return { caller, release: () => caller.close() };
    },
    async lean(n) {
      const sessions = await openSessions(url, o.tool, n);
      return { callers: sessions, inflightPerCaller: 1, close: async () => void (await Promise.all(sessions.map((s) => s.close()))) };
    },
    pids() {
      return o.isGateway ? { gateway: proc!.pid, upstream: descendants(proc!.pid) } : { upstream: [proc!.pid] };
    },
    async teardown() {
      await proc?.kill();
    },
  };
}

export const HTTP_SPAWNERS = {
  directHttp: async (port: number) => [SERVER_JS, '--http', String(port)],
  portcullis: async (port: number, durability: Durability, guards: 'all' | 'none') => {
    const cfg = await writeConfig(durability, guards === 'all' ? 'all' : 'relay');
    return guards === 'all'
      ? [CLI_JS, 'serve', '--config', cfg.file, '--data', cfg.dataDir, '--port', String(port)]
      : [ENTRY_JS, 'serve', '--config', cfg.file, '--data', cfg.dataDir, '--port', String(port), '--guards', 'none'];
  },
  mcpProxy: async (port: number) => [MCP_PROXY_JS, '--host', '127.0.0.1', '--port', String(port), '--server', 'stream', '--', NODE, SERVER_JS],
  supergateway: async (port: number) => [SUPERGATEWAY_JS, '--stdio', `${NODE} ${SERVER_JS}`, '--outputTransport', 'streamableHttp', '--stateful', '--port', String(port), '--logLevel', 'none'],
};

export function checkInstalled(): void {
  for (const f of [SERVER_JS, ENTRY_JS, CLI_JS, MCP_PROXY_JS, SUPERGATEWAY_JS]) {
    if (!existsSync(f)) throw new Error(`${f} is missing: run "npm install" and "npx tsc -p tsconfig.json" first`);
  }
}

export function allTargets(): Target[] {
  const portcullisStdio = async (durability: Durability, guards: 'all' | 'none') => {
    const cfg = await writeConfig(durability, guards === 'all' ? 'all' : 'relay');
    return guards === 'all'
      ? [CLI_JS, 'stdio', '--identity', 'bench', '--config', cfg.file, '--data', cfg.dataDir]
      : [ENTRY_JS, 'stdio', '--identity', 'bench', '--config', cfg.file, '--data', cfg.dataDir, '--guards', 'none'];
  };
  return [
    stdioTarget({ id: 'direct-stdio', label: 'direct, stdio', path: 'client → server (stdio)', guards: '—', audit: '—', tool: TOOL_NAME, isGateway: false, command: async () => [SERVER_JS] }),
    stdioTarget({ id: 'pc-stdio-relay', label: 'Portcullis relay, stdio', path: 'client → portcullis (stdio) → server (stdio)', guards: 'none (guards: [])', audit: 'write', tool: GATEWAY_TOOL_NAME, isGateway: true, command: () => portcullisStdio('write', 'none') }),
    stdioTarget({ id: 'pc-stdio-all', label: 'Portcullis all guards, stdio', path: 'client → `portcullis stdio` → server (stdio)', guards: 'all', audit: 'fsync', tool: GATEWAY_TOOL_NAME, isGateway: true, command: () => portcullisStdio('fsync', 'all') }),
    stdioTarget({ id: 'pc-stdio-all-write', label: 'Portcullis all guards, stdio, audit write', path: 'client → `portcullis stdio` → server (stdio)', guards: 'all', audit: 'write', tool: GATEWAY_TOOL_NAME, isGateway: true, command: () => portcullisStdio('write', 'all') }),
    httpTarget({ id: 'direct-http', label: 'direct, HTTP', path: 'client → server (Streamable HTTP)', guards: '—', audit: '—', tool: TOOL_NAME, isGateway: false, command: HTTP_SPAWNERS.directHttp }),
    httpTarget({ id: 'pc-http-relay', label: 'Portcullis relay, HTTP', path: 'client → portcullis serve (HTTP) → server (stdio)', guards: 'none (guards: [])', audit: 'write', tool: GATEWAY_TOOL_NAME, isGateway: true, command: (p) => HTTP_SPAWNERS.portcullis(p, 'write', 'none') }),
    httpTarget({ id: 'pc-http-all', label: 'Portcullis all guards, HTTP', path: 'client → `portcullis serve` (HTTP) → server (stdio)', guards: 'all', audit: 'fsync', tool: GATEWAY_TOOL_NAME, isGateway: true, command: (p) => HTTP_SPAWNERS.portcullis(p, 'fsync', 'all') }),
    httpTarget({ id: 'pc-http-all-write', label: 'Portcullis all guards, HTTP, audit write', path: 'client → `portcullis serve` (HTTP) → server (stdio)', guards: 'all', audit: 'write', tool: GATEWAY_TOOL_NAME, isGateway: true, command: (p) => HTTP_SPAWNERS.portcullis(p, 'write', 'all') }),
    httpTarget({ id: 'mcp-proxy', label: 'mcp-proxy', path: 'client → mcp-proxy (HTTP) → server (stdio)', guards: 'none (it has none)', audit: '—', tool: TOOL_NAME, isGateway: true, command: HTTP_SPAWNERS.mcpProxy }),
    httpTarget({ id: 'supergateway', label: 'supergateway --stateful', path: 'client → supergateway (HTTP) → one server per session (stdio)', guards: 'none (it has none)', audit: '—', tool: TOOL_NAME, isGateway: true, command: HTTP_SPAWNERS.supergateway }),
  ];
}
