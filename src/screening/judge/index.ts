/**
 * The LLM judge (layer 3 of injection detection): a language model asked
 * whether one text is a prompt injection, for outputs the local detector
 * scores as borderline. It knows no policy: it answers a verdict or says why
 * it could not, and the output-screening guard decides what either means.
 * A judge never throws and never takes longer than its timeout.
 */
import type { SampleFunction } from '../../pipeline/types.js';
import { buildJudgePrompt, JudgeError, parseJudgeAnswer, type JudgeFailure, type JudgePrompt, type JudgeVerdict } from './prompt.js';

export { buildJudgePrompt, parseJudgeAnswer, JudgeError, JUDGE_VERDICTS, type JudgePrompt, type JudgeAnswer, type JudgeVerdict, type JudgeFailure } from './prompt.js';
export { openAiBackend, type OpenAiBackendOptions } from './openai.js';
export { samplingBackend } from './sampling.js';

export interface BackendCall {
  /** Aborts when the judge's time is up. */
  signal: AbortSignal;
  timeoutMs: number;
  /** The calling session's sampling, when its client offers it. */
  sample?: SampleFunction;
}

/** Where the completion comes from; returns the model's raw answer text. */
export interface JudgeBackend {
  readonly name: 'openai' | 'sampling';
  complete(prompt: JudgePrompt, call: BackendCall): Promise<string>;
}

export type JudgeOutcome =
  | { ok: true; backend: JudgeBackend['name']; verdict: JudgeVerdict; confidence: number; ms: number }
  | { ok: false; backend: JudgeBackend['name']; error: JudgeFailure; message: string; ms: number };

export type Judge = (text: string, context?: { sample?: SampleFunction }) => Promise<JudgeOutcome>;

export function createJudge(backend: JudgeBackend, options: { timeoutMs: number }): Judge {
  return async (text, context = {}) => {
    const started = performance.now();
    const ms = () => Math.round(performance.now() - started);
    // A timer of its own rather than AbortSignal.timeout: that one does not keep the process alive while a judgement is pending.
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new DOMException('the judge timed out', 'TimeoutError')), options.timeoutMs);
    const signal = timeout.signal;
    try {
      const answer = await untilAborted(backend.complete(buildJudgePrompt(text), { signal, timeoutMs: options.timeoutMs, sample: context.sample }), signal);
      return { ok: true, backend: backend.name, ...parseJudgeAnswer(answer), ms: ms() };
    } catch (error) {
      if (signal.aborted) return { ok: false, backend: backend.name, error: 'timeout', message: `the judge gave no answer within ${options.timeoutMs} ms`, ms: ms() };
      const e = error instanceof JudgeError ? error : new JudgeError('unavailable', `the judge failed (${(error as Error)?.message ?? String(error)})`);
      return { ok: false, backend: backend.name, error: e.kind, message: e.message, ms: ms() };
    } finally {
      clearTimeout(timer);
    }
  };
}

/** Settles with the work, or rejects when the signal aborts first (a backend that ignores the signal cannot hold the call). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
