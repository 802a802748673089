/**
 * Evaluate the shipped detector (rules + classifier, exactly as deployed) on the
 * held-out 30% of the dev set, which training never sees, and separately on a
 * generated test set built from held-back phrasings and documents.
 *
 *   npm run eval:detector            (builds, then evaluates)
 *   node dist/scripts/eval-detector.js [--json] [--no-bench] [--no-synth]
 *
 * Prints AUROC, TPR at 1% and 5% FPR (ROC points, threshold-free), the shipped
 * threshold with TPR/FPR at it, FPR per negative group, TPR per positive
 * family/template, and a speed benchmark.
 */
import { performance } from 'node:perf_hooks';
import { cpus, loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultDetector, type TextKind } from '../src/screening/detector.js';
import { MODEL } from '../src/screening/model/detector-model.js';
import { DEFAULT_CONFIG, assemble } from '../src/screening/train/pipeline.js';
import { auroc, pct, tprAtFpr } from '../src/screening/train/metrics.js';
import { sanitiseText } from '../src/screening/sanitise.js';
import { findSecrets } from '../src/screening/secrets.js';
import { DOC_PARAGRAPHS, EMAIL_SENTENCES } from '../src/screening/train/lexicon.js';

const args = new Set(process.argv.slice(2));
const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const det = defaultDetector();

interface Row {
  text: string;
  label: 0 | 1;
  kind: TextKind;
  bucket: string;
}

interface Report {
  n: number;
  positives: number;
  negatives: number;
  auroc: number;
  tprAt1: number;
  tprAt5: number;
  threshold: Record<TextKind, number>;
  atThreshold: { tpr: number; fpr: number };
  buckets: Record<string, { n: number; flagged: number; rate: number }>;
}

function evaluate(rows: Row[]): Report {
  const scores: number[] = [];
  const flagged: boolean[] = [];
  for (const r of rows) {
    const d = det.detect(r.text, { kind: r.kind });
    // Score relative to the kind's threshold so both kinds rank on one scale.
    scores.push(det.logit(r.text, r.kind) - MODEL.thresholds[r.kind]);
    flagged.push(d.flagged);
  }
  const labels = rows.map((r) => r.label);
  const pos = rows.filter((r) => r.label === 1).length;
  const neg = rows.length - pos;
  const tp = rows.filter((r, i) => r.label === 1 && flagged[i]).length;
  const fp = rows.filter((r, i) => r.label === 0 && flagged[i]).length;
  const buckets: Report['buckets'] = {};
  rows.forEach((r, i) => {
    const b = (buckets[r.bucket] ??= { n: 0, flagged: 0, rate: 0 });
    b.n++;
    if (flagged[i]) b.flagged++;
  });
  for (const b of Object.values(buckets)) b.rate = b.flagged / b.n;
  return {
    n: rows.length,
    positives: pos,
    negatives: neg,
    auroc: auroc(scores, labels),
    tprAt1: tprAtFpr(scores, labels, 0.01).tpr,
    tprAt5: tprAtFpr(scores, labels, 0.05).tpr,
    threshold: { ...MODEL.thresholds },
    atThreshold: { tpr: tp / pos, fpr: fp / neg },
    buckets,
  };
}

function print(title: string, r: Report): void {
  console.log(`\n== ${title}`);
  console.log(`texts ${r.n} (${r.positives} injections, ${r.negatives} benign)`);
  console.log(`AUROC            ${r.auroc.toFixed(4)}`);
  console.log(`TPR @ 1% FPR     ${pct(r.tprAt1)}`);
  console.log(`TPR @ 5% FPR     ${pct(r.tprAt5)}`);
  console.log(`shipped threshold: logit ${r.threshold.tool_output} (tool_output), ${r.threshold.tool_description} (tool_description); score 0.5`);
  console.log(`at the shipped threshold: TPR ${pct(r.atThreshold.tpr)}, FPR ${pct(r.atThreshold.fpr)}`);
  const keys = Object.keys(r.buckets).sort();
  console.log('FPR per negative group:');
  for (const k of keys.filter((k) => k.startsWith('neg '))) {
    const b = r.buckets[k];
    console.log(`  ${k.slice(4).padEnd(34)} ${pct(b.rate).padStart(7)}  (${b.flagged}/${b.n})`);
  }
  console.log('TPR per positive family / template:');
  for (const k of keys.filter((k) => k.startsWith('pos '))) {
    const b = r.buckets[k];
    console.log(`  ${k.slice(4).padEnd(34)} ${pct(b.rate).padStart(7)}  (${b.flagged}/${b.n})`);
  }
}

