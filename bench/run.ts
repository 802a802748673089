/**
 * `npm run bench`: what the gateway costs per tools/call, against a direct
 * connection and against other MCP proxies, all in one run with the
 * configurations interleaved so that machine noise hits them alike.
 *
 *   npm run bench                      full run (~7 min), writes docs/benchmarks.json
 *   npm run bench -- --quick           smoke run (< 60 s), writes dist/bench/quick.json
 *   options: --json FILE  --md FILE  --only id,id  --phases startup,memory,audit,load,profile
 *            --no-profile  --seed N  --wait-quiet SECONDS
 *
 * Prints the markdown tables on stdout; progress goes to stderr.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { Agent } from 'node:http';
import { defaultGuards } from '../src/guards/index.js';
import { measureSandboxOverhead, type SandboxOverhead } from '../src/sandbox/measure.js';
import { auditBurst, auditWriters, type AuditResult } from './lib/audit-bench.js';
import { LeanHttpSession, LeanStdioConnection } from './lib/clients.js';
import { closedLoop, fixedRate } from './lib/load.js';
import { ARG_BYTES, GATEWAY_TOOL_NAME, RESULT_BYTES, TOOL_NAME } from './lib/payload.js';
import { cpuMs, freePort, installCleanup, killAll, rssMB, spawnTracked, waitForInitialize } from './lib/procs.js';
import { added, median, Samples, shuffled, summarize, type Summary } from './lib/stats.js';
import {
  allTargets,
  checkInstalled,
  childEnv,
  CLI_JS,
  descendants,
  DIST,
  HTTP_SPAWNERS,
  NODE,
  removeTempDirs,
  ROOT,
  sandboxSupported,
  tempDir,
  writeConfig,
  portcullisConfig,
  type Target,
} from './lib/targets.js';
import { profileMarkdown, summarizeProfile, type ProfileSummary } from './profile-summary.js';

installCleanup();
// An open-loop run that outpaces a slow configuration keeps thousands of SDK
// requests in flight (one abort listener / drain listener each); that is the
// load shape, not a leak, so those warnings are counted instead of printed.
let listenerWarnings = 0;
process.removeAllListeners('warning');
process.on('warning', (w) => {
  if (w.name === 'MaxListenersExceededWarning') listenerWarnings++;
  else process.stderr.write(`${w.name}: ${w.message}\n`);
});

// ---- options -------------------------------------------------------------------------

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(name);
const value = (name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const QUICK = flag('--quick');
const PROFILE = !flag('--no-profile') && !QUICK;
const JSON_OUT = value('--json') ?? (QUICK ? join(DIST, 'bench', 'quick.json') : join(ROOT, 'docs', 'benchmarks.json'));
const MD_OUT = value('--md');
const ONLY = value('--only')?.split(',');
const PHASES = new Set(value('--phases')?.split(',') ?? ['startup', 'memory', 'audit', 'load', 'profile']);
const SEED = Number(value('--seed') ?? 20_251_121);

const S = QUICK
  ? { rounds: 1, satRounds: 1, fixed100Ms: 600, fixed1000Ms: 600, satMs: 400, satWarmMs: 100, levels: [1, 8], warmupMs: 200, rssSessions: 50, rssIdleWaitMs: 200, startupReps: 1, auditRecords: 20_000, writersMs: 300, profileMs: 0 }
  : { rounds: 3, satRounds: 2, fixed100Ms: 3000, fixed1000Ms: 2500, satMs: 2000, satWarmMs: 300, levels: [1, 8, 64], warmupMs: 1500, rssSessions: 1000, rssIdleWaitMs: 1500, startupReps: 3, auditRecords: 100_000, writersMs: 2000, profileMs: 6000 };

const RATES = [100, 1000] as const;
const started = performance.now();
const log = (msg: string) => process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(3)}s] ${msg}\n`);

// ---- machine -------------------------------------------------------------------------

function machine() {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  const model = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  const mhz = /cpu MHz\s*:\s*(.+)/.exec(cpuinfo)?.[1];
  let tmpFs = 'unknown';
  try {
    const mounts = readFileSync('/proc/mounts', 'utf8').trim().split('\n').map((l) => l.split(' '));
    const best = mounts.filter((m) => tmpdir().startsWith(m[1])).sort((a, b) => b[1].length - a[1].length)[0];
    if (best) tmpFs = `${best[2]} (${best[0]} on ${best[1]})`;
  } catch {
    /* not Linux */
  }
  const pkg = (p: string) => {
    try {
      return (JSON.parse(readFileSync(join(ROOT, p), 'utf8')) as { version: string }).version;
    } catch {
      return 'unknown';
    }
  };
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (dirty) commit += ' (+ uncommitted changes in src/)';
  } catch {
    /* not a git checkout */
  }
  return {
    nproc: availableParallelism(),
    cpuModel: model,
    cpuMHz: mhz ? Number(mhz) : undefined,
    memTotalGB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    kernel: release(),
    tmpFilesystem: tmpFs,
    loadavgAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
    versions: {
      portcullis: pkg('package.json'),
      commit,
      sdk: pkg('node_modules/@modelcontextprotocol/sdk/package.json'),
      mcpProxy: pkg('node_modules/mcp-proxy/package.json'),
      supergateway: pkg('node_modules/supergateway/package.json'),
    },
  };
}

// ---- phases: start-up ------------------------------------------------------------------

interface StartupResult {
  id: string;
  what: string;
  ms: number[];
  medianMs: number;
}

