import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Authenticator, Principal } from '../auth/index.js';
import { invalidToken } from '../auth/index.js';
import { RpcCodes } from '../pipeline/codes.js';
import { HttpSessionTransport } from './http-session.js';

/** What the endpoint needs to know about a session it has opened; nothing of policy. */
export interface OpenedSession {
  readonly identityName: string;
  readonly expired: boolean;
  close(reason: string): Promise<void>;
}

export interface HttpEndpointOptions {
  host: string;
  port: number;
  path?: string;
  maxMessageBytes: number;
  authenticator: Authenticator;
  /** Binds a new MCP session to the authenticated principal. Throws to refuse it. */
  openSession(transport: Transport, principal: Principal, sessionId: string): Promise<OpenedSession>;
  /** Extra Host header values to accept (host:port), e.g. behind a reverse proxy. */
  allowedHosts?: string[];
  allowedOrigins?: string[];
  /** Serves paths under /admin/ (after the Host/Origin checks; it authenticates on its own). */
  adminHandler?: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
}

interface Entry {
  transport: HttpSessionTransport;
  session?: OpenedSession;
}

const SWEEP_MS = 10_000;

/**
 * The Streamable HTTP endpoint. In order, each request must: hit the MCP path,
 * carry an allowed Host and Origin (DNS-rebinding defence), authenticate, stay
 * under the size limit, parse, and belong to a live session of the same
 * identity. Only then does the session's transport see it.
 */
export class HttpEndpoint {
  readonly #server: Server;
  readonly #sessions = new Map<string, Entry>();
  readonly #path: string;
  #hosts = new Set<string>();
  #origins = new Set<string>();
  #sweeper?: NodeJS.Timeout;

  constructor(private readonly options: HttpEndpointOptions) {
    this.#path = options.path ?? '/mcp';
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((error: Error) => {
        if (!res.headersSent) json(res, 500, rpcError(RpcCodes.INTERNAL_ERROR, `internal gateway error: ${error.message}`));
        else res.end();
      });
    });
  }

  async listen(): Promise<URL> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.options.port, this.options.host, () => resolve());
    });
    const { port } = this.#server.address() as AddressInfo;
    const host = this.options.host.includes(':') ? `[${this.options.host}]` : this.options.host;
    const names = isLoopbackHost(this.options.host) ? ['127.0.0.1', 'localhost', '[::1]'] : [host];
    this.#hosts = new Set([...names.map((n) => `${n}:${port}`), ...(this.options.allowedHosts ?? [])]);
    this.#origins = new Set([...[...this.#hosts].flatMap((h) => [`http://${h}`, `https://${h}`]), ...(this.options.allowedOrigins ?? [])]);
    this.#sweeper = setInterval(() => this.#sweep(), SWEEP_MS).unref();
    return new URL(`http://${host}:${port}${this.#path}`);
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    await Promise.all([...this.#sessions.values()].map((e) => e.session?.close('gateway shutting down')));
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://placeholder');
    const admin = this.options.adminHandler !== undefined && url.pathname.startsWith('/admin/');
    if (url.pathname !== this.#path && !admin) return json(res, 404, rpcError(RpcCodes.INVALID_REQUEST, `no MCP endpoint at ${url.pathname}; use ${this.#path}`));
    if (!this.#hosts.has(req.headers.host ?? '')) {
      return json(res, 403, rpcError(RpcCodes.INVALID_REQUEST, `Host header "${req.headers.host ?? ''}" is not allowed (DNS-rebinding protection); connect to ${[...this.#hosts][0]}`));
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !this.#origins.has(origin)) {
      return json(res, 403, rpcError(RpcCodes.INVALID_REQUEST, `Origin "${origin}" is not allowed (DNS-rebinding protection)`));
    }
    if (admin) return this.options.adminHandler!(req, res);
    const auth = await this.options.authenticator.authenticate({ authorization: req.headers.authorization, remoteAddress: req.socket.remoteAddress });
    if (!auth.ok) {
      res.setHeader('WWW-Authenticate', auth.wwwAuthenticate);
      return json(res, auth.status, rpcError(RpcCodes.INVALID_REQUEST, `Unauthorized: ${auth.description}`));
    }

    let body: unknown;
    if (req.method === 'POST') {
      const read = await readBody(req, this.options.maxMessageBytes);
      if (read === 'too-large') {
        return json(res, 413, rpcError(RpcCodes.MESSAGE_TOO_LARGE, `MESSAGE_TOO_LARGE: request body exceeds ${this.options.maxMessageBytes} bytes; split the request or raise limits.max_message_bytes`), { Connection: 'close' });
      }
      try {
        body = JSON.parse(read.toString('utf8'));
      } catch (error) {
        return json(res, 400, rpcError(RpcCodes.PARSE_ERROR, `Parse error: ${(error as Error).message}`));
      }
    }

    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId !== 'string') {
      if (req.method === 'POST' && (isInitializeRequest(body) || (Array.isArray(body) && body.some(isInitializeRequest)))) {
        return this.#startSession(req, res, body, auth.principal);
      }
      return json(res, 400, rpcError(RpcCodes.INVALID_REQUEST, 'Bad Request: no Mcp-Session-Id header; send initialize first to start a session'));
    }
    const entry = this.#sessions.get(sessionId);
    if (!entry) return json(res, 404, rpcError(-32001, 'Session not found: it expired, was closed, or never existed; start a new session with initialize'));
    if (entry.session && entry.session.identityName !== auth.principal.identity) {
      // A session is bound to the identity that opened it; another credential cannot take it over.
      return json(res, 403, rpcError(RpcCodes.INVALID_REQUEST, `session belongs to another identity; identity ${auth.principal.identity} must start its own session`));
    }
    if (entry.session?.expired) {
      await entry.session.close('session expired');
      const failure = invalidToken('session expired; re-authenticate and start a new session');
      res.setHeader('WWW-Authenticate', failure.wwwAuthenticate);
      return json(res, 401, rpcError(RpcCodes.SESSION_EXPIRED, `SESSION_EXPIRED: ${failure.description}`));
    }
    await entry.transport.handleRequest(req, res, body);
  }

  async #startSession(req: IncomingMessage, res: ServerResponse, body: unknown, principal: Principal): Promise<void> {
    const id = randomUUID();
    const transport = new HttpSessionTransport(id);
    const entry: Entry = { transport };
    this.#sessions.set(id, entry);
    const onclose = () => this.#sessions.delete(id);
    try {
      entry.session = await this.options.openSession(transport, principal, id);
    } catch (error) {
      this.#sessions.delete(id);
      return json(res, 403, rpcError(RpcCodes.INVALID_REQUEST, `session refused: ${(error as Error).message}`));
    }
    // Session.start installed its own onclose; chain ours so the map entry goes too.
    const sessionOnClose = transport.onclose;
    transport.onclose = () => {
      onclose();
      sessionOnClose?.();
    };
    await transport.handleRequest(req, res, body);
    if (transport.sessionId === undefined) {
      // The transport refused the initialize (wrong Accept or Content-Type,
      // a batch of two...): no client knows this session, so it must not linger.
      this.#sessions.delete(id);
      await entry.session.close('initialize refused by the transport');
    }
  }

  #sweep(): void {
    for (const [id, e] of this.#sessions) {
      if (e.session?.expired) {
        this.#sessions.delete(id);
        void e.session.close('session expired');
      }
    }
  }
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      return resolve('too-large');
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        resolve('too-large');
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

function rpcError(code: number, message: string): unknown {
  return { jsonrpc: '2.0', id: null, error: { code, message } };
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(JSON.stringify(body));
}
