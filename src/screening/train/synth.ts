/**
 * Assembles the generated training (and generated test) data:
 *
 *  positives  - an injection (attacks.ts) placed in a host document (hosts.ts),
 *               in a long real-world document (corpus.ts), or appended to a
 *               tool description (tool poisoning);
 *  negatives  - the exact clean twin of every positive; the same hosts with a
 *               hard-negative sentence in the slot (benign text with trigger
 *               words, instructions addressed to humans, listed or composed
 *               by human.ts, foreign languages);
 *               security writing that quotes injections (templates, or
 *               composed by writeups.ts); benign tool
 *               descriptions; real documentation chunks.
 *
 * `pool: 'test'` draws from the held-back fifth of every phrase list and host
 * mix, with another seed, to give a generated test set of unseen phrasings.
 */
import { CLASSIC_OVERRIDES, GOALS, RESPONSE_GOALS, makeInjection, part, type Pool } from './attacks.js';
import { HOSTS, HOST_NAMES } from './hosts.js';
import { composeHumanInstruction } from './human.js';
import { composeWriteup } from './writeups.js';
import {
  FILLER, HUMAN_INSTRUCTIONS, MULTILINGUAL_BENIGN, SECURITY_DOC_TEMPLATES, TOOL_DESCRIPTIONS, TRIGGER_BENIGN, fill,
} from './lexicon.js';
import { Rng } from './rng.js';
import { diffSpan } from './devdata.js';
import type { TrainExample } from './trainer.js';

export interface SynthOptions {
  seed: number;
  pool: Pool;
  /** Number of positive documents in host shapes (each also yields its clean twin). */
  hostPairs: number;
  /** Hard-negative host documents. */
  hardNegatives: number;
  securityDocs: number;
  toolDescriptions: number;
  /** Long documents built from corpus chunks (half injected, with twins). */
  longDocs: number;
  corpusDocs: string[];
  corpusMessages: string[];
}

/** Benign user-style requests (they look like instructions but are data in a search result or ticket). */
export const BENIGN_REQUESTS = [
  'Write a short poem about autumn leaves.',
  'Explain how a refrigerator keeps food cold.',
  'Could you summarise the main causes of the French Revolution?',
  'Describe a day in the life of a lighthouse keeper.',
  'What are some tips for improving sleep quality?',
  'Create a packing list for a week-long hiking trip.',
  'How do I convert a string to an integer in Java?',
  'Give me three ideas for a birthday party theme.',
  'Write a friendly reminder email about the team lunch.',
  'Explain the difference between weather and climate.',
  'Please list the planets in order from the sun.',
  'Suggest a name for a small bakery that sells sourdough.',
  'How can I politely decline a meeting invitation?',
  'Draft a thank-you note for a job interview.',
  'Compose a haiku about the city at night.',
  'Can you explain how vaccines train the immune system?',
  'Write a limerick about a cat who loves jazz.',
  'Outline the steps to change a flat tyre.',
  'Please translate "good morning" into Italian.',
  'Recommend some exercises for lower back pain.',
];

function hardNegativeSentence(r: Rng, pool: Pool, corpusMessages: string[]): string {
  const u = r.next();
  if (u < 0.35) return fill(r, r.pick(part(TRIGGER_BENIGN, pool)));
  if (u < 0.45) return fill(r, r.pick(part(HUMAN_INSTRUCTIONS, pool)));
  if (u < 0.6) return composeHumanInstruction(r, pool);
  if (u < 0.75) return fill(r, r.pick(part(BENIGN_REQUESTS, pool)));
  if (u < 0.88) return r.pick(part(MULTILINGUAL_BENIGN, pool));
  if (corpusMessages.length) return r.pick(corpusMessages);
  return fill(r, r.pick(FILLER));
}

function twinPair(out: TrainExample[], make: (slot: string | null) => string, inj: string, tag: string, kind: TrainExample['kind'] = 'tool_output'): void {
  const pos = make(inj);
  const neg = make(null);
  const span = diffSpan(pos, neg);
  out.push({ text: pos, label: 1, kind, weight: 1, span, tag: `pos:${tag}` });
  out.push({ text: neg, label: 0, kind, weight: 1, tag: `neg:twin:${tag}` });
}

/** Insert `slot` at a paragraph (or line) boundary of `doc`, chosen by r; null returns the doc. */
function intoDocument(r: Rng, doc: string, slot: string | null): string {
  const paras = doc.split(/\n\n/);
  const at = r.int(paras.length + 1);
  if (slot === null) return doc;
  paras.splice(at, 0, slot);
  return paras.join('\n\n');
}

