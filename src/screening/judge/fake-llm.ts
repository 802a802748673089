/**
 * A fake OpenAI-compatible chat completions server on 127.0.0.1, for tests of
 * the LLM judge: it records every request it receives and answers what the
 * test's reply function says, including the failures a real endpoint has.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ChatRequest {
  path: string;
  authorization?: string;
  body: { model?: string; messages?: { role: string; content: string }[] } & Record<string, unknown>;
}

export type FakeReply =
  /** A completion whose message content is this text. */
  | { content: string }
  /** An HTTP error status. */
  | { status: number }
  /** A 200 whose body is exactly this (not necessarily JSON). */
  | { raw: string }
  /** No answer at all, until the server closes. */
  | { hang: true };

export interface FakeLlm {
  /** The base_url to configure: http://127.0.0.1:PORT/v1 */
  baseUrl: string;
  requests: ChatRequest[];
  close(): Promise<void>;
}

export async function startFakeLlm(reply: (request: ChatRequest) => FakeReply): Promise<FakeLlm> {
  const requests: ChatRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request: ChatRequest = { path: req.url ?? '', authorization: req.headers.authorization, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') };
      requests.push(request);
      const r = reply(request);
      if ('hang' in r) return;
      if ('status' in r) return void res.writeHead(r.status, { 'Content-Type': 'application/json' }).end('{"error":{"message":"fake failure"}}');
      const body = 'raw' in r ? r.raw : JSON.stringify({ id: 'fake', object: 'chat.completion', model: request.body.model, choices: [{ index: 0, message: { role: 'assistant', content: r.content }, finish_reason: 'stop' }] });
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The text inside the judge's delimited block of a request, and the nonce of its markers. */
export function judgedBlock(request: ChatRequest): { nonce: string; data: string } | undefined {
  const user = request.body.messages?.find((m) => m.role === 'user')?.content ?? '';
  const m = /^<untrusted-data-([0-9a-f]{24})>\n([\s\S]*)\n<\/untrusted-data-\1>\n/.exec(user);
  return m ? { nonce: m[1], data: m[2] } : undefined;
}

export const verdict = (v: 'injection' | 'benign', confidence = 0.9): FakeReply => ({ content: JSON.stringify({ verdict: v, confidence }) });
