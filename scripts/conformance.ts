#!/usr/bin/env node
/**
 * `npm run conformance` — the MCP conformance suite, run straight against a
 * server and through Portcullis in front of the same server, compared check
 * by check.
 *
 * Targets:
 *   conformance-server  test/fixtures/conformance-server.ts: passes every
 *                       active scenario directly, so every scenario is
 *                       exercised through the gateway;
 *   server-everything   @modelcontextprotocol/server-everything (fails many
 *                       scenarios even directly: its results must simply be
 *                       the same through the gateway).
 * For each target the suite runs against the server's own Streamable HTTP
 * endpoint, then against the gateway fronting it — once as a stdio upstream,
 * once as a Streamable HTTP upstream.
 *
 * A gateway run passes when every check has the status it had directly. The
 * only differences allowed are improvements on checks the gateway itself owns
 * (GATEWAY_OWNED_CHECKS: the HTTP front — DNS-rebinding protection, SSE
 * stream handling). Exit status: 0 all good, 1 a difference or a failure of
 * the conformance fixture, 2 the harness could not run.
 *
 * Raw results go to .conformance/ (results.json, raw/<run>/, logs/<run>.log).
 *
 * The suite needs Node >= 22: under an older node it runs on the node that
 * `npx -y node@22` provides (or $CONFORMANCE_NODE). All traffic stays on
 * 127.0.0.1.
 *
 * Options:
 *   --suite active|all     scenarios to run (default: active, 30 scenarios)
 *   --target NAME[,NAME]   conformance-server, server-everything (default: both)
 *   --upstream KIND[,KIND] stdio, http (default: both)
 *   --direct-only          skip the gateway runs
 *   --gateway-cli PATH     gateway entry point (default: dist/src/cli/main.js)
 *   --timeout SECONDS      bound for one suite run (default: 240)
 *   --verbose              show children's output and every row even when all agree
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import YAML from 'yaml';

// ---------------------------------------------------------------------------
// What the gateway owns
// ---------------------------------------------------------------------------

/**
 * Checks about the HTTP front rather than the MCP server behind it. Through
 * the gateway these are answered by Portcullis itself, so they may differ from
 * the direct run — but only for the better.
 */
const GATEWAY_OWNED_CHECKS: Record<string, string[]> = {
  'dns-rebinding-protection': ['localhost-host-rebinding-rejected', 'localhost-host-valid-accepted'],
  'server-sse-multiple-streams': [
    'server-sse-multiple-streams-session',
    'server-accepts-multiple-post-streams',
    'server-sse-streams-functional',
  ],
  // pending scenario (--suite all)
  'server-sse-polling': [
    'server-sse-polling-session',
    'server-sse-priming-event',
    'server-sse-retry-field',
    'server-sse-disconnect-resume',
  ],
};

function gatewayOwned(scenario: string, checkId: string): boolean {
  return GATEWAY_OWNED_CHECKS[scenario]?.includes(checkId) ?? false;
}

// ---------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------

type TargetName = 'conformance-server' | 'server-everything';
type Upstream = 'stdio' | 'http';