export function synthesise(o: SynthOptions): TrainExample[] {
  const r = new Rng(o.seed);
  const out: TrainExample[] = [];
  const hosts = o.pool === 'test' ? HOST_NAMES : HOST_NAMES;
  const extraPool = [...part(TRIGGER_BENIGN, o.pool), ...part(HUMAN_INSTRUCTIONS, o.pool)];

  // 1. Injections in host documents, with their clean twins.
  for (let i = 0; i < o.hostPairs; i++) {
    const hostName = hosts[i % hosts.length];
    const host = HOSTS[hostName];
    const inj = makeInjection(r, o.pool);
    const seed = r.int(0x7fffffff);
    const extra = extraPool.map((s) => s); // same list for both twins
    twinPair(out, (slot) => host(new Rng(seed), slot, extra), inj.text, `${inj.family}:${inj.encoding}:${hostName}`);
  }
  // 2. Hard negatives in the same hosts.
  for (let i = 0; i < o.hardNegatives; i++) {
    const hostName = hosts[(i * 7) % hosts.length];
    const host = HOSTS[hostName];
    const s = hardNegativeSentence(r, o.pool, o.corpusMessages);
    out.push({ text: host(r.fork(i), s, extraPool), label: 0, kind: 'tool_output', weight: 1, tag: `neg:hard:${hostName}` });
  }
  // 3. Security writing that quotes injections (label 0).
  const secT = part(SECURITY_DOC_TEMPLATES, o.pool);
  for (let i = 0; i < o.securityDocs; i++) {
    const u = r.next();
    let inj: string;
    if (u < 0.4) inj = r.pick(part(CLASSIC_OVERRIDES, o.pool));
    else if (u < 0.7) inj = fill(r, r.pick(part(GOALS, o.pool)));
    else if (u < 0.8) inj = fill(r, r.pick(part(RESPONSE_GOALS, o.pool)));
    else inj = makeInjection(r, o.pool).text;
    if (inj.length > 220) inj = inj.slice(0, 220);
    let doc = r.chance(0.5) ? composeWriteup(r, o.pool, inj.replace(/\n+/g, ' ')) : r.pick(secT).replace('{inj}', inj.replace(/\n+/g, ' '));
    if (r.chance(0.4) && o.corpusDocs.length) doc = r.chance(0.5) ? `${r.pick(o.corpusDocs)}\n\n${doc}` : `${doc}\n\n${r.pick(o.corpusDocs)}`;
    out.push({ text: doc, label: 0, kind: 'tool_output', weight: 1, tag: 'neg:security_doc' });
  }
  // 4. Tool descriptions: benign, and poisoned with a twin.
  const descs = part(TOOL_DESCRIPTIONS, o.pool);
  for (let i = 0; i < o.toolDescriptions; i++) {
    const base = r.chance(0.6) ? r.pick(descs) : `${r.pick(descs)} ${r.pick(descs)}`;
    if (i % 2 === 0) {
      const inj = makeInjection(r, o.pool, { kind: 'tool_description' });
      const sep = r.pick([' ', '\n', '\n\n']);
      const pos = `${base}${sep}${inj.text}`;
      out.push({ text: pos, label: 1, kind: 'tool_description', weight: 1, span: [base.length, pos.length], tag: `pos:tool_poisoning:${inj.encoding}` });
    } else {
      out.push({ text: base, label: 0, kind: 'tool_description', weight: 1, tag: 'neg:description' });
    }
  }
  // 5. Long real-world documents: clean, and with an injection at start, middle or end.
  if (o.corpusDocs.length) {
    for (let i = 0; i < o.longDocs; i++) {
      const k = r.range(1, 4);
      const parts: string[] = [];
      for (let j = 0; j < k; j++) parts.push(r.pick(o.corpusDocs));
      const doc = parts.join('\n\n');
      if (i % 2 === 0) {
        const inj = makeInjection(r, o.pool);
        const seed = r.int(0x7fffffff);
        twinPair(out, (slot) => intoDocument(new Rng(seed), doc, slot), inj.text, `${inj.family}:${inj.encoding}:long_doc`);
      } else {
        const withHard = r.chance(0.5) ? intoDocument(r, doc, hardNegativeSentence(r, o.pool, o.corpusMessages)) : doc;
        out.push({ text: withHard, label: 0, kind: 'tool_output', weight: 1, tag: 'neg:corpus' });
      }
    }
    // Multilingual compiler messages as short benign outputs.
    for (let i = 0; i < Math.min(400, o.corpusMessages.length / 4); i++) {
      const k = r.range(1, 6);
      const msgs: string[] = [];
      for (let j = 0; j < k; j++) msgs.push(r.pick(o.corpusMessages));
      out.push({ text: msgs.join('\n'), label: 0, kind: 'tool_output', weight: 1, tag: 'neg:messages' });
    }
  }
  return out;
}
