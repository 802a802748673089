import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';
import { LineDecoder, decodeMessage, type FrameEvent } from './line-framing.js';

function decode(limit: number, ...chunks: string[]): FrameEvent[] {
  const out: FrameEvent[] = [];
  const d = new LineDecoder(limit);
  for (const c of chunks) d.push(Buffer.from(c), (e) => out.push(e));
  return out;
}

test('messages split across chunks and several per chunk are framed', () => {
  const events = decode(1000, '{"jsonrpc":"2.0","me', 'thod":"ping","id":1}\n{"jsonrpc":"2.0","method":"x"}\r\n');
  assert.deepEqual(events.map((e) => e.kind), ['message', 'message']);
});

test('a line that is not JSON is reported as a parse error', () => {
  const [e] = decode(1000, 'hello\n');
  assert.equal(e.kind, 'invalid');
  assert.equal((e as { reason: string }).reason, 'parse');
});

test('JSON that is not JSON-RPC is reported with its id when it has one', () => {
  const [e] = decode(1000, '{"id":7,"hello":1}\n');
  assert.deepEqual([e.kind, (e as { reason: string }).reason, (e as { id: unknown }).id], ['invalid', 'not-jsonrpc', 7]);
});

test('an oversized line is dropped without buffering it, once, and framing resumes', () => {
  const big = '{"jsonrpc":"2.0","method":"x","params":{"p":"' + 'a'.repeat(500) + '"}}';
  const events = decode(100, big.slice(0, 300), big.slice(300) + '\n', '{"jsonrpc":"2.0","method":"ok"}\n');
  assert.deepEqual(events.map((e) => e.kind), ['oversize', 'message']);
  assert.equal((events[0] as { bytes: number }).bytes, big.length);
});

test('an oversized answer still yields its id so the caller can be told at once', () => {
  const answer = '{"result":{"text":"' + 'a'.repeat(500) + '"},"jsonrpc":"2.0","id":42}\n';
  const [e] = decode(100, answer.slice(0, 50), answer.slice(50));
  assert.deepEqual([e.kind, (e as { id: unknown }).id], ['oversize', 42]);
  const request = '{"jsonrpc":"2.0","id":"req-7","method":"tools/call","params":{"p":"' + 'a'.repeat(500) + '","id":3}}\n';
  assert.equal((decode(100, request)[0] as { id: unknown }).id, 'req-7');
});

test('an id nested inside an oversized payload is not mistaken for the message id', () => {
  const line = '{"method":"x","params":{"id":9,"p":"' + 'a'.repeat(500) + '"}}\n';
  assert.equal((decode(100, line)[0] as { id: unknown }).id, null);
});

test('unknown fields inside params survive decoding untouched', () => {
  const [e] = decode(1000, '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"x":1,"_meta":{"vendor/extra":true}}}\n');
  assert.deepEqual((e as { message: { params: unknown } }).message.params, { x: 1, _meta: { 'vendor/extra': true } });
});

test('the hand-checked fast path for plain calls and results accepts only what the SDK schema accepts', () => {
  const cases: unknown[] = [
    { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x', arguments: { a: 1 } } },
    { jsonrpc: '2.0', id: 'a', method: 'tools/call', params: {} },
    { jsonrpc: '2.0', id: 1.5, method: 'tools/call', params: {} },
    { jsonrpc: '2.0', id: 2 ** 60, method: 'tools/call', params: {} },
    { jsonrpc: '2.0', id: null, method: 'tools/call', params: {} },
    { jsonrpc: '2.0', id: 1, method: 7, params: {} },
    { jsonrpc: '2.0', id: 1, method: 'x', params: [] },
    { jsonrpc: '2.0', id: 1, method: 'x', params: { _meta: { progressToken: {} } } },
    { jsonrpc: '2.0', id: 1, method: 'x', params: {}, extra: true },
    { jsonrpc: '1.0', id: 1, method: 'x', params: {} },
    { jsonrpc: '2.0', id: 1, result: { content: [] } },
    { jsonrpc: '2.0', id: 1, result: [] },
    { jsonrpc: '2.0', id: 1, result: null },
    { jsonrpc: '2.0', id: 1, result: { _meta: 5 } },
    { jsonrpc: '2.0', id: true, result: {} },
    { jsonrpc: '2.0', id: 1, result: {}, error: { code: 1, message: 'x' } },
    { jsonrpc: '2.0', id: 1, error: { code: 1, message: 'x' } },
    { jsonrpc: '2.0', method: 'notifications/initialized' },
  ];
  for (const c of cases) {
    const e = decodeMessage(JSON.stringify(c));
    assert.equal(e.kind === 'message', JSONRPCMessageSchema.safeParse(c).success, JSON.stringify(c));
  }
});
