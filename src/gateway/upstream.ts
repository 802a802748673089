import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  LATEST_PROTOCOL_VERSION,
  type Implementation,
  type JSONRPCMessage,
  type JSONRPCNotification,
  type JSONRPCRequest,
  type ServerCapabilities,
} from '@modelcontextprotocol/sdk/types.js';
import { isStdioServer, type ServerConfig } from '../config/schema.js';
import { ProcessTransport, type ProcessExit, type ProcessSpec } from '../transports/stdio-process.js';
import { resolveEnv } from '../sandbox/env.js';
import { RpcCodes, rpcCodeFor, type ReasonCode } from '../pipeline/codes.js';
import { VERSION } from '../version.js';
import { AdmissionRefusal } from '../admission/refusal.js';

export type RpcError = { code: number; message: string; data?: unknown };
/** A JSON-RPC answer as the upstream gave it: relayed verbatim, never re-shaped. */
export type Outcome = { result: Record<string, unknown> } | { error: RpcError };

export interface UpstreamInfo {
  protocolVersion: string;
  capabilities: ServerCapabilities;
  serverInfo: Implementation;
  instructions?: string;
}

/** Who is waiting on an upstream request: lets upstream-initiated traffic be attributed. */
export interface RequestOwner {
  readonly sessionId: string;
  readonly downstreamId: string | number;
}

export type UpstreamEvent =
  | { kind: 'started'; pid?: number; restart: number }
  | { kind: 'exited'; detail: string; inFlight: number }
  | { kind: 'restart-scheduled'; inMs: number }
  | { kind: 'start-failed'; detail: string }
  | { kind: 'protocol-error'; detail: string }
  | { kind: 'stderr'; line: string };

export interface UpstreamHooks {
  /** A notification; `owner` is set when exactly one caller could have caused it. */
  notification(upstream: Upstream, message: JSONRPCNotification, owner: RequestOwner | undefined): void;
  /** A server→client request (sampling, elicitation, or roots/list, which the gateway refuses); must answer. */
  request(upstream: Upstream, message: JSONRPCRequest, owner: RequestOwner | undefined): Promise<Outcome>;
  event(upstream: Upstream, event: UpstreamEvent): void;
}

/** How one launch of a stdio server runs, as the sandbox (or another launcher) prepared it. */
export interface LaunchPlan {
  spec: ProcessSpec;
  /** Called once the process has exited (or failed to start). */
  dispose?(): Promise<void>;
  /** Says why the process ended when the launcher can tell (a sandbox limit); phrased to follow `server "x" `. */
  explainExit?(exit: ProcessExit): string | undefined;
}

export interface UpstreamOptions {
  maxMessageBytes: number;
  hooks: UpstreamHooks;
  /**
   * Builds the launch of a stdio server from its plain spec (declared env,
   * secrets resolved); the sandbox plugs in here. Called before every start,
   * restarts included.
   */
  launch?: (spec: ProcessSpec) => ProcessSpec | LaunchPlan | Promise<ProcessSpec | LaunchPlan>;
  initializeTimeoutMs?: number;
  /** Says why the server that answered initialize must not be used (not the pinned identity), or undefined. */
  admit?: (info: UpstreamInfo) => string | undefined;
  /** The fetch for a remote server's HTTP connection (e.g. one that pins the TLS key). */
  fetch?: typeof fetch;
}

interface Pending {
  method: string;
  owner?: RequestOwner;
  resolve(outcome: Outcome): void;
  onProgress?: (params: Record<string, unknown>) => void;
  timer: NodeJS.Timeout;
  timeoutMs: number;
}

const RESTART_MIN_MS = 250;
const RESTART_MAX_MS = 30_000;
const STABLE_AFTER_MS = 30_000;

export function failure(code: ReasonCode, message: string): { error: RpcError } {
  return { error: { code: rpcCodeFor(code), message: `${code}: ${message}`, data: { code } } };
}

/**
 * One connection to one upstream MCP server, shared by every session. It owns
 * the wire ids (so sessions never collide), rewrites progress tokens so progress
 * finds its caller, bounds every request in time, and restarts a crashed stdio
 * server with exponential backoff.
 */
export class Upstream {
  info?: UpstreamInfo;
  #transport?: Transport;
  readonly #plans = new WeakMap<Transport, LaunchPlan>();
  #nextId = 1;
  #pending = new Map<number, Pending>();
  #state: 'idle' | 'starting' | 'ready' | 'down' | 'refused' | 'closed' = 'idle';
  #refusal?: string;
  #restarts = 0;
  #backoffMs = RESTART_MIN_MS;
  #startedAt = 0;
  #restartTimer?: NodeJS.Timeout;
  #downSince = 0;

