/**
 * Train the prompt-injection classifier and write src/screening/model/detector-model.ts.
 *
 *   npm run train:detector            (builds, trains, writes the model module)
 *   node dist/scripts/train-detector.js [--check]
 *
 * Deterministic: the same dev.jsonl, the same node_modules (package-lock.json)
 * and the same code give the same file, byte for byte. `--check` trains and
 * compares with the committed model instead of writing it (exit 1 if different).
 *
 * Data (see docs/detection.md):
 *  - dev.jsonl, split by groups (twins, slots, attack strings, tools) into
 *    70% train / 30% test; the test part is never used here;
 *  - generated data (src/screening/train/synth.ts) from the "train" fifth of
 *    every phrase list, with documentation chunks from node_modules;
 *  - threshold calibration on out-of-fold dev-train negatives and on generated
 *    negatives from the held-back 'calib' phrasings.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InjectionDetector } from '../src/screening/detector.js';
import type { ModelFile, TextKind } from '../src/screening/model.js';
import { splitDev } from '../src/screening/train/devdata.js';
import { DEFAULT_CONFIG, assemble, devExamples, fit, renderModule, sha256, weighExamples } from '../src/screening/train/pipeline.js';
import { synthesise } from '../src/screening/train/synth.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..'); // dist/scripts -> repo root
const modelPath = join(root, 'src', 'screening', 'model', 'detector-model.ts');
const check = process.argv.includes('--check');
const quiet = process.argv.includes('--quiet');
const log = (s: string) => {
  if (!quiet) process.stderr.write(`${s}\n`);
};

const t0 = Date.now();
const cfg = DEFAULT_CONFIG;
const A = assemble(cfg, root);
log(`dev: ${A.dev.length} rows (${A.devPath}); train ${A.devTrain.length}, test ${A.devTest.length} (held out, not used)`);
log(`corpus: ${A.corpus.docs.length} doc chunks, ${A.corpus.messages.length} messages from ${A.corpus.files} files (digest ${A.corpus.digest})`);

// Calibration data, never trained on by the model it calibrates:
//  - out-of-fold dev negatives: dev-train is split in two halves by group; a model
//    fitted on one half (plus the generated data) scores the other half;
//  - generated negatives from the 'calib' fifth of every phrase list (phrasings
//    the model never saw) and unseen documentation chunks.
const halves = splitDev(A.devTrain, 0.5);
const oof: { text: string; kind: TextKind; logit: number }[] = [];
for (const [fitRows, scoreRows] of [
  [halves.train, halves.test],
  [halves.test, halves.train],
] as const) {
  const m = new InjectionDetector(fit(weighExamples([...A.synthTrain, ...devExamples(fitRows, cfg.devWeight)], cfg), cfg));
  for (const r of scoreRows) if (r.label === 0) oof.push({ text: r.text, kind: r.kind, logit: m.logit(r.text, r.kind) });
}
log(`out-of-fold dev negatives: ${oof.length}`);
const calibSynth = synthesise({
  seed: cfg.seed + 4242,
  pool: 'calib',
  hostPairs: 500,
  hardNegatives: 1500,
  securityDocs: 300,
  toolDescriptions: 600,
  longDocs: 300,
  corpusDocs: A.calibDocs,
  corpusMessages: A.calibMessages,
}).filter((e) => e.label === 0);

const examples = weighExamples([...A.synthTrain, ...devExamples(A.devTrain, cfg.devWeight)], cfg);
log(`training examples: ${examples.length} (${examples.filter((e) => e.label === 1).length} positive)`);
const file = fit(examples, cfg, log);
const det = new InjectionDetector(file);

// Threshold per kind: the false-positive rate may not exceed targetFpr on either calibration set.
const thresholds: Record<TextKind, number> = { tool_output: 0, tool_description: 0 };
const calibInfo: Record<string, unknown> = {};
for (const kind of ['tool_output', 'tool_description'] as const) {
  const sets: Record<string, number[]> = {
    devOutOfFold: oof.filter((o) => o.kind === kind).map((o) => o.logit),
    // Security write-ups that quote payloads are left out of the threshold choice and reported by the
    // evaluation instead: calibrating on them would trade most of the recall away (docs/detection.md).
    generated: calibSynth.filter((e) => e.kind === kind && e.tag !== 'neg:security_doc').map((e) => det.logit(e.text, kind)),
  };
  let thr = -Infinity;
  for (const [name, scores] of Object.entries(sets)) {
    if (!scores.length) continue;
    const sorted = scores.slice().sort((x, y) => y - x);
    const allowed = Math.floor((name === 'generated' ? cfg.targetFpr : cfg.targetFprDev) * sorted.length);
    const v = sorted[Math.min(allowed, sorted.length - 1)] + 1e-3;
    calibInfo[`${kind}/${name}`] = { negatives: sorted.length, threshold: round4(v) };
    thr = Math.max(thr, v);
  }
  thresholds[kind] = round4(thr);
}
log(`thresholds (logit): ${JSON.stringify(thresholds)}`);

const devText = readFileSync(A.devPath);
const out: ModelFile = {
  ...file,
  thresholds,
  meta: {
    trainer: 'scripts/train-detector.ts',
    config: { ...cfg },
    devSha256: sha256(devText),
    corpusDigest: A.corpus.digest,
    corpusFiles: A.corpus.files,
    examples: examples.length,
    positives: examples.filter((e) => e.label === 1).length,
    devTrain: A.devTrain.length,
    devOutOfFoldNegatives: oof.length,
    generatedCalibrationNegatives: calibSynth.length,
    devTestHeldOut: A.devTest.length,
    calibration: calibInfo,
  },
};
const text = renderModule(out);
if (check) {
  const cur = readFileSync(modelPath, 'utf8');
  if (cur === text) {
    log(`model is up to date (${(Date.now() - t0) / 1000}s)`);
  } else {
    log('model differs from the committed one');
    process.exitCode = 1;
  }
} else {
  writeFileSync(modelPath, text);
  log(`wrote ${modelPath} (${(text.length / 1024).toFixed(0)} KB, sha256 ${sha256(text).slice(0, 16)}) in ${(Date.now() - t0) / 1000}s; rebuild (npm run build) to use it`);
}

function round4(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
