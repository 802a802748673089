import type { Readable, Writable } from 'node:stream';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { LineDecoder, encodeMessage } from './line-framing.js';
import { RpcCodes } from '../pipeline/codes.js';

/**
 * The client-facing stdio transport (a desktop client launched us). Unlike the
 * SDK's StdioServerTransport it answers bad input with a JSON-RPC error instead
 * of dropping it, and enforces the message size limit.
 */
export class StdioServerTransport implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;
  #decoder: LineDecoder;
  #closed = false;

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    private readonly maxMessageBytes: number,
  ) {
    this.#decoder = new LineDecoder(maxMessageBytes);
  }

  async start(): Promise<void> {
    this.input.on('data', (chunk: Buffer) =>
      this.#decoder.push(chunk, (event) => {
        if (event.kind === 'message') return this.onmessage?.(event.message);
        if (event.kind === 'oversize') {
          void this.send(errorMessage(event.id, RpcCodes.MESSAGE_TOO_LARGE, `MESSAGE_TOO_LARGE: message exceeds the ${this.maxMessageBytes}-byte limit; split the request or raise limits.max_message_bytes`));
        } else if (event.reason === 'parse') {
          void this.send(errorMessage(null, RpcCodes.PARSE_ERROR, `Parse error: ${event.detail}`));
        } else {
          void this.send(errorMessage(event.id, RpcCodes.INVALID_REQUEST, `Invalid Request: ${event.detail}`));
        }
        this.onerror?.(new Error(event.kind === 'oversize' ? `oversized message (${event.bytes} bytes)` : `invalid message: ${event.detail}`));
      }),
    );
    this.input.once('end', () => void this.close());
    this.input.once('error', (e) => this.onerror?.(e));
    this.output.on('error', (e) => this.onerror?.(e));
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.#closed) return;
    if (!this.output.write(encodeMessage(message))) {
      await new Promise<void>((resolve) => this.output.once('drain', resolve));
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.onclose?.();
  }
}

export function errorMessage(id: string | number | null, code: number, message: string, data?: unknown): JSONRPCMessage {
  return { jsonrpc: '2.0', id, error: { code, message, ...(data === undefined ? {} : { data }) } } as unknown as JSONRPCMessage;
}
