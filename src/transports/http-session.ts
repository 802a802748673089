import type { IncomingMessage, ServerResponse } from 'node:http';
import { MAX_BATCH_SIZE } from '@modelcontextprotocol/sdk/server/requestBody.js';
import { isJsonContentType } from '@modelcontextprotocol/sdk/shared/mediaType.js';
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import { isInitializeRequest, JSONRPCMessageSchema, SUPPORTED_PROTOCOL_VERSIONS, type JSONRPCMessage, type RequestId } from '@modelcontextprotocol/sdk/types.js';

/** Same interval as the SDK transport: a comment frame keeps proxies from timing out an idle stream. */
const KEEP_ALIVE_MS = 15_000;

const SSE_HEADERS = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
};

/** One open SSE response: a POST's stream (its requests' answers) or the session's GET stream. */
interface Stream {
  res: ServerResponse;
  /** The POST's requests still waiting for their answer (empty for the GET stream). */
  waiting: Set<RequestId>;
  keepAlive?: NodeJS.Timeout;
}

/**
 * The server side of one Streamable HTTP session, on Node's own request and
 * response objects. It keeps the wire behaviour of the SDK's
 * StreamableHTTPServerTransport (status codes, error bodies, SSE framing,
 * one GET stream per session, 202 for notifications, DELETE ends the session)
 * without its round trip through web Request/Response/ReadableStream objects,
 * which cost about as much CPU per call as the whole guard chain.
 *
 * Requests are answered on an SSE stream, as the SDK does: clients must accept
 * it anyway, and answering in one event written at once costs no more than a
 * JSON body. The headers go out with the first event, so a quick answer is one
 * write; a slow one gets them with the first keep-alive.
 *
 * No event store: a stream that breaks is not resumed (neither was it before).
 */