const A = assemble(DEFAULT_CONFIG, root);
const devRows: Row[] = A.devTest.map((r) => ({
  text: r.text,
  label: r.label,
  kind: r.kind,
  bucket: r.label === 1 ? `pos ${r.group}/${r.template ?? '-'}` : `neg ${r.group}`,
}));
const devReport = evaluate(devRows);
const out: Record<string, unknown> = { dev: devReport };
if (!args.has('--json')) {
  console.log(`Held-out dev part: ${A.devTest.length} of ${A.dev.length} rows of ${A.devPath}`);
  console.log('(grouped split: twins, slots, attack strings and tools never cross it; never used in training or calibration)');
  print('HELD-OUT DEV (real data)', devReport);
}
if (!args.has('--no-synth')) {
  const synthRows: Row[] = A.synthTest.map((e) => {
    const parts = e.tag.split(':');
    return { text: e.text, label: e.label, kind: e.kind, bucket: e.label === 1 ? `pos ${parts[1]}${parts[2] && parts[2] !== 'none' ? `/${parts[2]}` : ''}` : `neg ${parts.slice(1, 2).join(':')}` };
  });
  const synthReport = evaluate(synthRows);
  out.generated = synthReport;
  if (!args.has('--json')) print('GENERATED TEST SET (synthetic; held-back phrasings and documents, never trained on)', synthReport);
}

if (!args.has('--no-bench')) {
  const bench = benchmark();
  out.speed = bench;
  if (!args.has('--json')) {
    console.log('\n== SPEED (one core)');
    console.log(`(load average ${bench.loadavg.toFixed(1)} on ${cpus().length} cores while measuring; best of 5 runs)`);
    console.log(`detector, plain text:     ${bench.detectMBps.toFixed(1)} MB/s`);
    console.log(`detector, Markdown docs:  ${bench.detectMdMBps.toFixed(1)} MB/s`);
    console.log(`detector, 10 KB output:   p50 ${bench.p50ms.toFixed(3)} ms, p99 ${bench.p99ms.toFixed(3)} ms`);
    console.log(`sanitiser, plain text:    ${bench.sanitiseMBps.toFixed(1)} MB/s`);
    console.log(`secret scan, plain text:  ${bench.secretsMBps.toFixed(1)} MB/s`);
    console.log(`model: ${(MODEL.weights.length / 1024).toFixed(0)} KB base64 in the module, ${(((1 << MODEL.bits) * 4) / 1048576).toFixed(2)} MB of float32 weights in memory`);
  }
}
if (args.has('--json')) console.log(JSON.stringify(out, null, 2));

function benchmark() {
  // Plain English prose (e-mail and document sentences), 4 MB; and Markdown documentation (the corpus chunks), 4 MB.
  let prose = '';
  for (let i = 0; prose.length < 4_000_000; i++) prose += `${DOC_PARAGRAPHS[i % DOC_PARAGRAPHS.length]} ${EMAIL_SENTENCES[(i * 7) % EMAIL_SENTENCES.length].replace(/\{\w+\}/g, 'x')}\n`;
  let md = '';
  while (md.length < 4_000_000) md += A.corpus.docs.join('\n\n') + '\n\n';
  md = md.slice(0, 4_000_000);
  const best = (fn: () => void, reps = 5) => {
    fn();
    let b = Infinity;
    for (let k = 0; k < reps; k++) {
      const t = performance.now();
      fn();
      b = Math.min(b, performance.now() - t);
    }
    return b;
  };
  const mbps = (s: string, fn: (x: string) => unknown) => Buffer.byteLength(s) / 1e6 / (best(() => fn(s)) / 1000);
  const detectMBps = mbps(prose, (x) => det.detect(x));
  const detectMdMBps = mbps(md, (x) => det.detect(x));
  const sanitiseMBps = mbps(prose, (x) => sanitiseText(x));
  const secretsMBps = mbps(prose, (x) => findSecrets(x));
  const ten: string[] = [];
  for (let i = 0; i < 200; i++) {
    const off = (i * 9973) % (prose.length - 10_240);
    ten.push(prose.slice(off, off + 10_240));
  }
  for (const t of ten) det.detect(t);
  const times: number[] = [];
  for (let k = 0; k < 5; k++) {
    for (const t of ten) {
      const s = performance.now();
      det.detect(t);
      times.push(performance.now() - s);
    }
  }
  times.sort((a, b) => a - b);
  return { detectMBps, detectMdMBps, sanitiseMBps, secretsMBps, p50ms: times[Math.floor(times.length / 2)], p99ms: times[Math.floor(times.length * 0.99)], loadavg: loadavg()[0] };
}
