/**
 * A narrow A/B harness for the stdio path: the bench server direct, through
 * the relay (`gateway-entry.js stdio --guards none`, audit write) and through
 * `portcullis stdio` with all guards (audit write), one lean raw-line
 * connection each, interleaved round by round. Per configuration: p50/p99 at
 * a fixed 1,000 calls/s, closed-loop throughput with 8 in flight, and the
 * gateway process's CPU per call (from /proc) in both. `--before DIR` adds the
 * relay and all-guards configurations of another build (DIR holds its `dist`),
 * so a change is compared with its parent under the same machine noise.
 *
 *   node dist/bench/stdio-relay.js [--rounds 3] [--ms 2000] [--before /path/to/checkout]
 *
 * CPU per call is the steadier figure on a busy machine: at 1,000 calls/s the
 * gateway is idle between calls, so a call's added latency is mostly the CPU
 * it spends on the way plus two pipe hops.
 */
import { join } from 'node:path';
import { LeanStdioConnection } from './lib/clients.js';
import { closedLoop, fixedRate } from './lib/load.js';
import { cpuMs } from './lib/procs.js';
import { median, percentile } from './lib/stats.js';
import { CLI_JS, ENTRY_JS, NODE, SERVER_JS, childEnv, removeTempDirs, writeConfig } from './lib/targets.js';
import { GATEWAY_TOOL_NAME, TOOL_NAME } from './lib/payload.js';

function option(name: string, fallback?: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : fallback;
}

const rounds = Number(option('rounds', '3'));
const ms = Number(option('ms', '2000'));
const before = option('before');
const relay = await writeConfig('write', 'relay');
const all = await writeConfig('write', 'all');

const configs: Record<string, { args: string[]; tool: string }> = {
  direct: { args: [SERVER_JS], tool: TOOL_NAME },
  relay: { args: [ENTRY_JS, 'stdio', '--config', relay.file, '--data', relay.dataDir, '--identity', 'bench', '--guards', 'none'], tool: GATEWAY_TOOL_NAME },
  'all-write': { args: [CLI_JS, 'stdio', '--identity', 'bench', '--config', all.file, '--data', all.dataDir], tool: GATEWAY_TOOL_NAME },
};
if (before) {
  configs['relay (before)'] = { args: [join(before, 'dist/bench/gateway-entry.js'), 'stdio', '--config', relay.file, '--data', `${relay.dataDir}-before`, '--identity', 'bench', '--guards', 'none'], tool: GATEWAY_TOOL_NAME };
  configs['all-write (before)'] = { args: [join(before, 'dist/src/cli/main.js'), 'stdio', '--identity', 'bench', '--config', all.file, '--data', `${all.dataDir}-before`], tool: GATEWAY_TOOL_NAME };
}

const names = Object.keys(configs);
const conns = new Map<string, LeanStdioConnection>();
for (const name of names) conns.set(name, await LeanStdioConnection.open(NODE, configs[name].args, childEnv(), configs[name].tool));
const lat = new Map(names.map((n) => [n, [] as number[]]));
const cpuAtRate = new Map(names.map((n) => [n, [] as number[]]));
const cpuSat = new Map(names.map((n) => [n, [] as number[]]));
const sat = new Map(names.map((n) => [n, [] as number[]]));

for (const name of names) await fixedRate(conns.get(name)!, 500, 500); // warm-up (JIT, caches)
for (let r = 0; r < rounds; r++) {
  for (const name of names) {
    const conn = conns.get(name)!;
    const cpu0 = cpuMs(conn.proc.pid);
    const f = await fixedRate(conn, 1000, ms);
    cpuAtRate.get(name)!.push(((cpuMs(conn.proc.pid) - cpu0) * 1000) / f.completed);
    lat.get(name)!.push(...f.latency.values());
  }
  for (const name of names) {
    const conn = conns.get(name)!;
    const cpu0 = cpuMs(conn.proc.pid);
    const c = await closedLoop([conn], 8, ms, 0);
    cpuSat.get(name)!.push(((cpuMs(conn.proc.pid) - cpu0) * 1000) / c.completed);
    sat.get(name)!.push(c.throughput);
  }
}

const pct = (values: number[], q: number) => percentile(Float64Array.from(values).sort(), q);
const direct = { p50: pct(lat.get('direct')!, 0.5), p99: pct(lat.get('direct')!, 0.99), sat: median(sat.get('direct')!) };
console.log('| config | p50 ms | p99 ms | added p50 / p99 ms | CPU µs/call at 1,000/s | calls/s, 8 in flight | × direct | CPU µs/call, 8 in flight |');
console.log('|---|---:|---:|---|---:|---:|---:|---:|');
for (const name of names) {
  const p50 = pct(lat.get(name)!, 0.5);
  const p99 = pct(lat.get(name)!, 0.99);
  const tput = median(sat.get(name)!);
  const added = name === 'direct' ? 'baseline' : `+${(p50 - direct.p50).toFixed(3)} / +${(p99 - direct.p99).toFixed(3)}`;
  console.log(`| ${name} | ${p50.toFixed(3)} | ${p99.toFixed(3)} | ${added} | ${median(cpuAtRate.get(name)!).toFixed(0)} | ${tput.toFixed(0)} | ${(tput / direct.sat).toFixed(2)} | ${median(cpuSat.get(name)!).toFixed(0)} |`);
}
for (const conn of conns.values()) await conn.close();
await removeTempDirs();
process.exit(0);
