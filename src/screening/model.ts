/**
 * The shipped injection classifier: a linear model over hashed token features,
 * applied to every window of `window` consecutive tokens; a text's logit is the
 * best window's (so an injection buried in a long benign document is found).
 *
 * The weights are int8-quantised and base64-encoded inside a generated
 * TypeScript module (model/detector-model.ts), so the model is compiled into
 * dist/ with the rest of the code: nothing to locate on disk at run time and
 * nothing to download.
 */
import { bestWindow, tokenContributions } from './features.js';
import type { Tokens } from './tokenise.js';

export type TextKind = 'tool_output' | 'tool_description';

export interface ModelFile {
  readonly format: 'portcullis-injection-lr/1';
  /** log2 of the number of hashed feature buckets. */
  readonly bits: number;
  /** Window length in tokens. */
  readonly window: number;
  /** Context reach in tokens on each side of a window; -1 disables context features. */
  readonly context: number;
  readonly bias: number;
  readonly kindBias: Readonly<Record<TextKind, number>>;
  /** Flag threshold per kind, in logit units (score = sigmoid(logit - threshold)). */
  readonly thresholds: Readonly<Record<TextKind, number>>;
  /** Dequantisation: weight = int8 * scale. */
  readonly scale: number;
  /** base64 of 2^bits signed bytes. */
  readonly weights: string;
  readonly meta: Readonly<Record<string, unknown>>;
}

export interface WindowScore {
  /** Raw logit of the best window (bias included), before any threshold. */
  logit: number;
  /** Token range of the best window. */
  start: number;
  end: number;
}

export class InjectionModel {
  readonly w: Float32Array;
  readonly mask: number;
  readonly window: number;
  private contrib = new Float64Array(1024);
  private ctx = new Float64Array(1024);

  constructor(readonly file: ModelFile) {
    if (file.format !== 'portcullis-injection-lr/1') throw new Error(`unknown model format ${String(file.format)}`);
    const bytes = Buffer.from(file.weights, 'base64');
    const size = 1 << file.bits;
    if (bytes.length !== size) throw new Error(`model weights: expected ${size} bytes, got ${bytes.length}`);
    const q = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length);
    this.w = new Float32Array(size);
    for (let i = 0; i < size; i++) this.w[i] = q[i] * file.scale;
    this.mask = size - 1;
    this.window = file.window;
  }

  /** Best-window logit of an already tokenised text. */
  scoreTokens(t: Tokens, kind: TextKind): WindowScore {
    const base = this.file.bias + this.file.kindBias[kind];
    if (t.n === 0) return { logit: base, start: 0, end: 0 };
    if (this.contrib.length < t.n) {
      this.contrib = new Float64Array(Math.max(t.n, this.contrib.length * 2));
      this.ctx = new Float64Array(this.contrib.length);
    }
    tokenContributions(t, this.w, this.mask, this.contrib, this.ctx, this.file.context >= 0);
    const b = bestWindow(this.contrib, this.ctx, t.n, this.window, this.file.context);
    return { logit: base + b.sum, start: b.start, end: b.end };
  }

  threshold(kind: TextKind): number {
    return this.file.thresholds[kind];
  }
}
