/**
 * Deterministic training of the window-max linear model (multiple-instance
 * logistic regression).
 *
 * A text is a bag of token windows; its logit is the best window's. Training
 * follows that exactly: for each example the current best window is found and
 * a logistic-loss gradient step is taken on that window's features (AdaGrad,
 * L2). For a positive whose injected span is known (generated data, or a dev
 * positive with a clean twin) the window is chosen among those covering the
 * span, so the model learns from the injection and not from the benign text
 * around it; for a negative the highest-scoring window is pushed down, which is
 * what keeps false positives low on long benign documents.
 *
 * Same inputs, same order, same seed: same weights, byte for byte.
 */
import { FEATURES_PER_TOKEN, tokenFeatures } from '../features.js';
import { fmix32 } from '../../util/hash.js';
import { tokenise } from '../tokenise.js';
import { decodeBase64Runs } from '../decode.js';
import { Rng } from './rng.js';

export interface TrainExample {
  text: string;
  label: 0 | 1;
  kind: 'tool_output' | 'tool_description';
  /** Relative loss weight. */
  weight: number;
  /** Character span of the injection inside `text`, when known. */
  span?: [number, number];
  /** Free-form tags for reporting (group, family, source). */
  tag: string;
}

export interface Prepared {
  feats: Int32Array;
  /** Context feature per token. */
  ctx: Int32Array;
  /** Token count per segment (the text, then each decoded payload). */
  segs: number[];
  label: 0 | 1;
  kind: 0 | 1;
  weight: number;
  /** Token span of the injection in segment 0, when known. */
  tokSpan?: [number, number];
}

export function prepare(ex: TrainExample, mask: number): Prepared {
  const views = [ex.text];
  const parts: Int32Array[] = [];
  const cparts: Int32Array[] = [];
  const segs: number[] = [];
  let tokSpan: [number, number] | undefined;
  for (let v = 0; v < views.length; v++) {
    const t = tokenise(views[v]);
    if (v === 0) {
      if (ex.span) {
        const [a, b] = ex.span;
        let i0 = -1;
        let i1 = -1;
        for (let i = 0; i < t.n; i++) {
          if (t.end[i] > a && t.start[i] < b) {
            if (i0 < 0) i0 = i;
            i1 = i + 1;
          }
        }
        if (i0 >= 0) tokSpan = [i0, i1];
      }
      if (t.b64.length) for (const d of decodeBase64Runs(views[0], t.b64)) views.push(d);
    }
    const f = new Int32Array(t.n * FEATURES_PER_TOKEN);
    const c = new Int32Array(t.n);
    tokenFeatures(t, mask, f, c);
    parts.push(f);
    cparts.push(c);
    segs.push(t.n);
  }
  let total = 0;
  for (const p of parts) total += p.length;
  const feats = new Int32Array(total);
  let o = 0;
  for (const p of parts) {
    feats.set(p, o);
    o += p.length;
  }
  const ctx = new Int32Array(total / FEATURES_PER_TOKEN);
  o = 0;
  for (const c of cparts) {
    ctx.set(c, o);
    o += c.length;
  }
  return { feats, ctx, segs, label: ex.label, kind: ex.kind === 'tool_description' ? 1 : 0, weight: ex.weight, tokSpan };
}

export interface TrainOptions {
  bits: number;
  window: number;
  epochs: number;
  lr: number;
  l2: number;
  seed: number;
  /** Minimum share of the injected span (or of the window) a positive's chosen window must cover. */
  spanCover: number;
  /** Feature dropout rate during training (deterministic, hash-based). */
  dropout: number;
  /** Context reach (tokens each side of a window); -1 disables context features. */
  context: number;
}

export interface TrainedWeights {
  w: Float64Array;
  bias: number;
  kindBias: [number, number];
}

/** Best window of one example under weights w; returns [sum, tokenStart, tokenEnd, segmentOffsetTokens]. */
/** Whether feature slot (i) of an example is dropped in this epoch. */
function dropped(salt: number, i: number, cut: number): boolean {
  return cut > 0 && (fmix32(Math.imul(i, 0x9e3779b1) ^ salt) & 1023) < cut;
}

