/**
 * Summarises a V8 .cpuprofile (as written by `node --cpu-prof`): self time per
 * function, total (inclusive) time per function, and self time per area
 * (JSON, hashing, SDK transport, zod, audit, gateway...), idle excluded.
 *
 *   node dist/bench/profile-summary.js <file.cpuprofile> [top] [skipMs]
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface FunctionTime {
  function: string;
  location: string;
  area: string;
  ms: number;
  pct: number;
}

export interface ProfileSummary {
  file: string;
  wallMs: number;
  busyMs: number;
  idlePct: number;
  selfTop: FunctionTime[];
  totalTop: FunctionTime[];
  areas: { area: string; ms: number; pct: number }[];
}

const AREAS: [RegExp, string][] = [
  [/\/src\/audit\//, 'portcullis audit (records, hashing, file store)'],
  [/\/src\/gateway\//, 'portcullis gateway (session, upstream, catalog)'],
  [/\/src\/(pipeline|guards|policy|schema)\//, 'portcullis guards and pipeline'],
  [/\/src\/(transports|serve|auth)\//, 'portcullis transports and auth'],
  [/node_modules\/ajv/, 'ajv (argument validation)'],
  [/node_modules\/zod|\/zod\/v\d/, 'zod (SDK message validation)'],
  [/node_modules\/@hono|node_modules\/hono/, 'hono node-server (SDK HTTP adapter)'],
  [/node_modules\/@modelcontextprotocol\/sdk/, 'MCP SDK (transport, protocol)'],
  [/node_modules\/pino|node_modules\/sonic-boom/, 'pino logging'],
  [/node_modules\/canonicalize/, 'canonicalize (audit)'],
  [/node_modules\//, 'other dependencies'],
  [/^node:internal\/(streams|http|_http|net|stream)|^node:(http|_http|net|stream)/, 'node http/net/streams'],
  [/^node:internal\/(crypto)|^node:crypto/, 'node crypto'],
  [/^node:internal\/fs|^node:fs/, 'node fs'],
  [/^node:/, 'node internals (other)'],
];

function areaOf(frame: CallFrame): string {
  const fn = frame.functionName;
  if (fn === '(garbage collector)') return 'garbage collection';
  if (fn === '(program)') return 'V8/native (program)';
  if (frame.url === '') {
    if (/^(parse|stringify)$/.test(fn)) return 'JSON parse/stringify';
    if (/hash|digest|update/i.test(fn)) return 'node crypto';
    if (/^(write|writev|writeUtf8String|writeBuffer|close|read|fsync|fdatasync)/.test(fn)) return 'native I/O';
    return 'native (other)';
  }
  for (const [re, area] of AREAS) if (re.test(frame.url)) return area;
  return 'other JS';
}

function shortUrl(url: string): string {
  const i = url.lastIndexOf('node_modules/');
  if (i >= 0) return url.slice(i + 'node_modules/'.length);
  const d = url.lastIndexOf('/dist/');
  if (d >= 0) return url.slice(d + '/dist/'.length);
  return url.replace(/^file:\/\//, '');
}

/**
 * `skipMs`: ignore the first milliseconds of the profile (module loading and
 * start-up), so the summary describes the process under load.
 */
export function summarizeProfile(file: string, top = 15, skipMs = 0): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const skipUntil = profile.startTime + skipMs * 1000;
  let clock = profile.startTime;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) byId.set(n.id, n);
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const key = (f: CallFrame) => `${f.functionName || '(anonymous)'}\u0000${f.url}:${f.lineNumber + 1}`;
  const self = new Map<string, { frame: CallFrame; us: number }>();
  const total = new Map<string, { frame: CallFrame; us: number }>();
  const areas = new Map<string, number>();
  let idle = 0;
  let busy = 0;
  let firstCounted = Infinity;
  for (let i = 0; i < profile.samples.length; i++) {
    clock += profile.timeDeltas[i] ?? 0;
    if (clock < skipUntil) continue;
    firstCounted = Math.min(firstCounted, clock);
    const dt = profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0;
    const node = byId.get(profile.samples[i]);
    if (!node) continue;
    if (node.callFrame.functionName === '(idle)') {
      idle += dt;
      continue;
    }
    busy += dt;
    const k = key(node.callFrame);
    const s = self.get(k) ?? { frame: node.callFrame, us: 0 };
    s.us += dt;
    self.set(k, s);
    const a = areaOf(node.callFrame);
    areas.set(a, (areas.get(a) ?? 0) + dt);
    // Inclusive: every distinct function on the stack gets the sample once.
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id)!.callFrame;
      if (f.functionName === '(root)') break;
      const fk = key(f);
      if (seen.has(fk)) continue;
      seen.add(fk);
      const t = total.get(fk) ?? { frame: f, us: 0 };
      t.us += dt;
      total.set(fk, t);
    }
  }
  const wall = profile.endTime - (Number.isFinite(firstCounted) ? firstCounted : profile.startTime);
  const rows = (m: Map<string, { frame: CallFrame; us: number }>) =>
    [...m.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((v) => ({
        function: v.frame.functionName || '(anonymous)',
        location: v.frame.url ? `${shortUrl(v.frame.url)}:${v.frame.lineNumber + 1}` : '(native)',
        area: areaOf(v.frame),
        ms: v.us / 1000,
        pct: busy ? (v.us / busy) * 100 : 0,
      }));
  return {
    file,
    wallMs: wall / 1000,
    busyMs: busy / 1000,
    idlePct: wall ? (idle / (idle + busy)) * 100 : 0,
    selfTop: rows(self),
    // Node's own stream/event plumbing dominates inclusive time; list the application's and its libraries' code.
    totalTop: rows(new Map([...total].filter(([, v]) => /\/src\/|node_modules/.test(v.frame.url)))),
    areas: [...areas].sort((a, b) => b[1] - a[1]).map(([area, us]) => ({ area, ms: us / 1000, pct: busy ? (us / busy) * 100 : 0 })),
  };
}

export function profileMarkdown(s: ProfileSummary, calls?: number): string {
  const lines: string[] = [];
  const perCall = (ms: number) => (calls ? ` | ${((ms * 1000) / calls).toFixed(1)}` : '');
  const unit = calls ? ' | µs/call' : '';
  const sep = calls ? '|---:' : '';
  lines.push(`Busy ${s.busyMs.toFixed(0)} ms of ${s.wallMs.toFixed(0)} ms profiled (${s.idlePct.toFixed(0)}% idle)${calls ? `, ${calls} calls` : ''}.`, '');
  lines.push(`| area | self ms | % of busy${unit} |`, `|---|---:|---:${sep}|`);
  for (const a of s.areas) lines.push(`| ${a.area} | ${a.ms.toFixed(0)} | ${a.pct.toFixed(1)}${perCall(a.ms)} |`);
  lines.push('', `| top self time | location | area | self ms | % |`, `|---|---|---|---:|---:|`);
  for (const f of s.selfTop) lines.push(`| \`${f.function}\` | ${f.location} | ${f.area} | ${f.ms.toFixed(0)} | ${f.pct.toFixed(1)} |`);
  lines.push('', `| top total (inclusive) time | location | total ms | % |`, `|---|---|---:|---:|`);
  for (const f of s.totalTop) lines.push(`| \`${f.function}\` | ${f.location} | ${f.ms.toFixed(0)} | ${f.pct.toFixed(1)} |`);
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node dist/bench/profile-summary.js <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  process.stdout.write(profileMarkdown(summarizeProfile(file, Number(process.argv[3] ?? 15), Number(process.argv[4] ?? 0))) + '\n');
}
