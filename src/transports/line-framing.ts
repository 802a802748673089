import { JSONRPCMessageSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

export type FrameEvent =
  | { kind: 'message'; message: JSONRPCMessage }
  | { kind: 'invalid'; reason: 'parse' | 'not-jsonrpc'; detail: string; id: string | number | null }
  | { kind: 'oversize'; bytes: number; id: string | number | null };

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
  /** Bytes of the line being dropped, and its first and last bytes, where its id can be read. */
  #discarded = 0;
  #head = Buffer.alloc(0);
  #tail = Buffer.alloc(0);

  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer, emit: (event: FrameEvent) => void): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl === -1 ? chunk.length : nl;
      const piece = chunk.subarray(start, end);
      if (this.#discarded > 0) {
        this.#keepTail(piece);
        this.#discarded += piece.length;
      } else if (this.#buffered + piece.length > this.maxBytes) {
        // Drop the line instead of buffering it, keeping only its ends.
        const sofar = Buffer.concat([...this.#chunks, piece]);
        this.#head = Buffer.from(sofar.subarray(0, ID_WINDOW));
        this.#tail = Buffer.alloc(0);
        this.#keepTail(sofar);
        this.#discarded = sofar.length;
        this.#chunks = [];
        this.#buffered = 0;
      } else if (piece.length > 0) {
        this.#chunks.push(piece);
        this.#buffered += piece.length;
      }
      if (nl === -1) break;
      if (this.#discarded > 0) {
        emit({ kind: 'oversize', bytes: this.#discarded, id: idOfDropped(this.#head.toString('utf8'), this.#tail.toString('utf8')) });
        this.#discarded = 0;
      } else {
        this.#flushLine(emit);
      }
      start = nl + 1;
    }
  }

  #keepTail(piece: Buffer): void {
    this.#tail = Buffer.concat([this.#tail, piece.subarray(Math.max(0, piece.length - ID_WINDOW))]);
    if (this.#tail.length > ID_WINDOW) this.#tail = this.#tail.subarray(this.#tail.length - ID_WINDOW);
  }

  #flushLine(emit: (event: FrameEvent) => void): void {
    const line = (this.#chunks.length === 1 ? this.#chunks[0] : Buffer.concat(this.#chunks)).toString('utf8').replace(/\r$/, '');
    this.#chunks = [];
    this.#buffered = 0;
    if (line.trim() === '') return;
    emit(decodeMessage(line));
  }
}

const ID_WINDOW = 256;
const ID = String.raw`(-?\d+|"(?:[^"\\]|\\.)*")`;
// Only positions that are certainly the top-level member count: the id as the
// object's last member (how the SDK writes messages) or right after "jsonrpc" at the start.
const ID_AT_END = new RegExp(String.raw`"id"\s*:\s*${ID}\s*\}\s*\r?$`);
const ID_AT_START = new RegExp(String.raw`^\s*\{\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*)?"id"\s*:\s*${ID}`);

/**
 * The id of a message too large to parse, so the request it answers (or
 * asks) can fail at once with a clear error instead of waiting for a timeout.
 */
function idOfDropped(head: string, tail: string): string | number | null {
  const m = ID_AT_END.exec(tail) ?? ID_AT_START.exec(head);
  if (!m) return null;
  return m[1].startsWith('"') ? (JSON.parse(m[1]) as string) : Number(m[1]);
}

export function decodeMessage(text: string): FrameEvent {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { kind: 'invalid', reason: 'parse', detail: (error as Error).message, id: null };
  }
  if (isPlainCall(value)) return { kind: 'message', message: value as JSONRPCMessage };
  const parsed = JSONRPCMessageSchema.safeParse(value);
  if (!parsed.success) {
    const id = value && typeof value === 'object' && 'id' in value && (typeof value.id === 'string' || typeof value.id === 'number') ? value.id : null;
    return { kind: 'invalid', reason: 'not-jsonrpc', detail: 'not a JSON-RPC 2.0 request, notification or response', id };
  }
  // Keep the original object, not zod's copy: unknown fields must pass through untouched.
  return { kind: 'message', message: value as JSONRPCMessage };
}

/**
 * The two messages of nearly every call — a request `{jsonrpc, id, method,
 * params}` and its result `{jsonrpc, id, result}` — in a form the SDK schema
 * certainly accepts: exactly those members, an integer or string id, object
 * params or result without `_meta` (whose members the schema types). Checked
 * by hand because the zod union cost ~4 µs per message at 1,000 calls/s;
 * anything else, valid or not, still goes through the schema.
 */
function isPlainCall(value: unknown): boolean {
  if (!isObject(value) || value.jsonrpc !== '2.0') return false;
  const id = value.id;
  if (typeof id !== 'string' && !Number.isSafeInteger(id)) return false;
  let members = 0;
  for (const _ in value) members++;
  if ('method' in value) {
    return members === 4 && typeof value.method === 'string' && isObject(value.params) && !('_meta' in value.params);
  }
  return members === 3 && isObject(value.result) && !('_meta' in value.result);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function encodeMessage(message: JSONRPCMessage): string {
  return JSON.stringify(message) + '\n';
}
