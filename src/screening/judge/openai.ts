/**
 * Judge backend for an OpenAI-compatible chat completions endpoint (OpenAI,
 * vLLM, llama.cpp, Ollama, LiteLLM…). The key stays in this closure: it is
 * sent as a bearer header and never appears in errors, logs or the audit.
 */
import { JudgeError } from './prompt.js';
import type { JudgeBackend } from './index.js';

export interface OpenAiBackendOptions {
  /** e.g. http://127.0.0.1:8080/v1; the request goes to {baseUrl}/chat/completions. */
  baseUrl: string;
  model: string;
  apiKey?: string;
  /** Responses larger than this are refused unread (default 64 KiB: a verdict is a few dozen bytes). */
  maxResponseBytes?: number;
}

/** Enough for the JSON verdict; a model that wants to say more has been distracted. */
const MAX_TOKENS = 64;

export function openAiBackend(options: OpenAiBackendOptions): JudgeBackend {
  const url = new URL('chat/completions', options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`);
  const limit = options.maxResponseBytes ?? 64 * 1024;
  const headers: Record<string, string> = { 'Content-Type': 'application/json', 'User-Agent': 'portcullis-judge' };
  if (options.apiKey) headers.Authorization = `Bearer ${options.apiKey}`;
  return {
    name: 'openai',
    async complete(prompt, { signal }) {
      const body = JSON.stringify({
        model: options.model,
        messages: [
          { role: 'system', content: prompt.system },
          { role: 'user', content: prompt.user },
        ],
        temperature: 0,
        max_tokens: MAX_TOKENS,
      });
      let response: Response;
      try {
        // A redirect would carry the key to wherever the endpoint points; none is followed.
        response = await fetch(url, { method: 'POST', headers, body, redirect: 'error', signal });
      } catch (error) {
        throw unreachable(error, url);
      }
      if (!response.ok) {
        await response.body?.cancel().catch(() => {});
        throw new JudgeError('http', `the judge endpoint ${url.origin} answered HTTP ${response.status}`);
      }
      const text = await readBounded(response, limit, url);
      let content: unknown;
      try {
        content = (JSON.parse(text) as { choices?: { message?: { content?: unknown } }[] }).choices?.[0]?.message?.content;
      } catch {
        throw new JudgeError('malformed', `the judge endpoint ${url.origin} did not answer with JSON`);
      }
      if (typeof content !== 'string') throw new JudgeError('malformed', `the judge endpoint ${url.origin} answered without choices[0].message.content`);
      return content;
    },
  };
}

async function readBounded(response: Response, limit: number, url: URL): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  const tooLarge = () => new JudgeError('too_large', `the judge endpoint ${url.origin} answered more than ${limit} bytes`);
  if (declared > limit) {
    await response.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body?.getReader();
  try {
    for (let read = await reader?.read(); read && !read.done; read = await reader!.read()) {
      size += read.value.byteLength;
      if (size > limit) {
        await reader!.cancel().catch(() => {});
        throw tooLarge();
      }
      chunks.push(read.value);
    }
  } catch (error) {
    if (error instanceof JudgeError) throw error;
    throw unreachable(error, url);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function unreachable(error: unknown, url: URL): Error {
  const e = error as Error & { cause?: { code?: string; message?: string } };
  // The caller's signal decides timeouts; this keeps its reason instead of a generic one.
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return e;
  return new JudgeError('unavailable', `the judge endpoint ${url.origin} could not be reached (${e.cause?.code ?? e.cause?.message ?? e.message})`);
}
