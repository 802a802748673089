import { chmod, chown } from 'node:fs/promises';
import { lookup as dnsLookup } from 'node:dns/promises';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { EgressEvent } from '../types.js';
import { Allowlist, normaliseHost, parseAuthority } from './allowlist.js';

export interface EgressProxyOptions {
  server: string;
  /** "host:port" entries (validated by the config schema). */
  allow: readonly string[];
  /** Unix socket to listen on; its directory must be private to the gateway (and the sandbox uid). */
  socketPath: string;
  /** Awaited for every attempt; if it throws, the attempt is refused (no record, no connection). */
  report(event: EgressEvent): Promise<void>;
  /** Owner to give the socket when the sandbox runs as another uid (the gateway runs as root). */
  owner?: { uid: number; gid: number };
  /** Name resolution; defaults to the system resolver. Only ever called for allowed names. */
  lookup?: (host: string) => Promise<string>;
  connectTimeoutMs?: number;
}

/** Refusals beyond this many per window are counted, not itemised: a sandbox must not be able to flood the audit log. */
const DENY_BURST = 20;
const DENY_WINDOW_MS = 10_000;

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/**
 * The egress proxy for one sandboxed server: HTTP CONNECT (for TLS and any
 * TCP protocol) and plain-HTTP absolute-URI requests, on a unix socket that is
 * bind-mounted into the sandbox. The sandbox has its own empty network
 * namespace, so this socket is its only way out: the allowlist is enforced
 * here, in the gateway, without root, iptables or a shared network. The proxy
 * resolves names itself, only for allowed names, and every attempt, allowed
 * or refused, is reported for the audit log before anything is connected.
 */
export class EgressProxy {
  readonly #allow: Allowlist;
  readonly #server: Server;
  readonly #sockets = new Set<Duplex>();
  #denied = 0;
  #suppressed = 0;
  #window?: NodeJS.Timeout;

  private constructor(private readonly options: EgressProxyOptions) {
    this.#allow = new Allowlist(options.allow);
    this.#server = createServer();
    this.#server.on('connection', (s: Socket) => this.#track(s));
    this.#server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.#onConnect(req, socket, head));
    this.#server.on('request', (req: IncomingMessage, res: ServerResponse) => void this.#onRequest(req, res));
    this.#server.on('clientError', (_e, socket: Duplex) => socket.destroy());
  }

  static async listen(options: EgressProxyOptions): Promise<EgressProxy> {
    const proxy = new EgressProxy(options);
    await new Promise<void>((resolve, reject) => {
      proxy.#server.once('error', reject);
      proxy.#server.listen(options.socketPath, () => resolve());
    });
    await chmod(options.socketPath, 0o600);
    if (options.owner) await chown(options.socketPath, options.owner.uid, options.owner.gid);
    return proxy;
  }

