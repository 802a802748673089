#!/usr/bin/env node
import { resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import pino from 'pino';
import { AUDIT_FILE_NAME, verifyAuditLog } from '../audit/index.js';
import { issueToken, loadOrCreateSigningKey } from '../auth/index.js';
import { ConfigError, loadConfigFile } from '../config/load.js';
import { Gateway } from '../gateway/gateway.js';
import { startHttpGateway } from '../serve/http.js';
import { StdioServerTransport } from '../transports/stdio-server.js';
import { VERSION } from '../version.js';
import { registerApprovalsCommands } from './approvals.js';
import { registerDetectCommand } from './detect.js';
import { registerImportCommand } from './import.js';
import { registerRiskCommand } from './risk.js';
import { registerScanCommand } from './scan.js';
import { registerLockCommands } from './lock.js';

const DEFAULT_CONFIG = 'portcullis.yaml';
const DEFAULT_DATA = 'portcullis-data';

const integer = (what: string, min: number, max: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${what} must be an integer in ${min}..${max}`);
  return n;
};

// Logs go to stderr: in stdio mode stdout carries the MCP protocol.
const logger = () => pino({ level: process.env.PORTCULLIS_LOG_LEVEL ?? 'info', base: undefined }, pino.destination(2));

const program = new Command('portcullis')
  .description('Zero-trust security gateway for the Model Context Protocol.')
  .version(VERSION)
  .showHelpAfterError();

program
  .command('demo')
  .description('play a customer-support scenario through the gateway with bundled demo servers (no setup needed)')
  .option('--data <dir>', 'data directory for keys and the audit log (default: a new temporary directory)')
  .action(async (opts: { data?: string }) => {
    // Commands a running gateway never needs (the demo, the schema, the risk report) load their modules when run.
    const { runDemo } = await import('../demo/scenario.js');
    const { ok } = await runDemo({ dataDir: opts.data && resolve(opts.data) });
    process.exitCode = ok ? 0 : 1;
  });

program
  .command('serve')
  .description('serve the gateway as a Streamable HTTP MCP endpoint')
  .option('--config <file>', 'config file (YAML or JSON)', DEFAULT_CONFIG)
  .option('--host <host>', 'address to bind; keep loopback unless a TLS proxy fronts it', '127.0.0.1')
  .addOption(new Option('--port <n>', 'port to listen on').argParser(integer('port', 0, 65535)).default(8787))
  .option('--data <dir>', 'data directory for keys and the audit log', DEFAULT_DATA)
  .action(async (opts: { config: string; host: string; port: number; data: string }) => {
    const log = logger();
    const loaded = await loadConfigFile(opts.config);
    for (const w of loaded.warnings) log.warn(`${loaded.file}: ${w.path}: ${w.message}`);
    const dataDir = resolve(opts.data);
    const gateway = await Gateway.start({ config: loaded.config, dataDir, logger: log });
    const http = await startHttpGateway({ gateway, loaded, dataDir, host: opts.host, port: opts.port, log });
    process.stderr.write(`portcullis ${VERSION} listening on ${http.url} (audit: ${gateway.auditPath})\n`);
    onShutdown(async () => {
      await http.close();
      await gateway.close();
    });
  });

program
  .command('stdio')
  .description('serve the gateway over stdio, for desktop clients that launch it as their MCP server')
  .requiredOption('--identity <name>', 'the configured identity this client acts as')
  .option('--config <file>', 'config file (YAML or JSON)', DEFAULT_CONFIG)
  .option('--data <dir>', 'data directory for the audit log', DEFAULT_DATA)
  .action(async (opts: { identity: string; config: string; data: string }) => {
    const log = logger();
    const loaded = await loadConfigFile(opts.config);
    for (const w of loaded.warnings) log.warn(`${loaded.file}: ${w.path}: ${w.message}`);
    const identity = loaded.identities.get(opts.identity);
    if (!identity) fail(`identity "${opts.identity}" is not in ${loaded.file}; configured: ${[...loaded.identities.keys()].join(', ')}`);
    const gateway = await Gateway.start({ config: loaded.config, dataDir: resolve(opts.data), logger: log });
    const transport = new StdioServerTransport(process.stdin, process.stdout, loaded.config.limits.max_message_bytes);
    const session = await gateway.openSession(transport, { identity: identity!, method: 'stdio' });
    const stop = async () => {
      await gateway.close();
      process.exit(0);
    };
    transport.onclose = () => void session.close('client closed stdin').then(stop);
    onShutdown(stop);
  });

const token = program.command('token').description('short-lived bearer credentials for HTTP clients');
token
  .command('issue')
  .description('print a signed token for an identity (alone on stdout)')
  .requiredOption('--identity <name>', 'the configured identity the token acts as')
  .addOption(new Option('--ttl <seconds>', 'lifetime (default: the identity\'s session_ttl_seconds)').argParser(integer('ttl', 1, 86_400)))
  .option('--config <file>', 'config file (YAML or JSON)', DEFAULT_CONFIG)
  .option('--data <dir>', 'data directory holding the signing key', DEFAULT_DATA)
  .action(async (opts: { identity: string; ttl?: number; config: string; data: string }) => {
    const loaded = await loadConfigFile(opts.config);
    const identity = loaded.identities.get(opts.identity);
    if (!identity) fail(`identity "${opts.identity}" is not in ${loaded.file}; configured: ${[...loaded.identities.keys()].join(', ')}`);
    const key = await loadOrCreateSigningKey(resolve(opts.data));
    const jwt = await issueToken(key, {
      identity: identity!.name,
      ttlSeconds: opts.ttl ?? identity!.sessionTtlSeconds,
      audience: loaded.config.tokens.audience,
      issuer: loaded.config.tokens.issuer,
    });
    process.stdout.write(jwt + '\n');
  });

const audit = program.command('audit').description('the tamper-evident audit log');
audit
  .command('verify')
  .description('check the hash chain; exit 1 naming the first bad record')
  .option('--data <dir>', 'data directory holding audit.jsonl', DEFAULT_DATA)
  .action(async (opts: { data: string }) => {
    const file = resolve(opts.data, AUDIT_FILE_NAME);
    const result = await verifyAuditLog(file);
    if (result.ok) {
      process.stdout.write(`audit log ${file} is intact: ${result.count} records, last hash ${result.lastHash}\n`);
    } else {
      process.stdout.write(`audit log ${file} is NOT intact: record ${result.seq} (line ${result.line}): ${result.reason}\n`);
      process.exitCode = 1;
    }
  });

const config = program.command('config').description('the gateway configuration');
config
  .command('check')
  .description('validate a config file; errors name the path and line and suggest the fix')
  .argument('[file]', 'config file (YAML or JSON)', DEFAULT_CONFIG)
  .action(async (file: string) => {
    const loaded = await loadConfigFile(file);
    for (const w of loaded.warnings) process.stdout.write(`warning: ${loaded.file}: ${w.path}: ${w.message}\n`);
    process.stdout.write(`${loaded.file} is valid: ${Object.keys(loaded.config.servers).length} servers, ${loaded.identities.size} identities, mode ${loaded.config.mode}\n`);
  });
config
  .command('schema')
  .description('print the config JSON Schema (published as schema/portcullis.config.schema.json)')
  .action(async () => {
    const { configJsonSchema } = await import('../config/json-schema.js');
    process.stdout.write(JSON.stringify(configJsonSchema(), null, 2) + '\n');
  });

registerApprovalsCommands(program);
registerRiskCommand(program);
registerDetectCommand(program);
registerScanCommand(program);
registerLockCommands(program);
registerImportCommand(program);

function fail(message: string): never {
  process.stderr.write(`portcullis: ${message}\n`);
  process.exit(2);
}

function onShutdown(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = () => {
    if (stopping) return;
    stopping = true;
    void stop().finally(() => process.exit(0));
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}

program.parseAsync().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`portcullis: invalid config\n${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`portcullis: ${(error as Error).message}\n`);
  process.exit(1);
});
