/**
 * Load-generating clients.
 *
 * - SDK clients: the official `@modelcontextprotocol/sdk` Client over stdio or
 *   Streamable HTTP, used for the fixed-rate (latency) runs.
 * - Lean clients: a raw keep-alive HTTP loop and a raw stdio line loop that
 *   send pre-serialised JSON-RPC and parse only what they must. Used for the
 *   saturation runs, where the SDK client itself would otherwise be the
 *   bottleneck on a 2-core machine (the benchmark records client CPU to show it).
 */
import { request, Agent, type IncomingHttpHeaders } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { callArguments, RESULT_BYTES } from './payload.js';
import { spawnTracked, trackPid, type Spawned } from './procs.js';

/** Anything that can make one tools/call and settle when the answer is in (rejects on a wrong answer). */
export interface Caller {
  call(seq: number): Promise<void>;
  close(): Promise<void>;
}

const ARGS = Array.from({ length: 256 }, (_, i) => callArguments(i));
const PROTOCOL = '2025-06-18';

function checkResult(result: unknown): void {
  const content = (result as { content?: { text?: string }[]; isError?: boolean } | undefined)?.content;
  const text = content?.[0]?.text;
  if ((result as { isError?: boolean }).isError || typeof text !== 'string' || text.length !== RESULT_BYTES) {
    throw new Error(`unexpected tools/call result: ${JSON.stringify(result).slice(0, 300)}`);
  }
}

// ---- SDK clients --------------------------------------------------------------

export class SdkCaller implements Caller {
  private constructor(
    private readonly client: Client,
    private readonly tool: string,
    private readonly onClose: () => Promise<void>,
    readonly pid?: number,
  ) {}

  static async stdio(command: string, args: string[], env: Record<string, string>, tool: string): Promise<SdkCaller> {
    const transport = new StdioClientTransport({ command, args, env, stderr: 'pipe' });
    let stderr = '';
    (transport.stderr as NodeJS.ReadableStream | null)?.on('data', (c: Buffer) => {
      stderr = (stderr + c.toString('utf8')).slice(-4000);
    });
    const client = new Client({ name: 'bench-sdk', version: '1.0.0' });
    try {
      await client.connect(transport);
    } catch (error) {
      throw new Error(`SDK stdio connect to ${command} ${args.join(' ')} failed: ${(error as Error).message}\n${stderr}`);
    }
    const pid = transport.pid ?? undefined;
    const untrack = pid ? trackPid(pid) : () => {};
    return new SdkCaller(client, tool, async () => {
      await client.close();
      untrack();
    }, pid);
  }

  static async http(url: URL, tool: string): Promise<SdkCaller> {
    const transport = new StreamableHTTPClientTransport(url);
    const client = new Client({ name: 'bench-sdk', version: '1.0.0' });
    await client.connect(transport);
    return new SdkCaller(client, tool, async () => {
      await transport.terminateSession().catch(() => {});
      await client.close();
    });
  }

  async call(seq: number): Promise<void> {
    checkResult(await this.client.callTool({ name: this.tool, arguments: ARGS[seq & 255] }));
  }

  close(): Promise<void> {
    return this.onClose().catch(() => {});
  }
}

// ---- lean HTTP ------------------------------------------------------------------

function callBody(id: number, tool: string): string {
  return JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: tool, arguments: ARGS[id & 255] } });
}

/** The JSON-RPC response with `id` out of a JSON or SSE body. */
function extractResponse(headers: IncomingHttpHeaders, body: string, id: number): Record<string, unknown> {
  const type = String(headers['content-type'] ?? '');
  if (type.includes('text/event-stream')) {
    let at = 0;
    for (;;) {
      const d = body.indexOf('data:', at);
      if (d === -1) break;
      const end = body.indexOf('\n', d);
      const msg = JSON.parse(body.slice(d + 5, end === -1 ? undefined : end)) as Record<string, unknown>;
      if (msg.id === id) return msg;
      at = end === -1 ? body.length : end;
    }
    throw new Error(`no response with id ${id} in SSE body: ${body.slice(0, 300)}`);
  }
  const msg = JSON.parse(body) as Record<string, unknown>;
  if (msg.id !== id) throw new Error(`response id ${String(msg.id)} != ${id}`);
  return msg;
}

/**
 * One MCP session over raw keep-alive HTTP: initialize, initialized, then
 * tools/call in a loop. No GET stream is opened (a client need not).
 */
export class LeanHttpSession implements Caller {
  #sessionId = '';
  #protocol = PROTOCOL;
  #nextId = 1;
  readonly #agent: Agent;

  constructor(
    private readonly url: URL,
    private readonly tool: string,
    agent?: Agent,
  ) {
    this.#agent = agent ?? new Agent({ keepAlive: true, maxSockets: 4 });
  }

  get sessionId(): string {
    return this.#sessionId;
  }