async function startupPhase(): Promise<StartupResult[]> {
  log('start-up time: spawn → first answered initialize');
  const warmCfg = await writeConfig('fsync');
  const kinds: { id: string; what: string; args: (port: number) => Promise<string[]> }[] = [
    {
      id: 'portcullis-cold',
      what: '`portcullis serve`, all guards, new data dir (creates signing key + audit log)',
      args: async (port) => {
        const cfg = await writeConfig('fsync');
        return [CLI_JS, 'serve', '--config', cfg.file, '--data', cfg.dataDir, '--port', String(port)];
      },
    },
    { id: 'portcullis-warm', what: '`portcullis serve`, all guards, existing data dir', args: async (port) => [CLI_JS, 'serve', '--config', warmCfg.file, '--data', warmCfg.dataDir, '--port', String(port)] },
    { id: 'mcp-proxy', what: 'mcp-proxy (defaults) in front of the same stdio server', args: HTTP_SPAWNERS.mcpProxy },
    { id: 'supergateway', what: 'supergateway --stateful (spawns the server at the first initialize)', args: HTTP_SPAWNERS.supergateway },
  ];
  const once = async (args: (port: number) => Promise<string[]>) => {
    const port = await freePort();
    const argv = await args(port);
    const t0 = performance.now();
    const proc = spawnTracked(NODE, argv, { env: childEnv(), cwd: ROOT });
    await waitForInitialize(new URL(`http://127.0.0.1:${port}/mcp`), 60_000, proc, 2);
    const ms = performance.now() - t0;
    await proc.kill();
    return ms;
  };
  // A quick run times Portcullis only.
  if (QUICK) kinds.splice(2);
  await once(kinds[1].args); // creates the warm data dir (untimed)
  const out = new Map(kinds.map((k) => [k.id, [] as number[]]));
  for (let rep = 0; rep < S.startupReps; rep++) {
    for (const k of shuffled(kinds, SEED + rep)) out.get(k.id)!.push(await once(k.args));
  }
  return kinds.map((k) => ({ id: k.id, what: k.what, ms: out.get(k.id)!, medianMs: median(out.get(k.id)!) }));
}

// ---- phases: memory -----------------------------------------------------------------------

interface MemoryResult {
  id: string;
  idleMB: number;
  idleUpstreamMB: number;
  sessions: number;
  withSessionsMB?: number;
  withSessionsUpstreamMB?: number;
  upstreamProcesses?: number;
  note?: string;
}

const sumRss = (pids: number[]) => pids.reduce((a, p) => a + (rssMB(p) || 0), 0);

async function memoryPhase(): Promise<MemoryResult[]> {
  log(`memory: RSS idle and with ${S.rssSessions} open sessions`);
  const kinds: { id: string; args: (port: number) => Promise<string[]>; tool: string; sessions: boolean; note?: string }[] = [
    { id: 'pc-http-all', args: (p) => HTTP_SPAWNERS.portcullis(p, 'fsync', 'all'), tool: GATEWAY_TOOL_NAME, sessions: true },
    { id: 'pc-http-relay', args: (p) => HTTP_SPAWNERS.portcullis(p, 'write', 'none'), tool: GATEWAY_TOOL_NAME, sessions: true },
    { id: 'mcp-proxy', args: HTTP_SPAWNERS.mcpProxy, tool: TOOL_NAME, sessions: true },
    { id: 'direct-http', args: HTTP_SPAWNERS.directHttp, tool: TOOL_NAME, sessions: true, note: 'the upstream itself (one SDK Server per session)' },
    { id: 'supergateway', args: HTTP_SPAWNERS.supergateway, tool: TOOL_NAME, sessions: false, note: `not measured with ${S.rssSessions} sessions: --stateful starts one upstream process per session` },
  ];
  const out: MemoryResult[] = [];
  // A quick run measures Portcullis and mcp-proxy only.
  for (const k of QUICK ? kinds.filter((k) => k.id === 'pc-http-all' || k.id === 'mcp-proxy') : kinds) {
    const port = await freePort();
    const proc = spawnTracked(NODE, await k.args(port), { env: childEnv(), cwd: ROOT });
    const url = new URL(`http://127.0.0.1:${port}/mcp`);
    try {
      await waitForInitialize(url, 60_000, proc, 20);
      await new Promise((r) => setTimeout(r, S.rssIdleWaitMs));
      const isDirect = k.id === 'direct-http';
      const r: MemoryResult = { id: k.id, idleMB: rssMB(proc.pid), idleUpstreamMB: isDirect ? 0 : sumRss(descendants(proc.pid)), sessions: 0, note: k.note };
      if (k.sessions) {
        const agent = new Agent({ keepAlive: true, maxSockets: 32 });
        let next = 0;
        const opened: LeanHttpSession[] = [];
        await Promise.all(
          Array.from({ length: 32 }, async () => {
            while (next < S.rssSessions) {
              next++;
              const s = await new LeanHttpSession(url, k.tool, agent).open();
              await s.call(0);
              opened.push(s);
            }
          }),
        );
        await new Promise((r) => setTimeout(r, Math.min(1000, S.rssIdleWaitMs)));
        r.sessions = opened.length;
        r.withSessionsMB = rssMB(proc.pid);
        r.withSessionsUpstreamMB = isDirect ? undefined : sumRss(descendants(proc.pid));
        agent.destroy();
      }
      r.upstreamProcesses = isDirect ? 0 : descendants(proc.pid).length;
      out.push(r);
      log(`  ${k.id}: idle ${r.idleMB.toFixed(1)} MB${r.withSessionsMB ? `, ${r.sessions} sessions ${r.withSessionsMB.toFixed(1)} MB` : ''}`);
    } finally {
      await proc.kill();
    }
  }
  return out;
}

// ---- phases: audit, screening ----------------------------------------------------------------

