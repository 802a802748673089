import { JSONRPCMessageSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

export type FrameEvent =
  | { kind: 'message'; message: JSONRPCMessage }
  | { kind: 'invalid'; reason: 'parse' | 'not-jsonrpc'; detail: string; id: string | number | null }
  | { kind: 'oversize'; bytes: number };

/**
 * Newline-delimited JSON-RPC framing with a hard size limit.
 *
 * Written here rather than reusing the SDK's ReadBuffer because a gateway must
 * answer malformed and oversized lines with an error (the SDK drops them
 * silently) and must never buffer an unbounded line from a hostile peer.
 */
export class LineDecoder {
  #chunks: Buffer[] = [];
  #buffered = 0;
  #discarding = false;

  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer, emit: (event: FrameEvent) => void): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl === -1 ? chunk.length : nl;
      const piece = chunk.subarray(start, end);
      if (!this.#discarding) {
        if (this.#buffered + piece.length > this.maxBytes) {
          // Drop the rest of this line instead of buffering it; report once.
          emit({ kind: 'oversize', bytes: this.#buffered + piece.length });
          this.#discarding = true;
          this.#chunks = [];
          this.#buffered = 0;
        } else if (piece.length > 0) {
          this.#chunks.push(piece);
          this.#buffered += piece.length;
        }
      }
      if (nl === -1) break;
      if (!this.#discarding) this.#flushLine(emit);
      this.#discarding = false;
      start = nl + 1;
    }
  }

  #flushLine(emit: (event: FrameEvent) => void): void {
    const line = (this.#chunks.length === 1 ? this.#chunks[0] : Buffer.concat(this.#chunks)).toString('utf8').replace(/\r$/, '');
    this.#chunks = [];
    this.#buffered = 0;
    if (line.trim() === '') return;
    emit(decodeMessage(line));
  }
}

export function decodeMessage(text: string): FrameEvent {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { kind: 'invalid', reason: 'parse', detail: (error as Error).message, id: null };
  }
  const parsed = JSONRPCMessageSchema.safeParse(value);
  if (!parsed.success) {
    const id = value && typeof value === 'object' && 'id' in value && (typeof value.id === 'string' || typeof value.id === 'number') ? value.id : null;
    return { kind: 'invalid', reason: 'not-jsonrpc', detail: 'not a JSON-RPC 2.0 request, notification or response', id };
  }
  // Keep the original object, not zod's copy: unknown fields must pass through untouched.
  return { kind: 'message', message: value as JSONRPCMessage };
}

export function encodeMessage(message: JSONRPCMessage): string {
  return JSON.stringify(message) + '\n';
}
