import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { defineConfig } from '../config/load.js';
import type { ConfigInput } from '../config/schema.js';
import { Gateway } from '../gateway/gateway.js';
import { Identity } from '../policy/identity.js';

export interface SandboxOverhead {
  runs: number;
  calls: number;
  /** Gateway.start with one stdio server until its tools are listed (median of runs), ms. */
  startup: { plainMs: number; sandboxedMs: number; overheadMs: number };
  /** One tools/call through the gateway, in-process client, mean over calls (median of runs), ms. */
  perCall: { plainMs: number; sandboxedMs: number; overheadMs: number };
}

export interface MeasureOptions {
  /** Gateway starts per variant (default 5). */
  runs?: number;
  /** Calls per run (default 200). */
  calls?: number;
  /** The server and call to time; default: the bundled demo CRM server's read_crm_ticket. */
  server?: { command: string; args: string[]; tool: string; arguments: Record<string, unknown> };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x: number) => Math.round(x * 1000) / 1000;

/**
 * What the sandbox costs: the same stdio server through the same gateway,
 * once with `sandbox: none` and once sandboxed (bubblewrap, default policy).
 * Audit durability is 'write' so fsync noise does not hide the difference.
 * Needs a working sandbox backend (throws the gateway's start error if not).
 */
export async function measureSandboxOverhead(options: MeasureOptions = {}): Promise<SandboxOverhead> {
  const runs = options.runs ?? 5;
  const calls = options.calls ?? 200;
  const server = options.server ?? {
    command: process.execPath,
    args: [fileURLToPath(new URL('../demo/servers/crm.js', import.meta.url))],
    tool: 'read_crm_ticket',
    arguments: { ticket_id: 'T-1001' },
  };
  const once = async (sandboxed: boolean) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'portcullis-measure-'));
    const input: ConfigInput = {
      audit: { durability: 'write' },
      servers: { s: { command: server.command, args: server.args, prefix: false, ...(sandboxed ? {} : { sandbox: 'none' as const }) } },
    };
    const { config } = defineConfig(input);
    const t0 = performance.now();
    const gateway = await Gateway.start({ config, dataDir });
    const start = performance.now() - t0;
    try {
      const client = new Client({ name: 'measure', version: '1.0.0' });
      await client.connect(await gateway.connect(new Identity({ name: 'bench', allowedTools: ['*'] })));
      for (let i = 0; i < 10; i++) await client.callTool({ name: server.tool, arguments: server.arguments });
      const c0 = performance.now();
      for (let i = 0; i < calls; i++) await client.callTool({ name: server.tool, arguments: server.arguments });
      const call = (performance.now() - c0) / calls;
      await client.close();
      return { start, call };
    } finally {
      await gateway.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  };
  // Interleaved (plain, sandboxed, plain, ...) so drift in machine load hits both alike.
  const results = { plain: { start: [] as number[], call: [] as number[] }, boxed: { start: [] as number[], call: [] as number[] } };
  for (let r = 0; r < runs; r++) {
    for (const sandboxed of r % 2 === 0 ? [false, true] : [true, false]) {
      const m = await once(sandboxed);
      const into = sandboxed ? results.boxed : results.plain;
      into.start.push(m.start);
      into.call.push(m.call);
    }
  }
  const plain = { start: median(results.plain.start), call: median(results.plain.call) };
  const boxed = { start: median(results.boxed.start), call: median(results.boxed.call) };
  return {
    runs,
    calls,
    startup: { plainMs: round(plain.start), sandboxedMs: round(boxed.start), overheadMs: round(boxed.start - plain.start) },
    perCall: { plainMs: round(plain.call), sandboxedMs: round(boxed.call), overheadMs: round(boxed.call - plain.call) },
  };
}
