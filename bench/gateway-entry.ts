/**
 * Runs Portcullis the way `portcullis serve` / `portcullis stdio` do, with one
 * difference the CLI does not offer: `--guards none` starts the gateway with
 * an empty guard chain (a pure relay; the audit log still records every call,
 * with the durability the config asks for). The benchmark uses the real CLI
 * for the all-guards configurations and this entry only for the relay.
 *
 *   node dist/bench/gateway-entry.js serve --config F --data D --port P --guards none
 *   node dist/bench/gateway-entry.js stdio --config F --data D --identity I --guards none
 */
import { resolve } from 'node:path';
import pino from 'pino';
import { loadConfigFile } from '../src/config/load.js';
import { Gateway } from '../src/gateway/gateway.js';
import { startHttpGateway } from '../src/serve/http.js';
import { StdioServerTransport } from '../src/transports/stdio-server.js';

function option(name: string, fallback?: string): string {
  const at = process.argv.indexOf(`--${name}`);
  const value = at >= 0 ? process.argv[at + 1] : fallback;
  if (value === undefined) throw new Error(`missing --${name}`);
  return value;
}

const mode = process.argv[2];
const log = pino({ level: process.env.PORTCULLIS_LOG_LEVEL ?? 'warn', base: undefined }, pino.destination(2));
const loaded = await loadConfigFile(option('config'));
const dataDir = resolve(option('data'));
const guards = option('guards', 'default') === 'none' ? [] : undefined;
const gateway = await Gateway.start({ config: loaded.config, dataDir, logger: log, guards });

let stopping = false;
const stop = async (closeFirst?: () => Promise<void>) => {
  if (stopping) return;
  stopping = true;
  await closeFirst?.().catch(() => {});
  await gateway.close().catch(() => {});
  process.exit(0);
};

if (mode === 'serve') {
  const http = await startHttpGateway({ gateway, loaded, dataDir, host: '127.0.0.1', port: Number(option('port')), log });
  process.stderr.write(`gateway-entry listening on ${http.url}\n`);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void stop(() => http.close()));
} else if (mode === 'stdio') {
  const identity = loaded.identities.get(option('identity'));
  if (!identity) throw new Error(`identity ${option('identity')} is not configured`);
  const transport = new StdioServerTransport(process.stdin, process.stdout, loaded.config.limits.max_message_bytes);
  const session = await gateway.openSession(transport, { identity, method: 'stdio' });
  transport.onclose = () => void session.close('client closed stdin').then(() => stop());
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void stop());
} else {
  throw new Error('usage: gateway-entry.js serve|stdio --config F --data D [--port P | --identity I] [--guards none|default]');
}