  constructor(
    readonly name: string,
    readonly config: ServerConfig,
    private readonly options: UpstreamOptions,
  ) {}

  get ready(): boolean {
    return this.#state === 'ready';
  }

  get pid(): number | undefined {
    return this.#transport instanceof ProcessTransport ? this.#transport.pid : undefined;
  }

  /** Connects and performs the MCP handshake; rejects with a message saying what to fix. */
  async start(): Promise<void> {
    this.#state = 'starting';
    let transport: Transport;
    try {
      transport = await this.#makeTransport();
    } catch (error) {
      if (!this.#closed()) this.#refuseOr(error, 'down');
      const detail = `server "${this.name}" did not start: ${(error as Error).message}`;
      this.options.hooks.event(this, { kind: 'start-failed', detail });
      throw new Error(detail);
    }
    if (this.#closed()) {
      await this.#dispose(transport);
      throw new Error(`server "${this.name}" is closed`);
    }
    this.#transport = transport;
    transport.onmessage = (m) => this.#onMessage(m);
    transport.onerror = (e) => this.options.hooks.event(this, { kind: 'protocol-error', detail: e.message });
    transport.onclose = () => this.#onClose(transport);
    try {
      await transport.start();
      const init = await this.#call('initialize', {
        protocolVersion: LATEST_PROTOCOL_VERSION,
        // No roots: this connection is shared by every session, and roots are per client.
        capabilities: { sampling: {}, elicitation: { form: {}, url: {} } },
        clientInfo: { name: 'portcullis', version: VERSION },
      }, undefined, this.options.initializeTimeoutMs ?? 30_000);
      if ('error' in init) throw new Error(`initialize failed: ${init.error.message}`);
      const info = init.result as unknown as UpstreamInfo;
      const refusal = this.options.admit?.(info);
      if (refusal) throw new AdmissionRefusal(refusal);
      this.info = info;
      if (!(transport instanceof ProcessTransport)) (transport as StreamableHTTPClientTransport).setProtocolVersion(this.info.protocolVersion);
      await transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    } catch (error) {
      if (!this.#closed()) this.#refuseOr(error, 'down');
      await transport.close().catch(() => {});
      await this.#dispose(transport);
      const detail = `server "${this.name}" did not start: ${(error as Error).message}${this.#stderrHint(transport)}`;
      this.options.hooks.event(this, { kind: 'start-failed', detail });
      throw new Error(detail);
    }
    this.#state = 'ready';
    this.#startedAt = Date.now();
    this.options.hooks.event(this, { kind: 'started', pid: this.pid, restart: this.#restarts });
  }

  /**
   * Sends a request; the promise always settles — with the upstream's answer,
   * or with an error if the server is down, crashes, or goes silent for
   * timeout_seconds (progress notifications count as signs of life).
   */
  request(
    method: string,
    params: Record<string, unknown> | undefined,
    options: { owner?: RequestOwner; onProgress?: (params: Record<string, unknown>) => void; timeoutMs?: number } = {},
  ): { id: number; outcome: Promise<Outcome> } {
    const id = this.#nextId++;
    if (this.#state !== 'ready') {
      return { id, outcome: Promise.resolve(failure('UPSTREAM_UNAVAILABLE', this.#unavailableReason())) };
    }
    return { id, outcome: this.#call(method, params, options.owner, options.timeoutMs ?? this.config.timeout_seconds * 1000, options.onProgress, id) };
  }

  async notify(method: string, params?: Record<string, unknown>): Promise<void> {
    if (this.#state !== 'ready') return;
    await this.#transport!.send({ jsonrpc: '2.0', method, ...(params ? { params } : {}) }).catch(() => {});
  }

  cancel(id: number, reason: string): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    void this.notify('notifications/cancelled', { requestId: id, reason });
    this.#settle(id, { error: { code: RpcCodes.INTERNAL_ERROR, message: `request cancelled: ${reason}` } });
  }

  /** Distinct sessions with requests in flight here. */
  owners(): RequestOwner[] {
    const seen = new Map<string, RequestOwner>();
    for (const p of this.#pending.values()) if (p.owner && !seen.has(p.owner.sessionId)) seen.set(p.owner.sessionId, p.owner);
    return [...seen.values()];
  }

  async close(): Promise<void> {
    this.#state = 'closed';
    clearTimeout(this.#restartTimer);
    for (const id of [...this.#pending.keys()]) this.#settle(id, failure('UPSTREAM_UNAVAILABLE', `gateway is shutting down`));
    await this.#transport?.close().catch(() => {});
    if (this.#transport) await this.#dispose(this.#transport);
  }

  async #makeTransport(): Promise<Transport> {
    const c = this.config;
    if (isStdioServer(c)) {
      const spec: ProcessSpec = { command: c.command, args: c.args, env: baseEnvironment(await resolveEnv(this.name, c.env)), cwd: c.cwd };
      const launched = this.options.launch ? await this.options.launch(spec) : spec;
      const plan: LaunchPlan = 'spec' in launched ? launched : { spec: launched };
      const transport = new ProcessTransport(plan.spec, this.options.maxMessageBytes, (line) => this.options.hooks.event(this, { kind: 'stderr', line }));
      this.#plans.set(transport, plan);
      return transport;
    }
    // The SDK's HTTP client (with its OAuth and SSE modules) is loaded only by gateways that have an HTTP upstream.
    const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
    return new StreamableHTTPClientTransport(new URL(c.url), { requestInit: { headers: c.headers }, ...(this.options.fetch ? { fetch: this.options.fetch } : {}) });
  }

  /** An admission refusal is final: restarting would only run the wrong thing again. */
  #refuseOr(error: unknown, state: 'down'): void {
    if (error instanceof AdmissionRefusal) {
      this.#state = 'refused';
      this.#refusal = error.message;
    } else {
      this.#state = state;
    }
  }

  /** A separate read: the state can change to closed while start() awaits. */
  #closed(): boolean {
    return this.#state === 'closed';
  }

  /** Releases what the launcher set up for this transport's process (egress proxy, runtime files); once. */
  async #dispose(transport: Transport): Promise<void> {
    const plan = this.#plans.get(transport);
    this.#plans.delete(transport);
    await plan?.dispose?.().catch(() => {});
  }

  #call(method: string, params: Record<string, unknown> | undefined, owner: RequestOwner | undefined, timeoutMs: number, onProgress?: Pending['onProgress'], id = this.#nextId++): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      let wireParams = params;
      const meta = params?._meta as Record<string, unknown> | undefined;
      if (meta && meta.progressToken !== undefined) {
        // Progress tokens are chosen by each client and may collide between
        // sessions; the upstream sees ours, the client gets its own back.
        wireParams = { ...params, _meta: { ...meta, progressToken: id } };
      }
      const pending: Pending = {
        method,
        owner,
        resolve,
        onProgress: meta?.progressToken !== undefined ? onProgress : undefined,
        timeoutMs,
        timer: setTimeout(() => this.#timedOut(id), timeoutMs),
      };
      this.#pending.set(id, pending);
      this.#transport!.send({ jsonrpc: '2.0', id, method, ...(wireParams ? { params: wireParams } : {}) } as JSONRPCMessage).catch((error: Error) =>
        this.#settle(id, failure('UPSTREAM_UNAVAILABLE', `could not send to server "${this.name}": ${error.message}`)),
      );
    });
  }

  #timedOut(id: number): void {
    const p = this.#pending.get(id);
    if (!p) return;
    void this.notify('notifications/cancelled', { requestId: id, reason: 'timed out at the gateway' });
    this.#settle(id, failure('UPSTREAM_TIMEOUT', `server "${this.name}" gave no answer or progress to ${p.method} within ${p.timeoutMs / 1000}s; it was cancelled (raise servers.${this.name}.timeout_seconds if the tool is legitimately slow)`));
  }

  #settle(id: number, outcome: Outcome): void {
    const p = this.#pending.get(id);
    if (!p) return;
    this.#pending.delete(id);
    clearTimeout(p.timer);
    p.resolve(outcome);
  }

  #onMessage(message: JSONRPCMessage): void {
    if ('method' in message) {
      if ('id' in message) return this.#onServerRequest(message as JSONRPCRequest);
      const n = message as JSONRPCNotification;
      if (n.method === 'notifications/progress') {
        const token = (n.params as { progressToken?: unknown } | undefined)?.progressToken;
        const p = typeof token === 'number' ? this.#pending.get(token) : undefined;
        if (p?.onProgress) {
          p.timer.refresh();
          p.onProgress(n.params as Record<string, unknown>);
        }
        return;
      }
      if (n.method === 'notifications/cancelled') {
        this.options.hooks.notification(this, n, undefined);
        return;
      }
      this.options.hooks.notification(this, n, this.#soleOwner());
      return;
    }
    const id = (message as { id?: unknown }).id;
    if (typeof id !== 'number' || !this.#pending.has(id)) {
      this.options.hooks.event(this, { kind: 'protocol-error', detail: `response for unknown request id ${JSON.stringify(id)}; dropped` });
      return;
    }
    if ('error' in message) this.#settle(id, { error: message.error as RpcError });
    else this.#settle(id, { result: (message as { result: Record<string, unknown> }).result });
  }

  #onServerRequest(request: JSONRPCRequest): void {
    const answer = (outcome: Outcome) =>
      void this.#transport?.send({ jsonrpc: '2.0', id: request.id, ...outcome } as JSONRPCMessage).catch(() => {});
    if (request.method === 'ping') return answer({ result: {} });
    // A server asking the client something keeps its own call alive.
    for (const p of this.#pending.values()) p.timer.refresh();
    this.options.hooks.request(this, request, this.#soleOwner()).then(answer, (error: Error) =>
      answer({ error: { code: RpcCodes.INTERNAL_ERROR, message: error.message } }),
    );
  }

  /**
   * With one shared connection per server, server-initiated traffic carries no
   * session; it is attributed only when exactly one session is waiting here.
   */
  #soleOwner(): RequestOwner | undefined {
    const owners = this.owners();
    if (owners.length !== 1) return undefined;
    const sessionId = owners[0].sessionId;
    let latest: RequestOwner | undefined;
    for (const p of this.#pending.values()) if (p.owner?.sessionId === sessionId) latest = p.owner;
    return latest;
  }

  #onClose(transport: Transport): void {
    if (transport !== this.#transport) return;
    const explain = this.#plans.get(transport)?.explainExit;
    void this.#dispose(transport);
    const wasReady = this.#state === 'ready';
    if (this.#state === 'closed') return;
    this.#state = 'down';
    this.#downSince = Date.now();
    const detail = describeExit(this.name, transport, explain);
    const inFlight = this.#pending.size;
    for (const id of [...this.#pending.keys()]) {
      this.#settle(id, failure('UPSTREAM_UNAVAILABLE', `${detail} while handling this request; the gateway is restarting it, retry shortly`));
    }
    this.options.hooks.event(this, { kind: 'exited', detail, inFlight });
    if (wasReady) this.#scheduleRestart();
  }

  #scheduleRestart(): void {
    if (this.#state === 'closed' || this.#state === 'refused' || !isStdioServer(this.config)) return;
    if (Date.now() - this.#startedAt > STABLE_AFTER_MS) this.#backoffMs = RESTART_MIN_MS;
    const inMs = this.#backoffMs;
    this.#backoffMs = Math.min(this.#backoffMs * 2, RESTART_MAX_MS);
    this.options.hooks.event(this, { kind: 'restart-scheduled', inMs });
    this.#restartTimer = setTimeout(() => {
      this.#restarts++;
      this.start().catch(() => this.#scheduleRestart());
    }, inMs);
    this.#restartTimer.unref();
  }

  #unavailableReason(): string {
    if (this.#state === 'closed') return `server "${this.name}" is closed`;
    if (this.#state === 'refused') return this.#refusal!;
    if (this.#state === 'down') return `server "${this.name}" is down since ${new Date(this.#downSince).toISOString()} and is being restarted; retry shortly`;
    return `server "${this.name}" is still starting; retry shortly`;
  }

  #stderrHint(transport: Transport): string {
    const tail = transport instanceof ProcessTransport ? transport.exit?.stderrTail : undefined;
    return tail ? `\n  last stderr lines:\n    ${tail.split('\n').join('\n    ')}` : '';
  }
}

function describeExit(name: string, transport: Transport, explain?: (exit: ProcessExit) => string | undefined): string {
  const exit = transport instanceof ProcessTransport ? transport.exit : undefined;
  if (!exit) return `server "${name}" closed the connection`;
  const how = explain?.(exit) ?? (exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`);
  return `server "${name}" ${how}${exit.stderrTail ? ` (stderr: ${exit.stderrTail.split('\n').pop()})` : ''}`;
}

/**
 * Servers get the declared env plus the few variables a process needs to run,
 * never the gateway's whole environment: its secrets must not leak upstream.
 */
function baseEnvironment(declared: Record<string, string>): Record<string, string> {
  const keep = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'TERM', 'LANG', 'TMPDIR', 'SYSTEMROOT'];
  const env: Record<string, string> = {};
  for (const k of keep) if (process.env[k] !== undefined) env[k] = process.env[k]!;
  return { ...env, ...declared };
}
