/**
 * The training pipeline shared by scripts/train-detector.ts and
 * scripts/eval-detector.ts: data assembly, fitting, calibration, rendering of
 * the model module.
 */
import { createHash } from 'node:crypto';
import { InjectionDetector } from '../detector.js';
import type { ModelFile, TextKind } from '../model.js';
import { loadCorpus, type Corpus } from './corpus.js';
import { diffSpan, loadDev, resolveDevData, splitDev, type DevRow } from './devdata.js';
import { Rng } from './rng.js';
import { synthesise } from './synth.js';
import { prepare, quantise, train, type Prepared, type TrainExample } from './trainer.js';

export interface PipelineConfig {
  seed: number;
  bits: number;
  window: number;
  epochs: number;
  lr: number;
  l2: number;
  spanCover: number;
  dropout: number;
  context: number;
  /** Loss weight of a dev example relative to a generated one. */
  devWeight: number;
  /** Loss weight of negatives relative to positives. */
  negWeight: number;
  testShare: number;
  /** Target false-positive rate for the shipped threshold, on generated calibration negatives. */
  targetFpr: number;
  /** The same on out-of-fold dev negatives (few, so a rate of 1/n is the finest step). */
  targetFprDev: number;
  synth: { hostPairs: number; hardNegatives: number; securityDocs: number; toolDescriptions: number; longDocs: number };
  synthTest: { hostPairs: number; hardNegatives: number; securityDocs: number; toolDescriptions: number; longDocs: number };
}

export const DEFAULT_CONFIG: PipelineConfig = {
  seed: 20240917,
  bits: 17,
  window: 24,
  epochs: 10,
  lr: 0.08,
  l2: 1e-4,
  spanCover: 0.6,
  dropout: 0,
  context: 24,
  devWeight: 8,
  negWeight: 1,
  testShare: 0.3,
  targetFpr: 0.01,
  targetFprDev: 0.01,
  synth: { hostPairs: 6000, hardNegatives: 5000, securityDocs: 1500, toolDescriptions: 1000, longDocs: 1000 },
  synthTest: { hostPairs: 600, hardNegatives: 500, securityDocs: 150, toolDescriptions: 200, longDocs: 200 },
};

/** Dev rows as training examples; the injected span comes from the clean twin when it is on the same side. */
export function devExamples(rows: DevRow[], weight: number): TrainExample[] {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const negDescs = rows.filter((r) => r.label === 0 && r.kind === 'tool_description');
  return rows.map((r) => {
    let span: [number, number] | undefined;
    if (r.label === 1) {
      const twin = typeof r.meta?.twin === 'string' ? byId.get(r.meta.twin) : undefined;
      if (twin) span = diffSpan(r.text, twin.text);
      else if (r.kind === 'tool_description') {
        const base = negDescs.find((d) => r.text.startsWith(d.text) && d.text.length > 10);
        if (base) span = [base.text.length, r.text.length];
      }
    }
    return { text: r.text, label: r.label, kind: r.kind, weight, span, tag: `dev:${r.group}` };
  });
}

export interface Assembled {
  dev: DevRow[];
  devTrain: DevRow[];
  devTest: DevRow[];
  corpus: Corpus;
  synthTrain: TrainExample[];
  synthTest: TrainExample[];
  /** Documentation chunks held back for calibration. */
  calibDocs: string[];
  calibMessages: string[];
  devPath: string;
}