async function auditPhase(): Promise<AuditResult[]> {
  log(`audit: ${S.auditRecords} records appended in a burst (fsync, write), then 64 waiting writers`);
  const out: AuditResult[] = [];
  out.push(await auditBurst('fsync', S.auditRecords));
  out.push(await auditBurst('write', S.auditRecords));
  out.push(await auditWriters('fsync', 64, S.writersMs));
  out.push(await auditWriters('fsync', 1, S.writersMs));
  for (const r of out) log(`  ${r.durability} ${r.mode}: ${Math.round(r.recordsPerSec)} records/s`);
  return out;
}

async function guardChainOf(raw: Record<string, unknown>): Promise<string[]> {
  const { defineConfig } = await import('../src/config/load.js');
  const { Gateway } = await import('../src/gateway/gateway.js');
  const dataDir = join(tmpdir(), `portcullis-bench-chain-${process.pid}`);
  const gateway = await Gateway.start({ config: defineConfig(raw as never).config, dataDir });
  try {
    return gateway.pipeline.guards.map((g) => g.guard.name);
  } finally {
    await gateway.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

interface FeatureStatus {
  guards: string[];
  outputScreening: { status: string; mbPerSec?: number; guards?: string[] };
  flowTracking: { status: string };
  sandbox: { status: string; overhead?: SandboxOverhead };
}

/** Measures result-screening guards when the build has any; says "not built yet" otherwise. */
async function featurePhase(): Promise<FeatureStatus> {
  const guards = defaultGuards();
  // The chain the all-guards targets run is the CLI's: read it from a gateway started on their config.
  const names = await guardChainOf(portcullisConfig('write', 'all'));
  const screening = guards.filter((g) => typeof g.onResult === 'function' && /screen|saniti/i.test(g.name));
  let outputScreening: FeatureStatus['outputScreening'] = {
    status: existsSync(join(DIST, 'src', 'screening')) ? 'not in the guard chain yet (a screening library exists in the build)' : 'not built yet',
  };
  if (screening.length > 0) {
    const { Identity } = await import('../src/policy/identity.js');
    const identity = new Identity({ name: 'bench', allowedTools: ['bench.echo'] });
    const ctx = { session: { id: 's', identity, startedAt: Date.now(), expiresAt: Date.now() + 3_600_000 }, method: 'tools/call', now: Date.now() };
    const text = 'The quick brown fox jumps over the lazy dog. '.repeat(23_302).slice(0, 1024 * 1024);
    const result = { content: [{ type: 'text', text }] };
    const inv = { kind: 'tool', server: 'bench', name: 'echo', exposedName: 'bench__echo', arguments: {}, tool: { server: 'bench', name: 'echo', exposedName: 'bench__echo', definition: { name: 'echo', inputSchema: { type: 'object' } } } } as const;
    try {
      // 1 MB of plain prose in one text block, screened over and over for a second.
      const t0 = performance.now();
      let bytes = 0;
      while (performance.now() - t0 < 1000) {
        for (const g of screening) await g.onResult!(ctx as never, inv as never, result);
        bytes += text.length;
      }
      outputScreening = { status: 'measured (1 MB text result, guard called directly)', mbPerSec: bytes / 2 ** 20 / ((performance.now() - t0) / 1000), guards: screening.map((g) => g.name) };
    } catch (error) {
      outputScreening = { status: `present (${screening.map((g) => g.name).join(', ')}) but not measurable outside a session: ${(error as Error).message}`, guards: screening.map((g) => g.name) };
    }
  }
  // The same stdio server started and called through the gateway with sandbox: none
  // and sandboxed, alternating, so the sandbox's own cost is isolated.
  const overhead = sandboxSupported() ? await measureSandboxOverhead({ runs: QUICK ? 3 : 5, calls: QUICK ? 100 : 300 }) : undefined;
  if (overhead) log(`sandbox: start-up +${overhead.startup.overheadMs} ms, per call +${overhead.perCall.overheadMs} ms`);
  return {
    guards: names,
    outputScreening,
    flowTracking: { status: names.some((n) => /flow/i.test(n)) ? 'enabled (part of the default guards)' : 'not built yet' },
    sandbox: {
      overhead,
      status: sandboxSupported()
        ? 'enabled in the all-guards configurations (the build\'s default sandbox for stdio servers); off (sandbox: none) in the relay'
        : existsSync(join(DIST, 'src', 'sandbox'))
          ? 'present in the build but not configurable yet'
          : 'not built yet',
    },
  };
}

// ---- phases: load -----------------------------------------------------------------------------

interface FixedAgg {
  latency: Samples;
  service: Samples;
  sendLag: Samples;
  sent: number;
  completed: number;
  errors: number;
  firstError?: string;
  achieved: number[];
  clientCpu: number[];
}

interface SatAgg {
  completed: number;
  windowMs: number;
  errors: number;
  firstError?: string;
  perRound: number[];
  latency: Samples;
  clientCpu: number[];
  gatewayCpuMs: number;
  upstreamCpuMs: number;
}

const cpuOf = (pids: number[]) => pids.reduce((a, p) => a + (cpuMs(p) || 0), 0);

async function loadPhase(targets: Target[]) {
  const fixed = new Map<number, Map<string, FixedAgg>>(RATES.map((r) => [r, new Map()]));
  const sat = new Map<number, Map<string, SatAgg>>(S.levels.map((l) => [l, new Map()]));
  let seq = 0;

  log(`starting ${targets.length} configurations`);
  await Promise.all(targets.map((t) => t.setup()));
  log('warm-up (JIT) of every configuration');
  for (const t of targets) {
    const g = await t.lean(8);
    await closedLoop(g.callers, g.inflightPerCaller, S.warmupMs, 0);
    await g.close();
    const { caller, release } = await t.sdk();
    await fixedRate(caller, 1000, Math.min(500, S.warmupMs / 2), seq);
    seq += 1000;
    await release();
  }

  for (const rate of RATES) {
    const ms = rate === 100 ? S.fixed100Ms : S.fixed1000Ms;
    for (let round = 0; round < S.rounds; round++) {
      for (const t of shuffled(targets, SEED + rate + round)) {
        const { caller, release } = await t.sdk();
        const r = await fixedRate(caller, rate, ms, seq);
        seq += r.sent;
        await release();
        const agg = fixed.get(rate)!.get(t.id) ?? { latency: new Samples(), service: new Samples(), sendLag: new Samples(), sent: 0, completed: 0, errors: 0, achieved: [], clientCpu: [] };
        agg.latency.merge(r.latency);
        agg.service.merge(r.service);
        agg.sendLag.merge(r.sendLag);
        agg.sent += r.sent;
        agg.completed += r.completed;
        agg.errors += r.errors;
        agg.firstError ??= r.firstError;
        agg.achieved.push(r.achievedRate);
        agg.clientCpu.push(r.clientCpuPct);
        fixed.get(rate)!.set(t.id, agg);
        const s = summarize(r.latency.values());
        log(`[${rate}/s r${round + 1}/${S.rounds}] ${t.id.padEnd(20)} p50 ${s.p50.toFixed(3)} p99 ${s.p99.toFixed(3)} ms, ${r.achievedRate.toFixed(0)}/s${r.errors ? `, ${r.errors} errors (${r.firstError})` : ''}`);
      }
    }
  }

  for (const level of S.levels) {
    for (let round = 0; round < S.satRounds; round++) {
      for (const t of shuffled(targets, SEED + level * 7 + round)) {
        const g = await t.lean(level);
        const pids = t.pids();
        const gw0 = pids.gateway ? cpuMs(pids.gateway) : 0;
        const up0 = cpuOf(pids.upstream);
        const r = await closedLoop(g.callers, g.inflightPerCaller, S.satMs, S.satWarmMs);
        const gw1 = pids.gateway ? cpuMs(pids.gateway) : 0;
        const up1 = cpuOf(pids.upstream);
        await g.close();
        const agg = sat.get(level)!.get(t.id) ?? { completed: 0, windowMs: 0, errors: 0, perRound: [], latency: new Samples(), clientCpu: [], gatewayCpuMs: 0, upstreamCpuMs: 0 };
        agg.completed += r.completed;
        agg.windowMs += r.windowMs;
        agg.errors += r.errors;
        agg.firstError ??= r.firstError;
        agg.perRound.push(r.throughput);
        agg.latency.merge(r.latency);
        agg.clientCpu.push(r.clientCpuPct);
        // CPU of the whole slice (warm-up included) per call completed in the slice.
        agg.gatewayCpuMs += gw1 - gw0;
        agg.upstreamCpuMs += up1 - up0;
        sat.get(level)!.set(t.id, agg);
        log(`[sat ${level} r${round + 1}/${S.satRounds}] ${t.id.padEnd(20)} ${r.throughput.toFixed(0)} calls/s, client CPU ${r.clientCpuPct.toFixed(0)}%${r.errors ? `, ${r.errors} errors (${r.firstError})` : ''}`);
      }
    }
  }
  return { fixed, sat };
}

// ---- phases: CPU profile ------------------------------------------------------------------------

interface ProfileResult {
  config: string;
  calls: number;
  throughput: number;
  summary: ProfileSummary;
}

async function profilePhase(): Promise<ProfileResult[]> {
  const out: ProfileResult[] = [];
  const dir = join(DIST, 'bench', 'profiles');
  // Profiles of earlier runs must not be mistaken for this one's.
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });

  log(`CPU profile: portcullis serve (all guards) under 8 saturating HTTP sessions for ${S.profileMs} ms`);
  {
    const cfg = await writeConfig('fsync');
    const port = await freePort();
    const profDir = join(dir, 'http');
    mkdirSync(profDir, { recursive: true });
    const spawnedAt = performance.now();
    const proc = spawnTracked(NODE, ['--cpu-prof', `--cpu-prof-dir=${profDir}`, CLI_JS, 'serve', '--config', cfg.file, '--data', cfg.dataDir, '--port', String(port)], { env: childEnv(), cwd: ROOT });
    const url = new URL(`http://127.0.0.1:${port}/mcp`);
    await waitForInitialize(url, 60_000, proc, 20);
    const sessions = await Promise.all(Array.from({ length: 8 }, () => new LeanHttpSession(url, GATEWAY_TOOL_NAME, new Agent({ keepAlive: true, maxSockets: 1 })).open()));
    // One second of load first (JIT warm-up), left out of the summary with the start-up.
    await closedLoop(sessions, 1, 1000, 0);
    const skipMs = performance.now() - spawnedAt;
    const r = await closedLoop(sessions, 1, S.profileMs, 0);
    await Promise.all(sessions.map((s) => s.close()));
    await proc.kill('SIGTERM');
    const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
    if (file) out.push({ config: 'pc-http-all (portcullis serve, 8 sessions)', calls: r.completed, throughput: r.throughput, summary: summarizeProfile(join(profDir, file), 20, skipMs) });
    else log('  no .cpuprofile was written');
  }

  log(`CPU profile: portcullis stdio (all guards), 8 calls in flight for ${S.profileMs} ms`);
  {
    const cfg = await writeConfig('fsync');
    const profDir = join(dir, 'stdio');
    mkdirSync(profDir, { recursive: true });
    const spawnedAt = performance.now();
    const conn = await LeanStdioConnection.open(NODE, ['--cpu-prof', `--cpu-prof-dir=${profDir}`, CLI_JS, 'stdio', '--identity', 'bench', '--config', cfg.file, '--data', cfg.dataDir], childEnv(), GATEWAY_TOOL_NAME);
    await closedLoop([conn], 8, 1000, 0);
    const skipMs = performance.now() - spawnedAt;
    const r = await closedLoop([conn], 8, S.profileMs, 0);
    await conn.close();
    const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
    if (file) out.push({ config: 'pc-stdio-all (portcullis stdio, 8 in flight)', calls: r.completed, throughput: r.throughput, summary: summarizeProfile(join(profDir, file), 20, skipMs) });
    else log('  no .cpuprofile was written');
  }
  return out;
}

