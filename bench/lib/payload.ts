/**
 * The one call every configuration makes: `echo` with about 1 KB of JSON
 * arguments, answered by 4 KB of text. Shared by the upstream server and the
 * load generators so every client sends byte-identical requests.
 */
export const TOOL_NAME = 'echo';
/** Exposed name through Portcullis (server "bench", default separator "__"). */
export const GATEWAY_TOOL_NAME = 'bench__echo';

const WORDS = 'the quick brown fox jumps over a lazy dog while agents call tools through a zero trust gateway'.split(' ');

function text(chars: number, seed: number): string {
  let out = '';
  for (let i = seed; out.length < chars; i++) out += WORDS[(i * 7) % WORDS.length] + ' ';
  return out.slice(0, chars);
}

/** Arguments of one call; `JSON.stringify(callArguments(n))` is exactly 1,024 bytes. */
export function callArguments(id: number): Record<string, unknown> {
  const base = { id, customer: 'cust-004217', tags: ['billing', 'priority', 'eu-west', 'renewal'], note: '' };
  return { ...base, note: text(1024 - JSON.stringify(base).length, 3) };
}

/** The tool's result text: exactly 4,096 characters (ASCII, so 4 KB). */
export const RESULT_TEXT = text(4096, 11);
export const ARG_BYTES = 1024;
export const RESULT_BYTES = 4096;
