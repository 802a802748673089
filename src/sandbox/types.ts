import type { SandboxLimitsConfig } from '../config/schema.js';
import type { ProcessExit, ProcessSpec } from '../transports/stdio-process.js';

/**
 * What a sandboxed server may touch, after defaults, `~` expansion and the
 * gateway's own refusals have been applied. Backend-neutral: a bubblewrap,
 * container or WASM backend all receive the same policy.
 */
export interface SandboxPolicy {
  filesystem: {
    /** Absolute host paths, visible read-only at the same path. */
    readOnly: string[];
    /** Absolute host paths, visible read-write at the same path. */
    readWrite: string[];
  };
  /** 'none': no network at all. Otherwise only these host:port pairs, through the egress proxy. */
  network: 'none' | { allow: string[] };
  limits: SandboxLimitsConfig;
  /**
   * Host paths that must stay invisible even when a mount would contain them:
   * the gateway's data dir (audit log, signing keys) and secret files the config references.
   */
  hidden: string[];
}

/** One server to sandbox. */
export interface SandboxedServer {
  name: string;
  /** Variables the config declares for it: these win over what the sandbox would set (HOME, PATH...). */
  declaredEnv?: readonly string[];
}

export interface PreparedSandbox {
  /** What to spawn instead of the server's own command. */
  spec: ProcessSpec;
  /** Frees what prepare() set up (egress proxy, runtime files); called after the process has exited. */
  dispose(): Promise<void>;
  /**
   * Says why the process ended in terms of the sandbox's limits ("exceeded its
   * CPU limit"), when the exit shows it; undefined when it cannot tell.
   */
  explainExit?(exit: ProcessExit): string | undefined;
  /** What this launch grants, for the audit record written at every start (never secret values). */
  describe: Record<string, unknown>;
}

export type SandboxCheck = { ok: true; detail?: string } | { ok: false; reason: string };

/**
 * A way to isolate a stdio server. The gateway checks the backend once at
 * start (fail closed) and calls prepare() before every launch, including
 * restarts, so secrets and proxies are fresh each time.
 */
export interface SandboxBackend {
  readonly name: string;
  check(): Promise<SandboxCheck>;
  prepare(server: SandboxedServer, policy: SandboxPolicy, spec: ProcessSpec): Promise<PreparedSandbox>;
}

/** One egress attempt as the proxy decided it; the gateway turns it into a `type: 'egress'` audit record. */
export interface EgressEvent {
  server: string;
  decision: 'allow' | 'deny';
  /** EGRESS_ALLOWED | EGRESS_DENIED | EGRESS_FAILED */
  code: string;
  reason: string;
  method: string;
  host: string;
  port: number;
  address?: string;
}

/** Where a backend reports to; the gateway wires these to its audit log. */
export interface SandboxReporter {
  /** Awaited before an allowed connection is opened: no audit record, no connection. */
  egress(event: EgressEvent): Promise<void>;
}
