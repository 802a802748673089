/**
 * The labelled dev set (shared/data/injection/dev.jsonl) and its honest split.
 *
 * Rows are grouped so that everything derived from one underlying document
 * lands on the same side of the split: a positive and its clean twin
 * (`meta.twin`), all renderings of the same AgentDojo slot (`meta.slot`), all
 * uses of the same BIPIA attack string (`meta.attack`) and the clean and
 * poisoned versions of the same tool description (`meta.tool`). Groups are then
 * assigned to train or test by a hash of their sorted member ids, stratified by
 * the group's family, so the split is fixed and does not depend on row order.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { strHash } from './rng.js';

export interface DevRow {
  id: string;
  text: string;
  label: 0 | 1;
  kind: 'tool_output' | 'tool_description';
  source: string;
  template: string | null;
  group: string;
  meta: Record<string, unknown>;
}

/** Locate dev.jsonl: $PORTCULLIS_INJECTION_DATA (file or directory), then ../shared relative to the repo. */
export function resolveDevData(): string {
  const env = process.env.PORTCULLIS_INJECTION_DATA;
  const candidates: string[] = [];
  if (env) candidates.push(existsSync(env) && statSync(env).isDirectory() ? join(env, 'dev.jsonl') : env);
  // From dist/src/screening/train/ or src/screening/train/ up to the repo root.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    candidates.push(join(dir, '..', 'shared', 'data', 'injection', 'dev.jsonl'));
    candidates.push(join(dir, 'shared', 'data', 'injection', 'dev.jsonl'));
    dir = dirname(dir);
  }
  candidates.push(resolve(process.cwd(), '..', 'shared', 'data', 'injection', 'dev.jsonl'));
  for (const c of candidates) if (existsSync(c)) return c;
  throw new Error(`dev.jsonl not found; set PORTCULLIS_INJECTION_DATA (tried ${candidates.slice(0, 3).join(', ')} …)`);
}

export function loadDev(path = resolveDevData()): DevRow[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as DevRow);
}

/** Union-find components over the link fields. Returns component key per row id. */
export function devGroups(rows: DevRow[]): Map<string, string> {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    if (!parent.has(x)) {
      parent.set(x, x);
      return x;
    }
    let root = x;
    while (parent.get(root) !== root) root = parent.get(root)!;
    while (parent.get(x) !== root) {
      const next = parent.get(x)!;
      parent.set(x, root);
      x = next;
    }
    return root;
  };
  const union = (a: string, b: string) => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent.set(ra < rb ? rb : ra, ra < rb ? ra : rb);
  };
  for (const r of rows) {
    find(r.id);
    const m = r.meta ?? {};
    if (typeof m.twin === 'string') union(r.id, m.twin);
    if (typeof m.slot === 'string') union(r.id, `slot:${m.slot}`);
    if (typeof m.attack === 'string') union(r.id, `attack:${m.attack}`);
    if (typeof m.tool === 'string') union(r.id, `tool:${String(m.tool).split('/').pop()}`);
  }
  const out = new Map<string, string>();
  for (const r of rows) out.set(r.id, find(r.id));
  return out;
}

export interface DevSplit {
  train: DevRow[];
  test: DevRow[];
}

/** Deterministic grouped, stratified split; `testShare` of each stratum's groups go to test. */
export function splitDev(rows: DevRow[], testShare = 0.3): DevSplit {
  const comp = devGroups(rows);
  const members = new Map<string, DevRow[]>();
  for (const r of rows) {
    const k = comp.get(r.id)!;
    let a = members.get(k);
    if (!a) members.set(k, (a = []));
    a.push(r);
  }
  // Stratum: the family of the group's positives if any, else its negative group.
  const strata = new Map<string, { key: string; h: number; n: number }[]>();
  for (const [k, ms] of members) {
    const pos = ms.filter((m) => m.label === 1).map((m) => m.group).sort();
    const stratum = pos.length ? `pos:${pos[0]}` : `neg:${ms.map((m) => m.group).sort()[0]}`;
    const ids = ms.map((m) => m.id).sort().join(',');
    let a = strata.get(stratum);
    if (!a) strata.set(stratum, (a = []));
    a.push({ key: k, h: strHash(`portcullis-split-v1:${ids}`), n: ms.length });
  }
  const testKeys = new Set<string>();
  for (const [, gs] of [...strata].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    gs.sort((a, b) => a.h - b.h || (a.key < b.key ? -1 : 1));
    const total = gs.reduce((s, g) => s + g.n, 0);
    let taken = 0;
    for (const g of gs) {
      if (taken >= total * testShare) break;
      testKeys.add(g.key);
      taken += g.n;
    }
  }
  const train: DevRow[] = [];
  const test: DevRow[] = [];
  for (const r of rows) (testKeys.has(comp.get(r.id)!) ? test : train).push(r);
  return { train, test };
}

/**
 * Character span of the injected part of a positive, from its clean twin when
 * the twin is known (longest common prefix and suffix). Undefined otherwise.
 */
export function diffSpan(pos: string, clean: string): [number, number] | undefined {
  let a = 0;
  const max = Math.min(pos.length, clean.length);
  while (a < max && pos.charCodeAt(a) === clean.charCodeAt(a)) a++;
  let b = 0;
  while (b < max - a && pos.charCodeAt(pos.length - 1 - b) === clean.charCodeAt(clean.length - 1 - b)) b++;
  const end = pos.length - b;
  if (end <= a) return undefined;
  return [a, end];
}