export function assemble(cfg: PipelineConfig, root: string): Assembled {
  const devPath = resolveDevData();
  const dev = loadDev(devPath);
  const { train: devTrain, test: devTest } = splitDev(dev, cfg.testShare);
  const corpus = loadCorpus(root);
  // Corpus chunks are split too, so the generated test set uses documents never trained on.
  const cr = new Rng(cfg.seed ^ 0x5a5a5a5a);
  const idx = cr.shuffle(corpus.docs.map((_, i) => i));
  const cut = Math.floor(idx.length * 0.7);
  const cut2 = Math.floor(idx.length * 0.85);
  const trainDocs = idx.slice(0, cut).sort((a, b) => a - b).map((i) => corpus.docs[i]);
  const calibDocs = idx.slice(cut, cut2).sort((a, b) => a - b).map((i) => corpus.docs[i]);
  const testDocs = idx.slice(cut2).sort((a, b) => a - b).map((i) => corpus.docs[i]);
  const midx = cr.shuffle(corpus.messages.map((_, i) => i));
  const mcut = Math.floor(midx.length * 0.7);
  const trainMsgs = midx.slice(0, mcut).sort((a, b) => a - b).map((i) => corpus.messages[i]);
  const calibMessages = midx.slice(mcut, Math.floor(midx.length * 0.85)).sort((a, b) => a - b).map((i) => corpus.messages[i]);
  const testMsgs = midx.slice(Math.floor(midx.length * 0.85)).sort((a, b) => a - b).map((i) => corpus.messages[i]);
  const synthTrain = synthesise({ seed: cfg.seed, pool: 'train', ...cfg.synth, corpusDocs: trainDocs, corpusMessages: trainMsgs });
  const synthTest = synthesise({ seed: 0x51ed7e57, pool: 'test', ...cfg.synthTest, corpusDocs: testDocs, corpusMessages: testMsgs });
  return { dev, devTrain, devTest, corpus, synthTrain, synthTest, calibDocs, calibMessages, devPath };
}

export function weighExamples(ex: TrainExample[], cfg: PipelineConfig): TrainExample[] {
  return ex.map((e) => (e.label === 0 ? { ...e, weight: e.weight * cfg.negWeight } : e));
}

export function fit(examples: TrainExample[], cfg: PipelineConfig, log: (s: string) => void = () => {}): ModelFile {
  const mask = (1 << cfg.bits) - 1;
  const prepared: Prepared[] = examples.map((e) => prepare(e, mask));
  const tw = train(prepared, { bits: cfg.bits, window: cfg.window, epochs: cfg.epochs, lr: cfg.lr, l2: cfg.l2, seed: cfg.seed, spanCover: cfg.spanCover, dropout: cfg.dropout, context: cfg.context }, log);
  const { q, scale } = quantise(tw.w);
  return {
    format: 'portcullis-injection-lr/1',
    bits: cfg.bits,
    window: cfg.window,
    context: cfg.context,
    bias: round6(tw.bias),
    kindBias: { tool_output: round6(tw.kindBias[0]), tool_description: round6(tw.kindBias[1]) },
    thresholds: { tool_output: 0, tool_description: 0 },
    scale,
    weights: Buffer.from(q.buffer, q.byteOffset, q.length).toString('base64'),
    meta: {},
  };
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/**
 * Threshold (logit) per kind: the lowest value that keeps the false-positive
 * rate on the calibration negatives at or under `targetFpr`, but never below
 * the highest-scoring dev calibration negative when that would allow more than
 * one dev false positive in 200.
 */
export function calibrate(det: InjectionDetector, negatives: { text: string; kind: TextKind }[], targetFpr: number): Record<TextKind, number> {
  const out: Record<TextKind, number> = { tool_output: 0, tool_description: 0 };
  for (const kind of ['tool_output', 'tool_description'] as const) {
    const s = negatives.filter((n) => n.kind === kind).map((n) => det.logit(n.text, kind)).sort((a, b) => b - a);
    if (!s.length) continue;
    const allowed = Math.floor(targetFpr * s.length);
    const v = s[Math.min(allowed, s.length - 1)];
    out[kind] = Math.round((v + 1e-3) * 1e4) / 1e4;
  }
  return out;
}

export function renderModule(file: ModelFile): string {
  const { weights, ...rest } = file;
  const json = JSON.stringify(rest, null, 2);
  const body = json.slice(0, json.lastIndexOf('}')).trimEnd();
  // The base64 is cut into 8 KB string pieces so editors and diffs stay usable.
  const pieces: string[] = [];
  for (let i = 0; i < weights.length; i += 8192) pieces.push(`    '${weights.slice(i, i + 8192)}'`);
  return [
    '// Generated by scripts/train-detector.ts (npm run train:detector). Do not edit by hand.',
    '// int8 weights, base64-encoded; docs/detection.md describes the model and its training.',
    "import type { ModelFile } from '../model.js';",
    '',
    `export const MODEL: ModelFile = ${body},`,
    '  "weights":',
    `${pieces.join(' +\n')},`,
    '};',
    '',
  ].join('\n');
}

export function sha256(s: string | Buffer): string {
  return createHash('sha256').update(s).digest('hex');
}
