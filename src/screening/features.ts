/**
 * Hashed features of a token stream, shared by training and inference.
 *
 * Every token position contributes up to FEATURES_PER_TOKEN hashed features
 * to the window it is in:
 *  0. the word itself (unigram);
 *  1. the pair (previous word, word) (bigram);
 *  2. the pair (word two back, word) (skip-bigram: "ignore … instructions");
 *  3. the first five letters of a long word (a cheap stem: instruct-, previou-);
 * and one *context* feature (the word, under another hash) to every window
 * whose surroundings (CONTEXT tokens either side) it is in, so the model can
 * learn that words around a passage change its meaning ("for example",
 * "payload", "attackers" around a quoted injection in a security write-up).
 *
 * Feature ids are taken modulo 2^bits; the model is linear in these features.
 */
import { fmix32 } from '../util/hash.js';
import type { Tokens } from './tokenise.js';

export const FEATURES_PER_TOKEN = 4;
const S_UNI = 0x1b873593;
const S_BI = 0x2d6a1f3c;
const S_SKIP = 0x6b43a9b5;
const S_PRE = 0x7f4a7c15;
const S_CTX = 0x3c6ef372;
const BOS = 0x5f3759df | 0;

/**
 * Feature ids of every token position into `out` (length >= n * FEATURES_PER_TOKEN)
 * and context feature ids into `ctx` (length >= n); -1 marks "none".
 */
export function tokenFeatures(t: Tokens, mask: number, out: Int32Array, ctx: Int32Array): void {
  const { n, hash, prefix } = t;
  let p1 = BOS;
  let p2 = BOS;
  for (let i = 0; i < n; i++) {
    const h = hash[i];
    const o = i * FEATURES_PER_TOKEN;
    out[o] = fmix32(h ^ S_UNI) & mask;
    out[o + 1] = fmix32(Math.imul(p1, 0x9e3779b1) ^ h ^ S_BI) & mask;
    out[o + 2] = fmix32(Math.imul(p2, 0x85ebca77) ^ h ^ S_SKIP) & mask;
    const p = prefix[i];
    out[o + 3] = p !== 0 ? fmix32(p ^ S_PRE) & mask : -1;
    ctx[i] = fmix32(h ^ S_CTX) & mask;
    p2 = p1;
    p1 = h;
  }
}

/** Per-token window contribution into `out` and context contribution into `ctxOut` (lengths >= n). */
export function tokenContributions(t: Tokens, w: Float32Array, mask: number, out: Float64Array, ctxOut: Float64Array, useCtx: boolean): void {
  const { n, hash, prefix } = t;
  let p1 = BOS;
  let p2 = BOS;
  for (let i = 0; i < n; i++) {
    const h = hash[i];
    let c = w[fmix32(h ^ S_UNI) & mask] + w[fmix32(Math.imul(p1, 0x9e3779b1) ^ h ^ S_BI) & mask] + w[fmix32(Math.imul(p2, 0x85ebca77) ^ h ^ S_SKIP) & mask];
    const p = prefix[i];
    if (p !== 0) c += w[fmix32(p ^ S_PRE) & mask];
    out[i] = c;
    ctxOut[i] = useCtx ? w[fmix32(h ^ S_CTX) & mask] : 0;
    p2 = p1;
    p1 = h;
  }
}

/**
 * Best window of `win` consecutive tokens (all tokens when there are fewer):
 * its own contributions plus the context contributions of the tokens within
 * `reach` of it (the window included). Returns the score and the token range [start, end).
 */
export function bestWindow(contrib: Float64Array, ctx: Float64Array, n: number, win: number, reach: number): { sum: number; start: number; end: number } {
  if (reach < 0) reach = 0; // context disabled: ctx is all zeros
  if (n <= win) {
    let s = 0;
    for (let i = 0; i < n; i++) s += contrib[i] + ctx[i];
    return { sum: s, start: 0, end: n };
  }
  // Window sum s over [st, st+win); context sum c over [st-reach, st+win+reach) clipped to [0, n).
  let s = 0;
  for (let i = 0; i < win; i++) s += contrib[i];
  let c = 0;
  const hi0 = Math.min(n, win + reach);
  for (let i = 0; i < hi0; i++) c += ctx[i];
  let best = s + c;
  let bi = 0;
  for (let st = 1; st + win <= n; st++) {
    s += contrib[st + win - 1] - contrib[st - 1];
    const add = st + win + reach - 1;
    if (add < n) c += ctx[add];
    const drop = st - reach - 1;
    if (drop >= 0) c -= ctx[drop];
    const v = s + c;
    if (v > best) {
      best = v;
      bi = st;
    }
  }
  return { sum: best, start: bi, end: bi + win };
}
