/**
 * `portcullis scan --connect`: starts each server of the scanned client
 * configs the way the gateway would (stdio servers sandboxed, no network),
 * reads what it offers, and checks every definition for poisoning — across
 * servers too, since shadowing is one server's description aimed at another's tool.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { Prompt, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';
import { defineConfig } from '../config/load.js';
import type { ConfigInput } from '../config/schema.js';
import { Gateway } from '../gateway/gateway.js';
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
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-scan-'));
  const offers: ServerOffer[] = [];
  const servers: ConnectedServer[] = [];
  try {
    await Promise.all(
      entries.map(async ({ server, config }, i) => {
        const name = `s${i}`;
        let gateway: Gateway | undefined;
        try {
          const entry = await asServer(server);
          if (!entry) throw new Error('no command or URL to start');
          const { config: parsed } = defineConfig({ servers: { [name]: entry } } as ConfigInput);
          gateway = await Gateway.start({ config: parsed, dataDir: join(dir, name), guards: [], admission: false });
          const snapshot = await gateway.offer(name);
          offers.push({
            server: entries[i].label,
            instructions: snapshot.info.instructions,
            tools: snapshot.tools as Tool[],
            prompts: snapshot.prompts as Prompt[],
            resourceTemplates: snapshot.resourceTemplates as ResourceTemplate[],
          });
          servers[i] = { server, config };
        } catch (error) {
          servers[i] = { server, config, error: String((error as Error).message ?? error).split('\n')[0] };
        } finally {
          await gateway?.close().catch(() => {});
        }
      }),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const byLabel = new Map(entries.map((e) => [e.label, e]));
  const order = (o: ServerOffer) => entries.findIndex((e) => e.label === o.server);
  const findings = checkOffers(offers.sort((a, b) => order(a) - order(b))).map((finding) => {
    const { server, config } = byLabel.get(finding.server)!;
    return { finding, server, config };
  });
  return { servers, findings };
}
