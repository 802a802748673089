export type { EgressEvent, PreparedSandbox, SandboxBackend, SandboxCheck, SandboxedServer, SandboxPolicy, SandboxReporter } from './types.js';
export { SandboxManager, type SandboxManagerOptions } from './manager.js';
export { BubblewrapBackend, SANDBOX_HOME, UNPRIVILEGED_ID } from './bubblewrap/backend.js';
export { NoSandbox } from './none.js';
export { EgressProxy, type EgressProxyOptions } from './egress-proxy/proxy.js';
export { buildPolicy } from './policy.js';
export { resolveEnv } from './env.js';
export { DEFAULT_LIMITS, explainLimitExit } from './limits/limits.js';
export { measureSandboxOverhead, type SandboxOverhead } from './measure.js';