// ---- report -------------------------------------------------------------------------------------

const f3 = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(3));
const f2 = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(2));
const f1 = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(1));
const f0 = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '—' : Math.round(v).toLocaleString('en-US'));
const signed = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '—' : `${v >= 0 ? '+' : ''}${v.toFixed(3)}`);

interface FixedOut {
  targetRate: number;
  achievedRate: number;
  sent: number;
  completed: number;
  errors: number;
  firstError?: string;
  latencyMs: Summary;
  serviceMs: Summary;
  sendLagMs: Summary;
  clientCpuPct: number;
  addedVsDirectStdioMs?: Record<string, number>;
  addedVsDirectHttpMs?: Record<string, number>;
  addedServiceVsDirectStdioMs?: Record<string, number>;
  addedServiceVsDirectHttpMs?: Record<string, number>;
}

interface SatOut {
  sessions: number;
  throughput: number;
  perRound: number[];
  ratioToDirectStdio?: number;
  ratioToDirectHttp?: number;
  latencyMs: Summary;
  errors: number;
  firstError?: string;
  clientCpuPct: number;
  gatewayCpuUsPerCall?: number;
  upstreamCpuUsPerCall: number;
}

function buildResults(targets: Target[], load: Awaited<ReturnType<typeof loadPhase>>) {
  const fixedOut: Record<string, Record<string, FixedOut>> = {};
  for (const [rate, byTarget] of load.fixed) {
    const rows: Record<string, FixedOut> = {};
    const sums = new Map([...byTarget].map(([id, a]) => [id, { lat: summarize(a.latency.values()), svc: summarize(a.service.values()) }]));
    for (const t of targets) {
      const a = byTarget.get(t.id);
      if (!a) continue;
      const { lat, svc } = sums.get(t.id)!;
      const ds = sums.get('direct-stdio');
      const dh = sums.get('direct-http');
      rows[t.id] = {
        targetRate: rate,
        achievedRate: median(a.achieved),
        sent: a.sent,
        completed: a.completed,
        errors: a.errors,
        firstError: a.firstError,
        latencyMs: lat,
        serviceMs: svc,
        sendLagMs: summarize(a.sendLag.values()),
        clientCpuPct: median(a.clientCpu),
        addedVsDirectStdioMs: ds && t.id !== 'direct-stdio' ? added(lat, ds.lat) : undefined,
        addedVsDirectHttpMs: dh && t.family === 'http' && t.id !== 'direct-http' ? added(lat, dh.lat) : undefined,
        addedServiceVsDirectStdioMs: ds && t.id !== 'direct-stdio' ? added(svc, ds.svc) : undefined,
        addedServiceVsDirectHttpMs: dh && t.family === 'http' && t.id !== 'direct-http' ? added(svc, dh.svc) : undefined,
      };
    }
    fixedOut[String(rate)] = rows;
  }
  const satOut: Record<string, Record<string, SatOut>> = {};
  for (const [level, byTarget] of load.sat) {
    const rows: Record<string, SatOut> = {};
    const tp = (id: string) => {
      const a = byTarget.get(id);
      return a ? (a.completed * 1000) / a.windowMs : undefined;
    };
    for (const t of targets) {
      const a = byTarget.get(t.id);
      if (!a) continue;
      const throughput = (a.completed * 1000) / a.windowMs;
      const ds = tp('direct-stdio');
      const dh = tp('direct-http');
      // Calls in the CPU window: the measured window plus the warm-up slice before it.
      const callsInCpuWindow = a.completed * ((S.satMs + S.satWarmMs) / S.satMs);
      rows[t.id] = {
        sessions: level,
        throughput,
        perRound: a.perRound,
        ratioToDirectStdio: ds ? throughput / ds : undefined,
        ratioToDirectHttp: dh && t.family === 'http' ? throughput / dh : undefined,
        latencyMs: summarize(a.latency.values()),
        errors: a.errors,
        firstError: a.firstError,
        clientCpuPct: median(a.clientCpu),
        gatewayCpuUsPerCall: t.hasGateway ? (a.gatewayCpuMs * 1000) / callsInCpuWindow : undefined,
        upstreamCpuUsPerCall: (a.upstreamCpuMs * 1000) / callsInCpuWindow,
      };
    }
    satOut[String(level)] = rows;
  }
  return { fixed: fixedOut, saturation: satOut };
}

