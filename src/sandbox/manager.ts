import type { Logger } from 'pino';
import type { AuditEvent } from '../audit/index.js';
import { isStdioServer, type Config, type StdioServerConfig } from '../config/schema.js';
import type { LaunchPlan } from '../gateway/upstream.js';
import type { ProcessSpec } from '../transports/stdio-process.js';
import { BubblewrapBackend } from './bubblewrap/backend.js';
import { describeEnv, secretFiles } from './env.js';
import { buildPolicy } from './policy.js';
import type { EgressEvent, SandboxBackend, SandboxPolicy } from './types.js';

export interface SandboxManagerOptions {
  config: Config;
  dataDir: string;
  audit(event: AuditEvent): Promise<void>;
  log: Logger;
  /** Replaces bubblewrap for every sandboxed server (a container or WASM backend, or a test double). */
  backend?: SandboxBackend;
}

/**
 * The gateway's side of sandboxing: checks once at start that the backend
 * works (fail closed, naming the servers that need it), refuses policies that
 * would expose the data dir, and gives each stdio server a launcher that
 * prepares its sandbox before every start and audits what it was granted.
 */
export class SandboxManager {
  readonly #policies = new Map<string, SandboxPolicy>();

  private constructor(
    private readonly options: SandboxManagerOptions,
    readonly backend: SandboxBackend,
  ) {}

  static async create(options: SandboxManagerOptions): Promise<SandboxManager> {
    const backend = options.backend ?? new BubblewrapBackend({ reporter: { egress: (e) => options.audit(egressRecord(e)) } });
    const manager = new SandboxManager(options, backend);
    const sandboxed: string[] = [];
    const hidden = secretFiles(options.config);
    for (const [name, server] of Object.entries(options.config.servers)) {
      if (!isStdioServer(server)) continue;
      if (server.sandbox === 'none') {
        if (options.config.mode === 'production') throw new Error(`servers.${name}.sandbox: production mode refuses unsandboxed stdio servers; remove sandbox: none`);
        continue;
      }
      manager.#policies.set(name, buildPolicy(name, server.sandbox, { dataDir: options.dataDir, secretFiles: hidden }));
      sandboxed.push(name);
    }
    if (sandboxed.length > 0) {
      const check = await backend.check();
      if (!check.ok) {
        const list = sandboxed.map((s) => `"${s}"`).join(', ');
        throw new Error(`${check.reason}, or set sandbox: none on server${sandboxed.length > 1 ? 's' : ''} ${list} (development only: ${sandboxed.length > 1 ? 'they would' : 'it would'} then run with the gateway user's own access to files and network)`);
      }
      options.log.info({ backend: backend.name, detail: check.detail, servers: sandboxed }, `stdio servers run sandboxed (${backend.name})`);
    }
    return manager;
  }

  /** Whether the named server runs sandboxed. */
  sandboxed(name: string): boolean {
    return this.#policies.has(name);
  }

  /** The launch hook for one stdio server. */
  launcher(name: string, server: StdioServerConfig): (spec: ProcessSpec) => Promise<LaunchPlan> {
    const policy = this.#policies.get(name);
    if (!policy) {
      return async (spec) => {
        this.options.log.warn({ server: name }, `server ${name} runs UNSANDBOXED (sandbox: none): it has the gateway's own access to files, network and secrets; development only`);
        await this.options.audit({ type: 'sandbox', server: name, decision: 'allow', code: 'SANDBOX_NONE', reason: 'sandbox: none; the server runs unsandboxed with the gateway\'s privileges (development only, refused in production)' });
        return { spec };
      };
    }
    return async (spec) => {
      const prepared = await this.backend.prepare({ name, declaredEnv: Object.keys(server.env) }, policy, spec);
      try {
        await this.options.audit({ type: 'sandbox', server: name, decision: 'allow', code: 'SANDBOXED', reason: `launched in the ${this.backend.name} sandbox`, detail: { ...prepared.describe, env: describeEnv(server.env) } });
      } catch (error) {
        await prepared.dispose();
        throw error;
      }
      return { spec: prepared.spec, dispose: () => prepared.dispose(), explainExit: prepared.explainExit };
    };
  }
}

function egressRecord(e: EgressEvent): AuditEvent {
  return { type: 'egress', server: e.server, decision: e.decision, code: e.code, reason: e.reason, detail: { method: e.method, host: e.host, port: e.port, ...(e.address ? { address: e.address } : {}) } };
}