export class HttpSessionTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  /** Set once initialize is accepted; until then no client knows the session. */
  sessionId?: string;
  #started = false;
  #closed = false;
  readonly #streams = new Map<RequestId, Stream>();
  #standalone?: Stream;

  constructor(private readonly id: string) {}

  async start(): Promise<void> {
    if (this.#started) throw new Error('Transport already started');
    this.#started = true;
  }

  /** `body` is the parsed JSON of a POST (the endpoint reads and size-checks it). */
  async handleRequest(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    if (this.#closed) return this.#refuse(res, 404, -32001, 'Session not found');
    switch (req.method) {
      case 'POST':
        return this.#post(req, res, body);
      case 'GET':
        return this.#get(req, res);
      case 'DELETE':
        return this.#delete(req, res);
      default:
        return this.#refuse(res, 405, -32000, 'Method not allowed.', { Allow: 'GET, POST, DELETE' });
    }
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const isResponse = 'result' in message || 'error' in message;
    const requestId = isResponse ? (message as { id?: RequestId }).id : options?.relatedRequestId;
    if (requestId === undefined) {
      if (isResponse) throw new Error('Cannot send a response on a standalone SSE stream unless resuming a previous client request');
      // Server-initiated messages go to the GET stream, or nowhere when the client opened none.
      if (this.#standalone) writeEvent(this.#standalone.res, message);
      return;
    }
    const stream = this.#streams.get(requestId);
    if (!stream) throw new Error(`No connection established for request ID: ${String(requestId)}`);
    if (!isResponse) return void writeEvent(stream.res, message);
    stream.waiting.delete(requestId);
    this.#streams.delete(requestId);
    if (stream.waiting.size > 0) return void writeEvent(stream.res, message);
    clearInterval(stream.keepAlive);
    stream.res.end(sseEvent(message));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const stream of new Set([...this.#streams.values(), ...(this.#standalone ? [this.#standalone] : [])])) {
      clearInterval(stream.keepAlive);
      stream.res.end();
    }
    this.#streams.clear();
    this.#standalone = undefined;
    this.onclose?.();
  }

  #post(req: IncomingMessage, res: ServerResponse, body: unknown): void {
    const accept = req.headers.accept;
    if (!accept?.includes('application/json') || !accept.includes('text/event-stream')) {
      return this.#refuse(res, 406, -32000, 'Not Acceptable: Client must accept both application/json and text/event-stream');
    }
    if (!isJsonContentType(req.headers['content-type'] ?? null)) {
      return this.#refuse(res, 415, -32000, 'Unsupported Media Type: Content-Type must be application/json');
    }
    if (Array.isArray(body) && body.length > MAX_BATCH_SIZE) {
      return this.#refuse(res, 400, -32600, `Invalid Request: Batch must not exceed ${MAX_BATCH_SIZE} messages`);
    }
    const messages: JSONRPCMessage[] = [];
    for (const raw of Array.isArray(body) ? body : [body]) {
      const parsed = JSONRPCMessageSchema.safeParse(raw);
      if (!parsed.success) return this.#refuse(res, 400, -32700, 'Parse error: Invalid JSON-RPC message');
      messages.push(parsed.data);
    }
    const initializing = messages.some((m) => 'method' in m && m.method === 'initialize' && isInitializeRequest(m));
    if (initializing) {
      if (this.sessionId !== undefined) return this.#refuse(res, 400, -32600, 'Invalid Request: Server already initialized');
      if (messages.length > 1) return this.#refuse(res, 400, -32600, 'Invalid Request: Only one initialization request is allowed');
      this.sessionId = this.id;
    } else if (!this.#checkSession(req, res)) {
      return;
    }
    const requests = messages.filter((m): m is JSONRPCMessage & { id: RequestId; method: string } => 'method' in m && 'id' in m);
    if (requests.length === 0) {
      res.writeHead(202).end();
      for (const m of messages) this.onmessage?.(m);
      return;
    }
    const stream: Stream = { res, waiting: new Set(requests.map((r) => r.id)) };
    for (const r of requests) this.#streams.set(r.id, stream);
    res.writeHead(200, { ...SSE_HEADERS, 'mcp-session-id': this.id });
    this.#keepAlive(stream);
    res.once('close', () => {
      // The client went away before every answer was written: later answers have nowhere to go.
      clearInterval(stream.keepAlive);
      for (const id of stream.waiting) if (this.#streams.get(id) === stream) this.#streams.delete(id);
    });
    for (const m of messages) this.onmessage?.(m);
  }

  #get(req: IncomingMessage, res: ServerResponse): void {
    if (!req.headers.accept?.includes('text/event-stream')) {
      return this.#refuse(res, 406, -32000, 'Not Acceptable: Client must accept text/event-stream');
    }
    if (!this.#checkSession(req, res)) return;
    if (this.#standalone) return this.#refuse(res, 409, -32000, 'Conflict: Only one SSE stream is allowed per session');
    const stream: Stream = { res, waiting: new Set() };
    this.#standalone = stream;
    res.writeHead(200, { ...SSE_HEADERS, 'mcp-session-id': this.id });
    // Nothing may be sent for a long time, and the client waits for the headers to know the stream is open.
    res.flushHeaders();
    this.#keepAlive(stream);
    res.once('close', () => {
      clearInterval(stream.keepAlive);
      if (this.#standalone === stream) this.#standalone = undefined;
    });
  }

  async #delete(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!this.#checkSession(req, res)) return;
    res.writeHead(200).end();
    await this.close();
  }

  /** What the SDK checks on every message after initialize. The endpoint has already matched the session id. */
  #checkSession(req: IncomingMessage, res: ServerResponse): boolean {
    if (this.sessionId === undefined) {
      this.#refuse(res, 400, -32000, 'Bad Request: Server not initialized');
      return false;
    }
    const version = req.headers['mcp-protocol-version'];
    if (version !== undefined && !SUPPORTED_PROTOCOL_VERSIONS.includes(String(version))) {
      const supported = SUPPORTED_PROTOCOL_VERSIONS.join(', ');
      this.#refuse(res, 400, -32000, `Bad Request: Unsupported protocol version: ${String(version)} (supported versions: ${supported})`);
      return false;
    }
    return true;
  }

  #keepAlive(stream: Stream): void {
    stream.keepAlive = setInterval(() => stream.res.write(': keepalive\n\n'), KEEP_ALIVE_MS).unref();
  }

  #refuse(res: ServerResponse, status: number, code: number, message: string, headers: Record<string, string> = {}): void {
    this.onerror?.(new Error(message));
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
  }
}

function sseEvent(message: JSONRPCMessage): string {
  return `event: message\ndata: ${JSON.stringify(message)}\n\n`;
}

function writeEvent(res: ServerResponse, message: JSONRPCMessage): void {
  res.write(sseEvent(message));
}