interface TargetCheck {
  target: string;
  goal: string;
  measured: string;
  met: boolean | null;
}

function evaluate(results: ReturnType<typeof buildResults>, memory: MemoryResult[], audit: AuditResult[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const f1000 = results.fixed['1000'] ?? {};
  for (const id of ['pc-stdio-all', 'pc-stdio-all-write']) {
    const a = f1000[id]?.addedVsDirectStdioMs;
    if (!a) continue;
    const label = id === 'pc-stdio-all' ? 'all guards, audit fsync' : 'all guards, audit write';
    checks.push({ target: `added latency p50, stdio, 1,000 calls/s (${label})`, goal: '≤ 0.25 ms', measured: `${signed(a.p50)} ms`, met: a.p50 <= 0.25 });
    checks.push({ target: `added latency p99, stdio, 1,000 calls/s (${label})`, goal: '≤ 1 ms', measured: `${signed(a.p99)} ms`, met: a.p99 <= 1 });
  }
  const plural = (level: string) => `${level} session${level === '1' ? '' : 's'}`;
  for (const [level, rows] of Object.entries(results.saturation)) {
    for (const id of ['pc-stdio-all', 'pc-stdio-all-write', 'pc-http-all', 'pc-http-all-write']) {
      const r = rows[id];
      if (!r) continue;
      const stdio = id.startsWith('pc-stdio');
      const ratio = stdio ? r.ratioToDirectStdio : r.ratioToDirectHttp;
      if (ratio === undefined) continue;
      checks.push({ target: `throughput at saturation vs direct ${stdio ? 'stdio' : 'HTTP'}, ${plural(level)} (${id})`, goal: '≥ 0.6×', measured: `${f2(ratio)}×`, met: ratio >= 0.6 });
    }
  }
  for (const [level, rows] of Object.entries(results.saturation)) {
    for (const id of ['pc-http-all', 'pc-http-all-write']) {
      for (const other of ['mcp-proxy', 'supergateway']) {
        const pc = rows[id];
        const o = rows[other];
        if (!pc || !o) continue;
        const ratio = pc.throughput / o.throughput;
        checks.push({ target: `${id} vs ${other} throughput, ${plural(level)}`, goal: '≥ 1.5×', measured: `${f2(ratio)}× (${f0(pc.throughput)} vs ${f0(o.throughput)} calls/s)`, met: ratio >= 1.5 });
        checks.push({ target: `${id} vs ${other} p99 at saturation, ${plural(level)}`, goal: 'lower', measured: `${f3(pc.latencyMs.p99)} vs ${f3(o.latencyMs.p99)} ms`, met: pc.latencyMs.p99 < o.latencyMs.p99 });
      }
    }
  }
  for (const id of ['pc-http-all', 'pc-http-all-write']) {
    for (const other of ['mcp-proxy', 'supergateway']) {
      const pc = f1000[id];
      const o = f1000[other];
      if (!pc || !o) continue;
      checks.push({ target: `${id} vs ${other} p99 at 1,000 calls/s (SDK client)`, goal: 'lower', measured: `${f3(pc.latencyMs.p99)} vs ${f3(o.latencyMs.p99)} ms`, met: pc.latencyMs.p99 < o.latencyMs.p99 });
    }
  }
  const durable = audit.find((a) => a.durability === 'fsync' && a.mode === 'burst');
  if (durable) checks.push({ target: 'durable (fsync) audit records/s, burst', goal: '≥ 50,000/s', measured: `${f0(durable.recordsPerSec)}/s`, met: durable.recordsPerSec >= 50_000 });
  const pc = memory.find((m) => m.id === 'pc-http-all');
  if (pc) {
    checks.push({ target: 'RSS idle (portcullis serve process, upstream excluded)', goal: '≤ 80 MB', measured: `${f1(pc.idleMB)} MB`, met: pc.idleMB <= 80 });
    if (pc.withSessionsMB !== undefined) {
      checks.push({
        target: `RSS with ${pc.sessions} open sessions (upstream excluded)`,
        goal: '≤ 200 MB (at 1,000)',
        measured: `${f1(pc.withSessionsMB)} MB`,
        met: pc.sessions >= 1000 ? pc.withSessionsMB <= 200 : null,
      });
    }
  }
  return checks;
}

function markdown(meta: ReturnType<typeof machine> & { cpuBusyPctAtStart: number }, phaseLoad: Record<string, number>, targets: Target[], results: ReturnType<typeof buildResults>, memory: MemoryResult[], startup: StartupResult[], audit: AuditResult[], features: FeatureStatus, checks: TargetCheck[], profiles: ProfileResult[], command: string, seconds: number): string {
  const L: string[] = [];
  L.push(`## Results (${QUICK ? 'QUICK smoke run: too short to quote' : 'full run'})`, '');
  L.push(`Machine: ${meta.nproc} cores, ${meta.cpuModel}${meta.cpuMHz ? ` @ ${meta.cpuMHz.toFixed(0)} MHz` : ''}, ${meta.memTotalGB} GB RAM, Node ${meta.node}, Linux ${meta.kernel}, temp/audit files on ${meta.tmpFilesystem}. CPU busy with other work just before the start: ${meta.cpuBusyPctAtStart}%; load average (1/5/15 min) at start: ${meta.loadavgAtStart.join(' / ')}; 1-min at the end of each phase: ${Object.entries(phaseLoad).map(([k, v]) => `${k} ${v}`).join(', ')}.`);
  L.push(`Versions: portcullis ${meta.versions.portcullis} (${meta.versions.commit}), @modelcontextprotocol/sdk ${meta.versions.sdk}, mcp-proxy ${meta.versions.mcpProxy}, supergateway ${meta.versions.supergateway}.`);
  L.push(`Command: \`${command}\` — ran ${seconds.toFixed(0)} s. Call: \`tools/call\` with ${ARG_BYTES} B of arguments, ${RESULT_BYTES} B text result.`, '');

  L.push('### Configurations', '', '| id | path | guards | audit |', '|---|---|---|---|');
  for (const t of targets) L.push(`| ${t.id} | ${t.path} | ${t.guards} | ${t.audit} |`);
  L.push('');

  for (const rate of ['1000', '100']) {
    const rows = results.fixed[rate];
    if (!rows) continue;
    L.push(`### Latency at ${Number(rate).toLocaleString('en-US')} calls/s (SDK client, one session, open loop; ms from the scheduled send time)`, '');
    L.push('| config | achieved/s | p50 | p99 | p99.9 | added vs direct stdio p50 / p99 / p99.9 | added vs direct HTTP p50 / p99 / p99.9 | errors |', '|---|---:|---:|---:|---:|---|---|---:|');
    for (const t of targets) {
      const r = rows[t.id];
      if (!r) continue;
      const a = r.addedVsDirectStdioMs;
      const h = r.addedVsDirectHttpMs;
      L.push(`| ${t.id} | ${f0(r.achievedRate)} | ${f3(r.latencyMs.p50)} | ${f3(r.latencyMs.p99)} | ${f3(r.latencyMs.p999)} | ${a ? `${signed(a.p50)} / ${signed(a.p99)} / ${signed(a.p999)}` : 'baseline'} | ${h ? `${signed(h.p50)} / ${signed(h.p99)} / ${signed(h.p999)}` : t.id === 'direct-http' ? 'baseline' : '—'} | ${r.errors} |`);
    }
    const lag = rows['direct-stdio']?.sendLagMs;
    if (lag) L.push('', `Send lag (timer granularity, same for all configurations; included above, cancels in "added"): p50 ${f3(lag.p50)} ms, p99 ${f3(lag.p99)} ms.`);
    L.push('');
  }

  L.push('### Saturation (lean client: raw keep-alive HTTP / raw stdio lines; closed loop)', '');
  L.push('HTTP: N sessions, one call in flight each. stdio: one connection (stdio carries one session), N calls in flight. Ratios: stdio configurations against direct stdio, HTTP configurations against direct HTTP.', '');
  const levels = Object.keys(results.saturation);
  L.push(`| config | ${levels.map((l) => `calls/s @${l}`).join(' | ')} | ${levels.map((l) => `ratio @${l}`).join(' | ')} | ${levels.map((l) => `p99 ms @${l}`).join(' | ')} | gateway CPU µs/call @8 | client CPU % @8 |`);
  L.push(`|---|${levels.map(() => '---:').join('|')}|${levels.map(() => '---:').join('|')}|${levels.map(() => '---:').join('|')}|---:|---:|`);
  for (const t of targets) {
    const cells = levels.map((l) => results.saturation[l][t.id]);
    if (cells.every((c) => !c)) continue;
    const ratio = (c: SatOut | undefined) => (c ? (t.family === 'stdio' ? c.ratioToDirectStdio : c.ratioToDirectHttp) : undefined);
    const at8 = results.saturation['8']?.[t.id];
    L.push(`| ${t.id} | ${cells.map((c) => f0(c?.throughput)).join(' | ')} | ${cells.map((c) => (t.id.startsWith('direct') ? '1.00' : f2(ratio(c)))).join(' | ')} | ${cells.map((c) => f3(c?.latencyMs.p99)).join(' | ')} | ${f0(at8?.gatewayCpuUsPerCall)} | ${f0(at8?.clientCpuPct)} |`);
  }
  const satErrors = Object.values(results.saturation).flatMap((rows) => Object.entries(rows).filter(([, r]) => r.errors > 0).map(([id, r]) => `${id} @${r.sessions}: ${r.errors} (${r.firstError})`));
  if (satErrors.length) L.push('', `Errors: ${satErrors.join('; ')}`);
  L.push('');

  L.push('### Memory (RSS of the gateway/proxy process; its upstream reported separately)', '');
  L.push('| process | idle MB | upstream idle MB | sessions | with sessions MB | upstream MB | note |', '|---|---:|---:|---:|---:|---:|---|');
  for (const m of memory) L.push(`| ${m.id} | ${f1(m.idleMB)} | ${m.id === 'direct-http' ? '—' : f1(m.idleUpstreamMB)} | ${m.sessions || '—'} | ${f1(m.withSessionsMB)} | ${f1(m.withSessionsUpstreamMB)} | ${m.note ?? ''} |`);
  L.push('');

  L.push('### Start-up (spawn → first answered `initialize`)', '', '| what | median ms | runs (ms) |', '|---|---:|---|');
  for (const s of startup) L.push(`| ${s.what} | ${f0(s.medianMs)} | ${s.ms.map((v) => v.toFixed(0)).join(', ')} |`);
  L.push('');

  L.push('### Audit log (AuditLog opened directly; records like the gateway\'s call/result pair, 1 KB arguments)', '', '| durability | load | records | records/s | bytes/record |', '|---|---|---:|---:|---:|');
  for (const a of audit) L.push(`| ${a.durability} | ${a.mode} | ${f0(a.records)} | ${f0(a.recordsPerSec)} | ${f0(a.bytesPerRecord)} |`);
  L.push('');

  L.push('### Features', '');
  L.push(`- guards in the all-guards chain (the CLI's default chain for the bench config): ${features.guards.join(', ')}`);
  L.push(`- output sanitising/screening: ${features.outputScreening.status}${features.outputScreening.mbPerSec ? ` — ${f1(features.outputScreening.mbPerSec)} MB/s (${features.outputScreening.guards?.join(', ')})` : ''}`);
  L.push(`- flow tracking: ${features.flowTracking.status}`);
  L.push(`- sandbox: ${features.sandbox.status}`);
  const o = features.sandbox.overhead;
  if (o) {
    L.push(
      `- sandbox cost (demo CRM server through an in-process gateway, ${o.runs} starts and ${o.calls} calls per variant, medians): ` +
        `start-up ${o.startup.plainMs} → ${o.startup.sandboxedMs} ms (+${o.startup.overheadMs} ms), per call ${o.perCall.plainMs} → ${o.perCall.sandboxedMs} ms (+${o.perCall.overheadMs} ms)`,
    );
  }
  L.push('');

  L.push('### Targets', '', '| target | goal | measured | met |', '|---|---|---|---|');
  for (const c of checks) L.push(`| ${c.target} | ${c.goal} | ${c.measured} | ${c.met === null ? 'n/a' : c.met ? 'yes' : '**no**'} |`);
  L.push('');

  for (const p of profiles) {
    L.push(`### CPU profile: ${p.config}, ${f0(p.throughput)} calls/s`, '', profileMarkdown(p.summary, p.calls), '');
  }
  return L.join('\n');
}

/** Share of all cores busy (any process) over `ms`, from /proc/stat. */
async function machineBusyPct(ms: number): Promise<number> {
  const read = () => {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3] + (f[4] ?? 0);
    return { idle, total: f.reduce((a, b) => a + b, 0) };
  };
  try {
    const a = read();
    await new Promise((r) => setTimeout(r, ms));
    const b = read();
    return b.total > a.total ? (1 - (b.idle - a.idle) / (b.total - a.total)) * 100 : 0;
  } catch {
    return 0;
  }
}