  async close(): Promise<void> {
    clearTimeout(this.#window);
    await this.#flushSuppressed();
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #track(s: Duplex): void {
    this.#sockets.add(s);
    s.once('close', () => this.#sockets.delete(s));
  }

  async #onConnect(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const raw = req.url ?? '';
    const target = parseAuthority(raw);
    if (!target) {
      await this.#deny('CONNECT', raw.slice(0, 200), 0, 'malformed CONNECT target (expected host:port)');
      return void socket.end(reply(400, 'Bad Request', 'malformed CONNECT target (expected host:port)\n'));
    }
    const verdict = await this.#decide('CONNECT', target.host, target.port);
    if (!verdict.ok) return void socket.end(reply(verdict.status, verdict.status === 403 ? 'Forbidden' : 'Bad Gateway', verdict.message + '\n'));
    const upstream = connect({ host: verdict.address, port: target.port });
    this.#track(upstream);
    let connected = false;
    upstream.setTimeout(this.options.connectTimeoutMs ?? 10_000, () => upstream.destroy(new Error('connect timed out')));
    upstream.once('connect', () => {
      connected = true;
      upstream.setTimeout(0);
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      socket.pipe(upstream);
      upstream.pipe(socket);
    });
    upstream.on('error', (error) => {
      if (!connected) {
        void this.#failed('CONNECT', target.host, target.port, verdict.address, error);
        socket.end(reply(502, 'Bad Gateway', `portcullis egress: ${target.host}:${target.port} is allowed but unreachable (${(error as NodeJS.ErrnoException).code ?? error.message})\n`));
      } else socket.destroy();
    });
    upstream.once('close', () => socket.destroy());
    socket.once('close', () => upstream.destroy());
  }

  async #onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL | undefined;
    try {
      url = new URL(req.url ?? '');
    } catch {
      url = undefined;
    }
    if (!url || url.protocol !== 'http:') {
      await this.#deny(req.method ?? 'GET', (req.url ?? '').slice(0, 200), 0, 'not an absolute http:// URI (use CONNECT for https and other protocols)');
      res.writeHead(400, { 'content-type': 'text/plain', connection: 'close' });
      return void res.end('portcullis egress proxy: send absolute-URI http:// requests, or CONNECT host:port\n');
    }
    const host = normaliseHost(url.hostname);
    const port = url.port ? Number(url.port) : 80;
    const verdict = await this.#decide(req.method ?? 'GET', host, port);
    if (!verdict.ok) {
      res.writeHead(verdict.status, { 'content-type': 'text/plain', connection: 'close', 'x-portcullis-egress': 'refused' });
      return void res.end(verdict.message + '\n');
    }
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
    headers.host = url.host;
    const out = httpRequest({ host: verdict.address, port, method: req.method, path: url.pathname + url.search, headers, agent: false, setHost: false });
    out.setTimeout(this.options.connectTimeoutMs ?? 10_000, () => out.destroy(new Error('timed out')));
    out.on('response', (answer) => {
      out.setTimeout(0);
      const back: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(answer.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) back[k] = v;
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, back);
      answer.pipe(res);
    });
    out.on('error', (error) => {
      if (!res.headersSent) {
        void this.#failed(req.method ?? 'GET', host, port, verdict.address, error);
        res.writeHead(502, { 'content-type': 'text/plain', connection: 'close' });
        res.end(`portcullis egress: ${host}:${port} is allowed but unreachable (${(error as NodeJS.ErrnoException).code ?? error.message})\n`);
      } else res.destroy();
    });
    req.pipe(out);
  }

  async #decide(method: string, host: string, port: number): Promise<{ ok: true; address: string } | { ok: false; status: number; message: string }> {
    const rule = this.#allow.match(host, port);
    if (!rule) {
      const reason = `${host}:${port} is not on servers.${this.options.server}.sandbox.network.allow`;
      await this.#deny(method, host, port, reason);
      return { ok: false, status: 403, message: `portcullis egress: refused: ${reason}` };
    }
    let address: string;
    try {
      address = isIP(host) ? host : this.options.lookup ? await this.options.lookup(host) : (await dnsLookup(host, { verbatim: true })).address;
    } catch (error) {
      await this.#failed(method, host, port, undefined, error as Error);
      return { ok: false, status: 502, message: `portcullis egress: ${host} does not resolve (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` };
    }
    if (!isIP(host) && host !== 'localhost' && hostLocal(address)) {
      // A name that resolves to the host's own loopback or to link-local space (cloud
      // metadata at 169.254.169.254) is DNS pointing the sandbox back at the host.
      const reason = `${host} resolves to ${address}, a loopback/link-local address; allowing a name does not allow that (list the address itself if intended)`;
      await this.#deny(method, host, port, reason);
      return { ok: false, status: 403, message: `portcullis egress: refused: ${reason}` };
    }
    try {
      await this.options.report({ server: this.options.server, decision: 'allow', code: 'EGRESS_ALLOWED', reason: `allowed by "${rule.source}"`, method, host, port, address });
    } catch {
      return { ok: false, status: 503, message: 'portcullis egress: refused: the audit log is unavailable' };
    }
    return { ok: true, address };
  }

  async #deny(method: string, host: string, port: number, reason: string): Promise<void> {
    if (!this.#window) {
      this.#window = setTimeout(() => void this.#flushSuppressed(), DENY_WINDOW_MS);
      this.#window.unref();
    }
    if (++this.#denied > DENY_BURST) {
      this.#suppressed++;
      return;
    }
    await this.options.report({ server: this.options.server, decision: 'deny', code: 'EGRESS_DENIED', reason, method, host, port }).catch(() => {});
  }

  async #flushSuppressed(): Promise<void> {
    this.#window = undefined;
    this.#denied = 0;
    const n = this.#suppressed;
    this.#suppressed = 0;
    if (n === 0) return;
    const reason = `${n} further refused attempts within ${DENY_WINDOW_MS / 1000}s were counted but not itemised (more than ${DENY_BURST} refusals per window)`;
    await this.options.report({ server: this.options.server, decision: 'deny', code: 'EGRESS_DENIED', reason, method: '*', host: '*', port: 0 }).catch(() => {});
  }

  async #failed(method: string, host: string, port: number, address: string | undefined, error: Error): Promise<void> {
    const why = (error as NodeJS.ErrnoException).code ?? error.message;
    await this.options
      .report({ server: this.options.server, decision: 'allow', code: 'EGRESS_FAILED', reason: `allowed, but the connection failed: ${why}`, method, host, port, ...(address ? { address } : {}) })
      .catch(() => {});
  }
}

/** Loopback, link-local, unspecified and multicast addresses (IPv4, IPv6 and IPv4-mapped IPv6). */
export function hostLocal(address: string): boolean {
  const a = address.toLowerCase().replace(/^::ffff:(?=\d+\.)/, '');
  if (isIP(a) === 4) {
    const [x, y] = a.split('.').map(Number);
    return x === 127 || x === 0 || (x === 169 && y === 254) || x >= 224;
  }
  return a === '::1' || a === '::' || /^fe[89ab]/.test(a) || a.startsWith('ff');
}

function reply(status: number, text: string, body: string): string {
  return `HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\nX-Portcullis-Egress: refused\r\n\r\n${body}`;
}