interface Options {
  suite: 'active' | 'all';
  targets: TargetName[];
  upstreams: Upstream[];
  directOnly: boolean;
  gatewayCli: string;
  timeoutMs: number;
  verbose: boolean;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const OUT_DIR = path.join(ROOT, '.conformance');
const CONFORMANCE_CLI = path.join(ROOT, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');
const EVERYTHING = path.join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const FIXTURE = path.join(ROOT, 'dist/test/fixtures/conformance-server.js');
const LOOPBACK_PRELOAD = path.join(ROOT, 'dist/scripts/conformance-loopback.js');

class UsageError extends Error {}
class HarnessError extends Error {}

function parseOptions(argv: string[]): Options {
  const options: Options = {
    suite: 'active',
    targets: ['conformance-server', 'server-everything'],
    upstreams: ['stdio', 'http'],
    directOnly: false,
    gatewayCli: path.join(ROOT, 'dist/src/cli/main.js'),
    timeoutMs: 240_000,
    verbose: false,
  };
  const list = <T extends string>(value: string | undefined, allowed: readonly T[], flag: string): T[] => {
    const items = (value ?? '').split(',').filter(Boolean);
    for (const item of items) {
      if (!allowed.includes(item as T)) throw new UsageError(`${flag}: unknown value '${item}' (allowed: ${allowed.join(', ')})`);
    }
    if (items.length === 0) throw new UsageError(`${flag} needs a value`);
    return items as T[];
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].includes('=') ? argv[i].split(/=(.*)/s, 2) : [argv[i], undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--suite': {
        const suite = value();
        if (suite !== 'active' && suite !== 'all') throw new UsageError(`--suite must be active or all`);
        options.suite = suite;
        break;
      }
      case '--target':
        options.targets = list(value(), ['conformance-server', 'server-everything'] as const, '--target');
        break;
      case '--upstream':
        options.upstreams = list(value(), ['stdio', 'http'] as const, '--upstream');
        break;
      case '--direct-only':
        options.directOnly = true;
        break;
      case '--gateway-cli':
        options.gatewayCli = path.resolve(value() ?? '');
        break;
      case '--timeout': {
        const seconds = Number(value());
        if (!(seconds > 0)) throw new UsageError('--timeout needs a positive number of seconds');
        options.timeoutMs = seconds * 1000;
        break;
      }
      case '--verbose':
        options.verbose = true;
        break;
      case '-h':
      case '--help': {
        const source = readFileSync(fileURLToPath(import.meta.url), 'utf8');
        const doc = /\/\*\*([\s\S]*?)\*\//.exec(source)?.[1] ?? '';
        process.stdout.write(doc.replace(/^ \* ?/gm, '') + '\n');
        process.exit(0);
      }
      default:
        throw new UsageError(`unknown option: ${argv[i]}`);
    }
  }
  return options;
}

// ---------------------------------------------------------------------------
// Child processes (all killed on exit, by process group)
// ---------------------------------------------------------------------------

interface Child {
  name: string;
  proc: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  stop: () => Promise<void>;
}

const children = new Set<Child>();
const MAX_LOG = 256 * 1024;

function killGroup(proc: ChildProcess, signal: NodeJS.Signals) {
  if (proc.pid === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
  try {
    process.kill(-proc.pid, signal);
  } catch {
    try {
      proc.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

function startChild(
  name: string,
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; logFile: string; onStdout?: (chunk: string) => void },
): Child {
  const proc = spawn(command, args, {
    cwd: ROOT,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // own process group, so grandchildren (stdio upstreams, npx) are stopped too
  });
  let log = '';
  const append = (chunk: Buffer) => {
    log += chunk.toString('utf8');
    if (log.length > MAX_LOG) log = log.slice(-MAX_LOG);
  };
  proc.stdout!.on('data', (chunk: Buffer) => {
    append(chunk);
    options.onStdout?.(chunk.toString('utf8'));
  });
  proc.stderr!.on('data', append);
  const exited = new Promise<number | null>((resolve) => {
    proc.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : null)));
    proc.on('error', (error) => {
      log += `\n[spawn error] ${error.message}\n`;
      resolve(null);
    });
  });
  const child: Child = {
    name,
    proc,
    output: () => log,
    exited,
    stop: async () => {
      killGroup(proc, 'SIGTERM');
      const timer = setTimeout(() => killGroup(proc, 'SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
      children.delete(child);
      writeFileSync(options.logFile, log);
    },
  };
  void exited.then(() => writeFileSync(options.logFile, log));
  children.add(child);
  return child;
}

function killAllChildren() {
  for (const child of children) killGroup(child.proc, 'SIGKILL');
}
process.on('exit', killAllChildren);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    killAllChildren();
    process.exit(130);
  });
}

function timeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new HarnessError(`${what}: timed out after ${Math.round(ms / 1000)} s`)), ms);
    }),
  ]);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolve(false);
    });
  });
}