/**
 * The machine is shared. Before a full run, wait (up to --wait-quiet seconds,
 * default 90 for a full run, 0 for --quick) until other processes use less
 * than a quarter of the cores, so the run starts on a quiet machine.
 */
async function waitQuiet(): Promise<number> {
  const limit = Number(value('--wait-quiet') ?? (QUICK ? 0 : 90));
  let busy = await machineBusyPct(1000);
  const until = performance.now() + limit * 1000;
  while (busy > 25 && performance.now() < until) {
    log(`waiting for a quiet machine: ${busy.toFixed(0)}% of the CPUs busy with other work`);
    busy = await machineBusyPct(3000);
  }
  return Math.round(busy);
}

// ---- main ----------------------------------------------------------------------------------------

async function main(): Promise<void> {
  checkInstalled();
  const busyAtStart = await waitQuiet();
  const meta = { ...machine(), cpuBusyPctAtStart: busyAtStart };
  const command = `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
  log(`${QUICK ? 'quick' : 'full'} run on ${meta.nproc} × ${meta.cpuModel}, Node ${meta.node}, load average ${meta.loadavgAtStart[0]}`);
  let targets = allTargets();
  if (ONLY) targets = targets.filter((t) => ONLY.includes(t.id));

  const phaseLoad: Record<string, number> = {};
  const mark = (phase: string) => (phaseLoad[phase] = Math.round(loadavg()[0] * 100) / 100);
  const startup = PHASES.has('startup') ? await startupPhase() : [];
  mark('startup');
  const memory = PHASES.has('memory') ? await memoryPhase() : [];
  mark('memory');
  const audit = PHASES.has('audit') ? await auditPhase() : [];
  mark('audit');
  const features = await featurePhase();
  let load: Awaited<ReturnType<typeof loadPhase>> = { fixed: new Map(), sat: new Map() };
  if (PHASES.has('load')) {
    try {
      load = await loadPhase(targets);
    } finally {
      log('stopping configurations');
      await Promise.all(targets.map((t) => t.teardown().catch(() => {})));
    }
  }
  mark('load');
  const profiles = PROFILE && PHASES.has('profile') ? await profilePhase() : [];
  mark('profile');
  const results = buildResults(targets, load);
  const checks = evaluate(results, memory, audit);
  const seconds = (performance.now() - started) / 1000;
  const json = {
    schema: 'portcullis-bench/1',
    date: new Date().toISOString(),
    command,
    quick: QUICK,
    seconds: Math.round(seconds),
    machine: { ...meta, loadavgAtEnd: loadavg().map((l) => Math.round(l * 100) / 100), loadavg1AtEndOfPhase: phaseLoad },
    settings: { ...S, seed: SEED, argBytes: ARG_BYTES, resultBytes: RESULT_BYTES },
    configs: targets.map((t) => ({ id: t.id, label: t.label, family: t.family, path: t.path, guards: t.guards, audit: t.audit })),
    notes: {
      latency: 'fixed-rate latency is measured from the scheduled send time (open loop); added = percentile(config) − percentile(baseline), same run',
      saturation: 'lean client; HTTP: N sessions × 1 in flight; stdio: 1 connection × N in flight; throughput = completed calls in the measured windows / window time',
      cpu: 'gatewayCpuUsPerCall / upstreamCpuUsPerCall from /proc utime+stime (10 ms ticks) over the slice incl. its warm-up',
      relay: 'relay = Gateway.start({ guards: [] }) with audit durability write (records still written, not fsynced) and no sandbox',
    },
    fixed: results.fixed,
    saturation: results.saturation,
    memory,
    startup,
    audit,
    features,
    targets: checks,
    profiles: profiles.map((p) => ({ config: p.config, calls: p.calls, throughput: p.throughput, ...p.summary, file: p.summary.file.replace(ROOT + '/', '') })),
  };
  mkdirSync(dirname(JSON_OUT), { recursive: true });
  writeFileSync(JSON_OUT, JSON.stringify(json, null, 2) + '\n');
  const md = markdown(meta, phaseLoad, targets, results, memory, startup, audit, features, checks, profiles, command, seconds);
  if (MD_OUT) writeFileSync(MD_OUT, md + '\n');
  process.stdout.write(md + '\n');
  log(`wrote ${JSON_OUT}${MD_OUT ? ` and ${MD_OUT}` : ''}; ${seconds.toFixed(0)} s${listenerWarnings ? `; ${listenerWarnings} MaxListeners warnings suppressed (client backlog)` : ''}`);
}

try {
  await main();
} finally {
  killAll();
  await removeTempDirs().catch(() => {});
}
process.exit(0);
