import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, type ClientOptions } from '@modelcontextprotocol/sdk/client/index.js';
import { parseConfig, type LoadedConfig } from '../../src/config/load.js';
import { Gateway, type GatewayOptions } from '../../src/gateway/gateway.js';
import type { AuditRecord } from '../../src/audit/index.js';

export const MISBEHAVING = fileURLToPath(new URL('../fixtures/servers/misbehaving.js', import.meta.url));
export const DEMO_CRM = fileURLToPath(new URL('../../src/demo/servers/crm.js', import.meta.url));
export const DEMO_EMAIL = fileURLToPath(new URL('../../src/demo/servers/email.js', import.meta.url));
export const NODE = process.execPath;

export interface Harness {
  gateway: Gateway;
  loaded: LoadedConfig;
  dataDir: string;
  connect(identity: string, options?: ClientOptions): Promise<Client>;
  auditRecords(): Promise<AuditRecord[]>;
  close(): Promise<void>;
}

/** Starts a gateway from YAML text with a fresh data dir; close() removes everything. */
export async function startGateway(yaml: string, extra: Partial<GatewayOptions> = {}): Promise<Harness> {
  const dataDir = await mkdtemp(join(tmpdir(), 'portcullis-test-'));
  const loaded = parseConfig(yaml, 'test.yaml');
  const gateway = await Gateway.start({ config: loaded.config, dataDir, ...extra });
  const clients: Client[] = [];
  return {
    gateway,
    loaded,
    dataDir,
    async connect(identity, options) {
      const client = new Client({ name: 'test-agent', version: '1.0.0' }, options);
      await client.connect(await gateway.connect(loaded.identities.get(identity)!));
      clients.push(client);
      return client;
    },
    async auditRecords() {
      const text = await readFile(join(dataDir, 'audit.jsonl'), 'utf8');
      return text.trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
    },
    async close() {
      await Promise.all(clients.map((c) => c.close().catch(() => {})));
      await gateway.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Calls a tool and returns the JSON-RPC error message, or fails if the call succeeded. */
export async function refusal(client: Client, name: string, args: Record<string, unknown> = {}): Promise<string> {
  try {
    const result = await client.callTool({ name, arguments: args });
    throw new Error(`expected ${name} to be refused, got ${JSON.stringify(result).slice(0, 200)}`);
  } catch (error) {
    return (error as Error).message;
  }
}

export function textOf(result: unknown): string {
  const content = (result as { content?: { type: string; text?: string }[] }).content ?? [];
  return content.map((c) => c.text ?? '').join('');
}

/** The data inside a spotlighted block (output screening wraps untrusted output so), or the text as it is. */
export function dataOf(text: string): string {
  const m = /<untrusted-data-([0-9a-f]+)>\n([\s\S]*)\n<\/untrusted-data-\1>$/.exec(text);
  return m ? m[2] : text;
}