async function waitForPort(child: Child, port: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  let exited = false;
  void child.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new HarnessError(`${child.name} exited before listening on 127.0.0.1:${port}`);
    if (await portOpen(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new HarnessError(`${child.name} did not listen on 127.0.0.1:${port} within ${ms / 1000} s`);
}

// ---------------------------------------------------------------------------
// Node 22 for the conformance CLI
// ---------------------------------------------------------------------------

function node22(): string {
  if (Number(process.versions.node.split('.')[0]) >= 22) return process.execPath;
  const fromEnv = process.env.CONFORMANCE_NODE;
  if (fromEnv) return fromEnv;
  const result = spawnSync('npx', ['-y', 'node@22', '-p', 'process.execPath'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 300_000,
  });
  const found = result.stdout?.trim().split('\n').pop()?.trim();
  if (result.status !== 0 || !found || !existsSync(found)) {
    throw new HarnessError(
      `could not get Node 22 for the conformance CLI (npx -y node@22): ${result.error?.message ?? result.stderr?.trim() ?? 'no output'}\n` +
        `Set CONFORMANCE_NODE to a Node >= 22 binary.`,
    );
  }
  return found;
}

// ---------------------------------------------------------------------------
// One suite run
// ---------------------------------------------------------------------------

type Status = 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | 'SKIPPED' | 'MISSING';

interface Check {
  id: string;
  name?: string;
  description?: string;
  status: Status;
  errorMessage?: string;
  details?: unknown;
}

interface RunResult {
  key: string;
  label: string;
  target: TargetName;
  via: 'direct' | `gateway/${Upstream}`;
  url: string;
  ok: boolean;
  error?: string;
  seconds?: number;
  scenarios: Record<string, Check[]>;
}

async function runSuite(
  node: string,
  options: Options,
  key: string,
  url: string,
  expectedScenarios: string[] | undefined,
): Promise<{ scenarios: Record<string, Check[]>; error?: string; order: string[]; seconds: number }> {
  const started = Date.now();
  const rawDir = path.join(OUT_DIR, 'raw', key);
  rmSync(rawDir, { recursive: true, force: true });
  mkdirSync(rawDir, { recursive: true });
  const child = startChild(
    `conformance suite (${key})`,
    node,
    [CONFORMANCE_CLI, 'server', '--url', url, '--suite', options.suite, '-o', rawDir],
    { logFile: path.join(OUT_DIR, 'logs', `${key}.suite.log`) },
  );
  let error: string | undefined;
  try {
    await timeout(child.exited, options.timeoutMs, `conformance suite against ${url}`);
  } catch (e) {
    error = (e as Error).message;
  }
  await child.stop();
  const output = child.output();

  const order = [...output.matchAll(/^=== Running scenario: (\S+) ===$/gm)].map((m) => m[1]);
  const scenarios: Record<string, Check[]> = {};
  for (const entry of readdirSync(rawDir)) {
    const match = /^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/.exec(entry);
    const file = path.join(rawDir, entry, 'checks.json');
    if (!match || !existsSync(file)) continue;
    scenarios[match[1]] = JSON.parse(readFileSync(file, 'utf8')) as Check[];
  }
  // A scenario that threw (or never ran) leaves no checks.json: record that as a failure.
  const failedToRun = new Map<string, string>();
  for (const m of output.matchAll(/^Failed to run scenario (\S+): (.*)$/gm)) failedToRun.set(m[1], m[2]);
  for (const scenario of new Set([...order, ...(expectedScenarios ?? [])])) {
    if (scenarios[scenario]) continue;
    scenarios[scenario] = [
      {
        id: scenario,
        status: 'FAILURE',
        description: 'Scenario produced no result',
        errorMessage: failedToRun.get(scenario) ?? (order.includes(scenario) ? 'no checks.json (crashed or timed out)' : 'not run'),
      },
    ];
  }
  if (order.length === 0 && !error) error = `the conformance CLI ran no scenario:\n${output.slice(-2000)}`;
  const rank = (s: string) => {
    const i = order.indexOf(s);
    return i >= 0 ? i : order.length + (expectedScenarios?.indexOf(s) ?? 0);
  };
  const sorted = Object.fromEntries(Object.entries(scenarios).sort(([a], [b]) => rank(a) - rank(b)));
  return { scenarios: sorted, error, order, seconds: Math.round((Date.now() - started) / 100) / 10 };
}

// ---------------------------------------------------------------------------
// Targets and the gateway
// ---------------------------------------------------------------------------

interface RunningServer {
  url: string;
  child: Child;
  stdioUpstream: { command: string; args: string[] };
}

async function startTarget(target: TargetName): Promise<RunningServer> {
  const logFile = path.join(OUT_DIR, 'logs', `${target}.direct-server.log`);
  if (target === 'conformance-server') {
    if (!existsSync(FIXTURE)) throw new HarnessError(`${FIXTURE} is missing: run npm run build`);
    let stdout = '';
    let resolveUrl!: (url: string) => void;
    const urlPromise = new Promise<string>((resolve) => (resolveUrl = resolve));
    const child = startChild(target, process.execPath, [FIXTURE, '--port', '0'], {
      logFile,
      onStdout: (chunk) => {
        stdout += chunk;
        const line = /^(http:\/\/\S+)\s*$/m.exec(stdout);
        if (line) resolveUrl(line[1]);
      },
    });
    const url = await timeout(
      Promise.race([
        urlPromise,
        child.exited.then((code) => {
          throw new HarnessError(`${target} exited (${code}) before printing its URL:\n${child.output()}`);
        }),
      ]),
      20_000,
      `${target} start`,
    );
    return { url, child, stdioUpstream: { command: process.execPath, args: [FIXTURE, '--stdio'] } };
  }
  if (!existsSync(EVERYTHING)) throw new HarnessError(`${EVERYTHING} is missing: run npm install`);
  const port = await freePort();
  const child = startChild(
    target,
    process.execPath,
    ['--import', pathToFileURL(LOOPBACK_PRELOAD).href, EVERYTHING, 'streamableHttp'],
    { env: { ...process.env, PORT: String(port) }, logFile },
  );
  await waitForPort(child, port, 20_000);
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    child,
    stdioUpstream: { command: process.execPath, args: [EVERYTHING, 'stdio'] },
  };
}

async function startGateway(
  options: Options,
  key: string,
  upstream: Record<string, unknown>,
): Promise<{ url: string; child: Child; dir: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-conformance-'));
  const config = {
    anonymous_identity: 'conformance',
    servers: { upstream: { ...upstream, prefix: false } },
    // The suite compares protocol behaviour; output screening is a content policy the operator chooses, so
    // here it only sanitises and redacts (what a test server sends has nothing to remove) and never withholds.
    screening: { on_flagged: 'allow', untrusted: 'allow' },
    identities: {
      conformance: {
        allowed_tools: ['*'],
        allowed_resources: ['**'],
        allowed_prompts: ['*'],
        session_ttl_seconds: 3600,
      },
    },
  };
  const configFile = path.join(dir, 'portcullis.yaml');
  writeFileSync(configFile, YAML.stringify(config));
  const port = await freePort();
  const child = startChild(
    `gateway (${key})`,
    process.execPath,
    [options.gatewayCli, 'serve', '--config', configFile, '--port', String(port), '--data', path.join(dir, 'data')],
    { logFile: path.join(OUT_DIR, 'logs', `${key}.gateway.log`) },
  );
  try {
    await waitForPort(child, port, 30_000);
  } catch (e) {
    await child.stop();
    throw new HarnessError(`${(e as Error).message}\n--- gateway output ---\n${child.output().slice(-4000)}`);
  }
  return { url: `http://127.0.0.1:${port}/mcp`, child, dir };
}

// ---------------------------------------------------------------------------
// Comparison
// ---------------------------------------------------------------------------

interface Row {
  scenario: string;
  check: string;
  statuses: Record<string, Status>; // run key -> status
  verdicts: Record<string, Verdict>; // gateway run key -> verdict
  messages: Record<string, string>;
}

type Verdict = 'same' | 'better (gateway-owned)' | 'REGRESSION' | 'DIFFERS';

const RANK: Record<Status, number> = { MISSING: 0, FAILURE: 0, SKIPPED: 0, WARNING: 1, INFO: 1, SUCCESS: 2 };

/** scenario -> "checkId" (or "checkId#2" for repeats) -> check */
function indexChecks(run: RunResult): Map<string, Map<string, Check>> {
  const index = new Map<string, Map<string, Check>>();
  for (const [scenario, checks] of Object.entries(run.scenarios)) {
    const byId = new Map<string, Check>();
    const seen = new Map<string, number>();
    for (const check of checks) {
      const n = (seen.get(check.id) ?? 0) + 1;
      seen.set(check.id, n);
      byId.set(n === 1 ? check.id : `${check.id}#${n}`, check);
    }
    index.set(scenario, byId);
  }
  return index;
}

function verdict(scenario: string, check: string, direct: Status, gateway: Status): Verdict {
  if (direct === gateway) return 'same';
  if (gatewayOwned(scenario, check.replace(/#\d+$/, '')) && RANK[gateway] > RANK[direct]) return 'better (gateway-owned)';
  if (direct === 'SUCCESS') return 'REGRESSION';
  return 'DIFFERS';
}

function compare(direct: RunResult, gateways: RunResult[]): Row[] {
  const runs = [direct, ...gateways];
  const indexes = runs.map(indexChecks);
  const scenarioOrder: string[] = [];
  for (const run of runs) for (const s of Object.keys(run.scenarios)) if (!scenarioOrder.includes(s)) scenarioOrder.push(s);
  const rows: Row[] = [];
  for (const scenario of scenarioOrder) {
    const checkOrder: string[] = [];
    for (const index of indexes) for (const id of index.get(scenario)?.keys() ?? []) if (!checkOrder.includes(id)) checkOrder.push(id);
    for (const check of checkOrder) {
      const statuses: Record<string, Status> = {};
      const messages: Record<string, string> = {};
      runs.forEach((run, i) => {
        const found = indexes[i].get(scenario)?.get(check);
        statuses[run.key] = found?.status ?? 'MISSING';
        if (found?.errorMessage) messages[run.key] = found.errorMessage;
      });
      // Request/response traces are INFO on every side that has them: not a result.
      if (Object.values(statuses).every((s) => s === 'INFO' || s === 'MISSING')) continue;
      const verdicts: Record<string, Verdict> = {};
      for (const gateway of gateways) verdicts[gateway.key] = verdict(scenario, check, statuses[direct.key], statuses[gateway.key]);
      rows.push({ scenario, check, statuses, verdicts, messages });
    }
  }
  return rows;
}

function table(headers: string[], body: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (c ?? '').padEnd(widths[i])).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

// ---------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (!existsSync(CONFORMANCE_CLI)) {
    throw new HarnessError(`${CONFORMANCE_CLI} is missing: npm install (devDependency @modelcontextprotocol/conformance)`);
  }
  if (!options.directOnly && !existsSync(options.gatewayCli)) {
    throw new HarnessError(`gateway entry point ${options.gatewayCli} is missing: npm run build (or use --direct-only)`);
  }
  rmSync(path.join(OUT_DIR, 'raw'), { recursive: true, force: true });
  rmSync(path.join(OUT_DIR, 'logs'), { recursive: true, force: true });
  mkdirSync(path.join(OUT_DIR, 'logs'), { recursive: true });
  const node = node22();
  const startedAt = new Date().toISOString();

  const results: RunResult[] = [];
  const report: { target: TargetName; rows: Row[]; runs: RunResult[] }[] = [];
  const problems: string[] = [];

  for (const target of options.targets) {
    const server = await startTarget(target);
    const runs: RunResult[] = [];
    try {
      const directKey = `${target}.direct`;
      const direct = await runSuite(node, options, directKey, server.url, undefined);
      const directRun: RunResult = {
        key: directKey,
        label: 'direct',
        target,
        via: 'direct',
        url: server.url,
        ok: !direct.error,
        error: direct.error,
        seconds: direct.seconds,
        scenarios: direct.scenarios,
      };
      runs.push(directRun);
      if (direct.error) problems.push(`${target} direct: ${direct.error}`);

      if (!options.directOnly) {
        for (const upstream of options.upstreams) {
          const key = `${target}.gateway-${upstream}`;
          const spec = upstream === 'stdio' ? server.stdioUpstream : { url: server.url };
          const run: RunResult = {
            key,
            label: `gw:${upstream}`,
            target,
            via: `gateway/${upstream}`,
            url: '',
            ok: false,
            scenarios: {},
          };
          runs.push(run);
          let gateway: Awaited<ReturnType<typeof startGateway>> | undefined;
          try {
            gateway = await startGateway(options, key, spec);
            run.url = gateway.url;
            const result = await runSuite(node, options, key, gateway.url, direct.order);
            run.scenarios = result.scenarios;
            run.error = result.error;
            run.seconds = result.seconds;
            run.ok = !result.error;
            if (result.error) problems.push(`${key}: ${result.error}\n--- gateway output (tail) ---\n${gateway.child.output().slice(-3000)}`);
          } catch (e) {
            run.error = (e as Error).message;
            problems.push(`${key}: ${run.error}`);
            // Leave every check MISSING so the comparison shows what was lost.
            for (const scenario of direct.order) run.scenarios[scenario] = [];
          } finally {
            if (gateway) {
              await gateway.child.stop();
              rmSync(gateway.dir, { recursive: true, force: true });
            }
          }
        }
      }
    } finally {
      await server.child.stop();
    }
    results.push(...runs);
    report.push({ target, runs, rows: compare(runs[0], runs.slice(1)) });
  }

  // ---- report ----
  let failed = problems.length > 0;
  const out: string[] = [];
  for (const { target, runs, rows } of report) {
    const [direct, ...gateways] = runs;
    const bad = rows.filter((r) => Object.values(r.verdicts).some((v) => v === 'REGRESSION' || v === 'DIFFERS'));
    const fixtureBroken =
      target === 'conformance-server' ? rows.filter((r) => r.statuses[direct.key] === 'FAILURE') : [];
    if (bad.length || fixtureBroken.length) failed = true;
    const passedDirect = rows.filter((r) => r.statuses[direct.key] === 'SUCCESS').length;
    const nScenarios = Object.keys(direct.scenarios).length;
    out.push(`\n== ${target} (${nScenarios} scenarios, ${rows.length} checks; ${passedDirect} pass directly) ==`);
    const body = rows.map((r) => {
      const verdicts = gateways.map((g) => r.verdicts[g.key]);
      const worst =
        verdicts.find((v) => v === 'REGRESSION') ??
        verdicts.find((v) => v === 'DIFFERS') ??
        verdicts.find((v) => v !== 'same') ??
        (gateways.length ? 'same' : '-');
      return [r.scenario, r.check, ...runs.map((run) => r.statuses[run.key]), worst];
    });
    out.push(table(['scenario', 'check', ...runs.map((r) => r.label), 'verdict'], body));
    for (const r of bad) {
      for (const g of gateways) {
        if (r.verdicts[g.key] === 'same' || r.verdicts[g.key] === 'better (gateway-owned)') continue;
        out.push(
          `  ${r.verdicts[g.key]} ${g.label} ${r.scenario}/${r.check}: direct ${r.statuses[direct.key]}` +
            `${r.messages[direct.key] ? ` (${r.messages[direct.key]})` : ''} -> ${r.statuses[g.key]}` +
            `${r.messages[g.key] ? ` (${r.messages[g.key]})` : ''}`,
        );
      }
    }
    for (const r of fixtureBroken) {
      out.push(`  FIXTURE ${r.scenario}/${r.check} fails directly: ${r.messages[direct.key] ?? ''}`);
    }
    for (const g of gateways) {
      const counts = { same: 0, better: 0, bad: 0 };
      for (const r of rows) {
        const v = r.verdicts[g.key];
        if (v === 'same') counts.same++;
        else if (v === 'better (gateway-owned)') counts.better++;
        else counts.bad++;
      }
      out.push(
        `  ${g.label}: ${counts.same} same, ${counts.better} better (gateway-owned), ${counts.bad} regressed/differ` +
          (g.seconds !== undefined ? ` (suite ${g.seconds} s, direct ${direct.seconds} s)` : '') +
          (g.error ? `  [run error: ${g.error.split('\n')[0]}]` : ''),
      );
    }
  }

  const resultsFile = path.join(OUT_DIR, 'results.json');
  writeFileSync(
    resultsFile,
    JSON.stringify(
      {
        startedAt,
        finishedAt: new Date().toISOString(),
        suite: options.suite,
        conformanceNode: node,
        gatewayOwnedChecks: GATEWAY_OWNED_CHECKS,
        runs: results,
        comparisons: report.map(({ target, rows }) => ({ target, rows })),
        problems,
        passed: !failed,
      },
      null,
      2,
    ),
  );

  process.stdout.write(out.join('\n') + '\n');
  if (problems.length) process.stdout.write(`\nProblems:\n${problems.map((p) => `- ${p}`).join('\n')}\n`);
  if (options.verbose || failed) process.stdout.write(`\nRaw results: ${path.relative(ROOT, resultsFile)}, logs in .conformance/logs/\n`);
  process.stdout.write(
    failed
      ? '\nconformance: FAILED\n'
      : options.directOnly
        ? '\nconformance: OK (direct runs only)\n'
        : '\nconformance: OK: every check has the same result through the gateway (or a better one on a gateway-owned check)\n',
  );
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`conformance: ${error.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`conformance: ${error instanceof HarnessError ? error.message : (error as Error)?.stack ?? String(error)}\n`);
    process.exit(2);
  },
);