  #post(body: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(
        this.url,
        {
          method: 'POST',
          agent: this.#agent,
          headers: {
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            'content-length': String(Buffer.byteLength(body)),
            ...(this.#sessionId ? { 'mcp-session-id': this.#sessionId, 'mcp-protocol-version': this.#protocol } : {}),
            ...headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  async open(): Promise<this> {
    const init = await this.#post(
      JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'bench-lean', version: '1.0.0' } } }),
    );
    if (init.status !== 200) throw new Error(`initialize at ${this.url} answered ${init.status}: ${init.body.slice(0, 300)}`);
    const sid = init.headers['mcp-session-id'];
    if (typeof sid !== 'string') throw new Error(`initialize at ${this.url} returned no Mcp-Session-Id`);
    this.#sessionId = sid;
    const result = extractResponse(init.headers, init.body, 0).result as { protocolVersion?: string } | undefined;
    if (result?.protocolVersion) this.#protocol = result.protocolVersion;
    const done = await this.#post(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    if (done.status >= 300) throw new Error(`notifications/initialized answered ${done.status}: ${done.body.slice(0, 200)}`);
    return this;
  }

  async call(_seq: number): Promise<void> {
    const id = this.#nextId++;
    const res = await this.#post(callBody(id, this.tool));
    if (res.status !== 200) throw new Error(`tools/call answered HTTP ${res.status}: ${res.body.slice(0, 300)}`);
    const msg = extractResponse(res.headers, res.body, id);
    if (msg.error) throw new Error(`tools/call error: ${JSON.stringify(msg.error).slice(0, 300)}`);
    checkResult(msg.result);
  }

  /** Ends the session (DELETE) and drops the sockets. */
  async close(): Promise<void> {
    if (this.#sessionId) {
      await new Promise<void>((resolve) => {
        const req = request(this.url, { method: 'DELETE', agent: this.#agent, headers: { 'mcp-session-id': this.#sessionId, 'mcp-protocol-version': this.#protocol } }, (res) => {
          res.resume();
          res.on('end', () => resolve());
        });
        req.on('error', () => resolve());
        req.setTimeout(5000, () => req.destroy());
        req.end();
      });
    }
    this.#agent.destroy();
  }
}

// ---- lean stdio -----------------------------------------------------------------

/** One stdio MCP connection driven with raw JSON lines; many requests may be in flight. */
export class LeanStdioConnection implements Caller {
  #nextId = 1;
  #pending = new Map<number, { resolve(): void; reject(e: Error): void }>();
  #buffer = '';
  #initDone?: { resolve(): void; reject(e: Error): void };

  private constructor(
    readonly proc: Spawned,
    private readonly tool: string,
  ) {}

  static async open(command: string, args: string[], env: Record<string, string>, tool: string): Promise<LeanStdioConnection> {
    const proc = spawnTracked(command, args, { env, keepStdout: true });
    const conn = new LeanStdioConnection(proc, tool);
    proc.child.stdout!.setEncoding('utf8');
    proc.child.stdout!.on('data', (t: string) => conn.#onData(t));
    proc.child.stdin!.on('error', () => {});
    void proc.exited.then(() => {
      const e = new Error(`stdio process exited:\n${proc.stderrTail()}`);
      conn.#initDone?.reject(e);
      for (const p of conn.#pending.values()) p.reject(e);
      conn.#pending.clear();
    });
    await new Promise<void>((resolve, reject) => {
      conn.#initDone = { resolve, reject };
      conn.#write({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'bench-lean', version: '1.0.0' } } });
    });
    conn.#write({ jsonrpc: '2.0', method: 'notifications/initialized' });
    return conn;
  }

  #write(msg: unknown): void {
    this.proc.child.stdin!.write(JSON.stringify(msg) + '\n');
  }

  #onData(text: string): void {
    this.#buffer += text;
    let nl: number;
    while ((nl = this.#buffer.indexOf('\n')) !== -1) {
      const line = this.#buffer.slice(0, nl);
      this.#buffer = this.#buffer.slice(nl + 1);
      if (!line.trim()) continue;
      const msg = JSON.parse(line) as { id?: number; result?: unknown; error?: unknown; method?: string };
      if (msg.method !== undefined) continue; // notifications and server requests: not expected here
      if (msg.id === 0 && this.#initDone) {
        const done = this.#initDone;
        this.#initDone = undefined;
        if (msg.error) done.reject(new Error(`initialize failed: ${JSON.stringify(msg.error)}`));
        else done.resolve();
        continue;
      }
      const p = this.#pending.get(msg.id as number);
      if (!p) continue;
      this.#pending.delete(msg.id as number);
      if (msg.error) p.reject(new Error(`tools/call error: ${JSON.stringify(msg.error).slice(0, 300)}`));
      else {
        try {
          checkResult(msg.result);
          p.resolve();
        } catch (e) {
          p.reject(e as Error);
        }
      }
    }
  }

  call(_seq: number): Promise<void> {
    const id = this.#nextId++;
    return new Promise<void>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.proc.child.stdin!.write(callBody(id, this.tool) + '\n');
    });
  }

  async close(): Promise<void> {
    this.proc.child.stdin!.end();
    const timer = setTimeout(() => void this.proc.kill(), 3000);
    await this.proc.exited;
    clearTimeout(timer);
    await this.proc.kill();
  }
}
