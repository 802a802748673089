/**
 * `portcullis scan --connect`: starts each server of the scanned client
 * configs the way the gateway would (stdio servers sandboxed, no network),
 * reads what it offers, and checks every definition for poisoning — across
 * servers too, since shadowing is one server's description aimed at another's tool.
 */
import { stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import type { Prompt, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';
import { defineConfig } from '../config/load.js';
import type { ConfigInput } from '../config/schema.js';
import { firstLine, observeServers, type Observation } from '../gateway/observe.js';
import type { ClientConfigFile, ConfiguredServer } from './client-config.js';
import { checkOffers, type PoisonFinding, type ServerOffer } from './poisoning.js';

export interface ConnectedServer {
  server: ConfiguredServer;
  config: ClientConfigFile;
  /** Why it could not be started and listed, if it could not. */
  error?: string;
}

export interface ConnectOutcome {
  servers: ConnectedServer[];
  /** Poisoning findings, `server` being the client config's server name. */
  findings: { finding: PoisonFinding; server: ConfiguredServer; config: ClientConfigFile }[];
}

const REFERENCE = /\$\{[^}]*\}/;

/** The server as a Portcullis server entry: client-side `${…}` references cannot be resolved here and are left out. */
async function asServer(s: ConfiguredServer): Promise<Record<string, unknown> | undefined> {
  const plain = (record: Record<string, string>) => Object.fromEntries(Object.entries(record).filter(([, v]) => !REFERENCE.test(v)));
  if (s.transport === 'stdio') {
    if (!s.command) return undefined;
    // Directories a server is handed on its command line (server-filesystem's roots) are mounted read-only: listing needs no writes.
    const dirs: string[] = [];
    for (const a of s.args) if (isAbsolute(a) && (await stat(a).catch(() => undefined))?.isDirectory() && a.replace(/\/+$/, '') !== '') dirs.push(a);
    return { command: s.command, args: s.args, env: plain(s.env), sandbox: { filesystem: { read_only: dirs } } };
  }
  return s.url ? { url: s.url, headers: plain(s.headers) } : undefined;
}

export async function connectAndInspect(configs: readonly ClientConfigFile[]): Promise<ConnectOutcome> {
  // One server configured in several clients is started once; different servers sharing a name keep apart.
  const seen = new Map<string, string>();
  const entries: { server: ConfiguredServer; config: ClientConfigFile; label: string }[] = [];
  for (const config of configs) {
    for (const server of config.servers) {
      const launch = JSON.stringify([server.command, server.args, server.url]);
      if (seen.get(server.name) === launch) continue;
      const label = seen.has(server.name) ? `${server.name} (${config.file})` : server.name;
      seen.set(server.name, launch);
      entries.push({ server, config, label });
    }
  }
  const servers: ConnectedServer[] = entries.map(({ server, config }) => ({ server, config }));
  const valid: Record<string, Record<string, unknown>> = {};
  await Promise.all(
    entries.map(async ({ server }, i) => {
      try {
        const entry = await asServer(server);
        if (!entry) throw new Error('no command or URL to start');
        defineConfig({ servers: { [`s${i}`]: entry } } as ConfigInput); // one invalid entry must not sink the others
        valid[`s${i}`] = entry;
      } catch (error) {
        servers[i].error = firstLine(error);
      }
    }),
  );
  const observed = Object.keys(valid).length ? await observeServers(defineConfig({ servers: valid } as ConfigInput).config, Object.keys(valid)) : new Map<string, Observation>();
  const offers: ServerOffer[] = [];
  entries.forEach(({ label }, i) => {
    const o = observed.get(`s${i}`);
    if (!o) return;
    if ('error' in o) return void (servers[i].error = o.error);
    const { info, tools, prompts, resourceTemplates } = o.snapshot;
    offers.push({ server: label, instructions: info.instructions, tools: tools as Tool[], prompts: prompts as Prompt[], resourceTemplates: resourceTemplates as ResourceTemplate[] });
  });
  const byLabel = new Map(entries.map((e) => [e.label, e]));
  const findings = checkOffers(offers).map((finding) => {
    const { server, config } = byLabel.get(finding.server)!;
    return { finding, server, config };
  });
  return { servers, findings };
}