function chooseWindow(p: Prepared, w: Float64Array, win: number, contrib: Float64Array, cctx: Float64Array, useSpan: boolean, spanCover: number, salt: number, cut: number, keepScale: number, ctxReach: number): [number, number, number, number, number] {
  const K = FEATURES_PER_TOKEN;
  const f = p.feats;
  const nTok = f.length / K;
  for (let i = 0; i < nTok; i++) {
    let c = 0;
    const o = i * K;
    for (let j = 0; j < K; j++) {
      const x = f[o + j];
      if (x >= 0 && !dropped(salt, o + j, cut)) c += w[x];
    }
    contrib[i] = c * keepScale;
    cctx[i] = ctxReach >= 0 ? w[p.ctx[i]] : 0;
  }
  let bestSum = -Infinity;
  let bs = 0;
  let be = 0;
  let cs = 0;
  let ce = 0;
  let off = 0;
  const R = Math.max(0, ctxReach);
  for (let sg = 0; sg < p.segs.length; sg++) {
    const n = p.segs[sg];
    if (useSpan && sg > 0) break;
    if (n === 0) continue;
    if (n <= win) {
      let sum = 0;
      for (let i = off; i < off + n; i++) sum += contrib[i] + cctx[i];
      if (sum > bestSum) {
        bestSum = sum;
        bs = off;
        be = off + n;
        cs = off;
        ce = off + n;
      }
    } else {
      const [a, b] = p.tokSpan ?? [0, 0];
      const need = Math.ceil(Math.min(b - a, win) * spanCover);
      let s = 0;
      for (let i = 0; i < win; i++) s += contrib[off + i];
      let c = 0;
      const hi0 = Math.min(n, win + R);
      for (let i = 0; i < hi0; i++) c += cctx[off + i];
      for (let st = 0; st + win <= n; st++) {
        if (st > 0) {
          s += contrib[off + st + win - 1] - contrib[off + st - 1];
          const add = st + win + R - 1;
          if (add < n) c += cctx[off + add];
          const drop = st - R - 1;
          if (drop >= 0) c -= cctx[off + drop];
        }
        if (useSpan) {
          const ov = Math.min(st + win, b) - Math.max(st, a);
          if (ov < need) continue;
        }
        if (s + c > bestSum) {
          bestSum = s + c;
          bs = off + st;
          be = off + st + win;
          cs = off + Math.max(0, st - R);
          ce = off + Math.min(n, st + win + R);
        }
      }
    }
    off += n;
  }
  if (bestSum === -Infinity) return [0, 0, 0, 0, 0];
  return [bestSum, bs, be, cs, ce];
}

export function train(data: Prepared[], opt: TrainOptions, log: (s: string) => void = () => {}): TrainedWeights {
  const D = 1 << opt.bits;
  const w = new Float64Array(D);
  const G = new Float64Array(D);
  let bias = 0;
  let gb = 0;
  const kb: [number, number] = [0, 0];
  const gk = [0, 0];
  const rng = new Rng(opt.seed);
  const K = FEATURES_PER_TOKEN;
  let maxTok = 0;
  for (const p of data) maxTok = Math.max(maxTok, p.feats.length / K);
  const contrib = new Float64Array(maxTok + 1);
  const cctx = new Float64Array(maxTok + 1);
  const order = data.map((_, i) => i);
  const eps = 1e-6;
  const cut = Math.round(opt.dropout * 1024);
  const keepScale = 1 / (1 - cut / 1024);
  for (let ep = 0; ep < opt.epochs; ep++) {
    rng.shuffle(order);
    let loss = 0;
    let wsum = 0;
    for (const idx of order) {
      const p = data[idx];
      const useSpan = p.label === 1 && p.tokSpan !== undefined;
      const salt = Math.imul(ep + 1, 0x27d4eb2d) ^ Math.imul(idx + 1, 0x165667b1);
      const [sum, s, e, cs, ce] = chooseWindow(p, w, opt.window, contrib, cctx, useSpan, opt.spanCover, salt, cut, keepScale, opt.context);
      const z = bias + kb[p.kind] + sum;
      const pr = 1 / (1 + Math.exp(-z));
      const y = p.label;
      loss += p.weight * (y ? -Math.log(pr + 1e-12) : -Math.log(1 - pr + 1e-12));
      wsum += p.weight;
      const g = (pr - y) * p.weight;
      if (Math.abs(g) < 1e-4) continue;
      // Features of the chosen window.
      const f = p.feats;
      for (let i = s; i < e; i++) {
        const o = i * K;
        for (let j = 0; j < K; j++) {
          const x = f[o + j];
          if (x < 0 || dropped(salt, o + j, cut)) continue;
          const gr = g * keepScale + opt.l2 * w[x];
          G[x] += gr * gr;
          w[x] -= (opt.lr * gr) / (Math.sqrt(G[x]) + eps);
        }
      }
      const cx = p.ctx;
      for (let i = cs; i < (opt.context >= 0 ? ce : cs); i++) {
        const x = cx[i];
        const gr = g + opt.l2 * w[x];
        G[x] += gr * gr;
        w[x] -= (opt.lr * gr) / (Math.sqrt(G[x]) + eps);
      }
      gb += g * g;
      bias -= (opt.lr * g) / (Math.sqrt(gb) + eps);
      gk[p.kind] += g * g;
      kb[p.kind] -= (opt.lr * g) / (Math.sqrt(gk[p.kind]) + eps);
    }
    log(`epoch ${ep + 1}/${opt.epochs}: loss ${(loss / wsum).toFixed(4)}`);
  }
  return { w, bias, kindBias: kb };
}

/** Symmetric int8 quantisation; returns bytes and scale. Weights beyond the 99.99th percentile are clipped. */
export function quantise(w: Float64Array): { q: Int8Array; scale: number } {
  const abs = Array.from(w, Math.abs).filter((x) => x > 0).sort((a, b) => a - b);
  const cap = abs.length ? abs[Math.min(abs.length - 1, Math.floor(abs.length * 0.9999))] : 1;
  const scale = cap / 127;
  const q = new Int8Array(w.length);
  for (let i = 0; i < w.length; i++) q[i] = Math.max(-127, Math.min(127, Math.round(w[i] / scale)));
  return { q, scale: Number(scale.toPrecision(8)) };
}
