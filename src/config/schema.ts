import { z } from 'zod';
import { approvalsConfigSchema } from '../approvals/config.js';
import { flowConfigSchema, riskConfigSchema, serverPolicyFields } from '../risk/config.js';
import { rateLimitsSchema } from '../guards/rate-limit/config.js';
import { screeningConfigSchema } from '../guards/output-screening/config.js';
import { admissionConfigSchema, serverSigstoreSchema } from '../admission/config.js';

// Names become parts of exposed tool names and of policy patterns, so they are
// restricted to characters that cannot smuggle a separator or a glob.
const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const name = (what: string) =>
  z.string().regex(NAME, `${what} names use letters, digits, "_" and "-" (max 64), starting with a letter or digit`);

const patternList = (what: string) =>
  z.array(z.string().min(1, `an empty ${what} pattern matches nothing; remove it`)).default([]);

// ---- sandbox (stdio servers) -------------------------------------------------

const sandboxPath = z
  .string()
  .regex(/^(\/|~\/|~$)/, 'use an absolute path (or one starting with ~/ for the gateway user\'s home)')
  .refine((p) => p.replace(/\/+$/, '') !== '', 'mounting / would expose the whole host; declare the directories the server needs');

/** "host:port": a DNS name (optionally "*.": any subdomain), an IPv4 address or a bracketed IPv6 address. */
export const EGRESS_TARGET = /^(?:(?:\*\.)?[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/;

const egressTarget = z
  .string()
  .regex(EGRESS_TARGET, 'write "host:port", e.g. "api.example.com:443" ("*.example.com:443" for any subdomain, "[::1]:8080" for IPv6)')
  .refine((t) => {
    const m = EGRESS_TARGET.exec(t);
    return !m || (Number(m[1]) >= 1 && Number(m[1]) <= 65535);
  }, 'the port must be 1..65535');

const sandboxLimits = z
  .strictObject({
    memory_mb: z.number().int().min(64).max(1_048_576).default(1024).describe('Private writable memory per process (RLIMIT_DATA; Node servers also get a matching V8 heap limit). Over it, allocation fails.'),
    cpu_seconds: z.number().int().min(1).max(31_536_000).default(3600).describe('CPU time per process lifetime (RLIMIT_CPU). Over it the server is killed (SIGXCPU) and restarted.'),
    processes: z.number().int().min(4).max(65_536).default(128).describe('Tasks (processes and threads) in the sandbox (RLIMIT_NPROC, counted per sandbox). A Node server uses about a dozen threads.'),
    open_files: z.number().int().min(16).max(1_048_576).default(1024).describe('Open file descriptors per process (RLIMIT_NOFILE).'),
    tmp_mb: z.number().int().min(1).max(65_536).default(64).describe('Size of each private tmpfs (/tmp and the home directory); it is RAM, so keep it small.'),
    stderr_kb: z.number().int().min(1).max(1_048_576).default(1024).describe('stderr kept per process start; beyond it the server\'s stderr is drained and discarded.'),
  })
  .describe('Resource limits; a server over a limit fails or is killed and restarted with backoff.');

const sandboxNetwork = z.union(
  [
    z.literal('none').describe('Own empty network namespace: no network at all (default).'),
    z
      .strictObject({
        allow: z.array(egressTarget).min(1, 'list at least one "host:port", or write network: none').describe('host:port pairs reachable through the gateway\'s egress proxy; everything else is refused and audited.'),
      })
      .describe('Egress allowlist, enforced by an HTTP proxy run by the gateway.'),
  ],
  { error: 'network is "none" or { allow: ["host:port", ...] }' },
);

const sandboxPolicy = z
  .strictObject({
    filesystem: z
      .strictObject({
        read_only: z.array(sandboxPath).default([]).describe('Host paths visible read-only, at the same path.'),
        read_write: z.array(sandboxPath).default([]).describe('Host paths visible read-write, at the same path.'),
      })
      .prefault({})
      .describe('Nothing of the host is visible except the runtime (/usr, the command, the server\'s package directory, read-only) and these paths.'),
    network: sandboxNetwork.default('none'),
    limits: sandboxLimits.prefault({}),
  })
  .describe('Declared interface of a sandboxed server; everything not declared is denied.');

export const sandboxSchema = z
  .union([z.literal('none').describe('Run unsandboxed (development only; refused in production, warned on every start).'), sandboxPolicy], {
    error: 'sandbox is "none" or a mapping with filesystem, network and limits',
  })
  .prefault({})
  .describe('How the server is isolated (Linux: bubblewrap). Omitted: sandboxed, no network, default limits.');

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name uses letters, digits and "_"');
const envValue = z.union(
  [
    z.string(),
    z.strictObject({ from_env: envName.describe('Variable of the gateway\'s environment to copy, resolved at each launch.') }),
    z.strictObject({ from_file: sandboxPath.describe('File whose content (trailing newline removed) is the value, read at each launch.') }),
  ],
  { error: 'an env value is a string, { from_env: VARIABLE } or { from_file: /path/to/secret }' },
);

const stdioServer = z
  .strictObject({
    command: z.string().min(1).describe('Executable to launch (resolved on PATH).'),
    args: z.array(z.string()).default([]),
    env: z
      .record(z.string(), envValue)
      .default({})
      .describe('The server\'s environment: exactly these variables plus PATH/HOME basics, never the gateway\'s own. Secrets come from references ({ from_env } / { from_file }), resolved at launch and never logged.'),
    cwd: z.string().optional(),
    sandbox: sandboxSchema,
    sigstore: serverSigstoreSchema,
    prefix: z.boolean().default(true).describe('Expose tool and prompt names as <server><separator><name>; false keeps the upstream names.'),
    timeout_seconds: z.number().positive().max(86_400).default(300).describe('A request with no response or progress for this long fails with UPSTREAM_TIMEOUT.'),
    ...serverPolicyFields,
  })
  .describe('An MCP server launched as a child process speaking stdio.');

const httpServer = z
  .strictObject({
    url: z.url({ protocol: /^https?$/, error: 'url must be an http:// or https:// URL' }),
    headers: z.record(z.string(), z.string()).default({}),
    ca: z.string().min(1).optional().describe('PEM file of the private CA that signs this server\'s certificate (relative to the config file); it replaces the public CAs for this server. The lock pins the server\'s key either way.'),
    prefix: z.boolean().default(true),
    timeout_seconds: z.number().positive().max(86_400).default(300),
    ...serverPolicyFields,
  })
  .describe('A remote MCP server reached over Streamable HTTP.');

const serverSchema = z.union([stdioServer, httpServer], {
  error: 'a server needs either "command" (stdio) or "url" (Streamable HTTP), not both and not neither',
});

const identitySchema = z.strictObject({
  allowed_tools: patternList('tool').describe('Tool patterns this identity may call: "server.tool", "server.prefix_*", or "tool" on any server.'),
  denied_tools: patternList('tool').describe('Patterns that are refused even when allowed; deny beats allow.'),
  allowed_resources: patternList('resource').describe('Resource URI globs this identity may read.'),
  denied_resources: patternList('resource'),
  allowed_prompts: patternList('prompt').describe('Prompt patterns, same syntax as tools.'),
  denied_prompts: patternList('prompt'),
  session_ttl_seconds: z.number().int().positive().max(86_400).default(900).describe('A session ends this long after it starts; the client must re-authenticate.'),
  requires_human_approval_on: patternList('tool').describe('Tool patterns whose calls are held for a human decision before they run.'),
  argument_constraints: z
    .record(z.string(), z.record(z.string(), z.unknown()))
    .default({})
    .describe('Tool pattern → JSON Schema fragment the call arguments must also satisfy.'),
  rate_limits: rateLimitsSchema,
});

export const configSchema = z
  .strictObject({
    $schema: z.string().optional(),
    mode: z.enum(['development', 'production']).default('development'),
    anonymous_identity: name('identity').optional().describe('Loopback clients without a token act as this identity (development only).'),
    tool_name_separator: z.string().regex(/^[_.-]{1,2}$/, 'use one or two of "_", "." or "-"').default('__'),
    limits: z
      .strictObject({
        max_message_bytes: z.number().int().min(1024).max(256 * 1024 * 1024).default(4 * 1024 * 1024),
      })
      .prefault({}),
    audit: z
      .strictObject({
        durability: z.enum(['fsync', 'write']).default('fsync').describe('fsync: a record is on disk before the result is released; write: handed to the OS.'),
      })
      .prefault({}),
    tokens: z
      .strictObject({
        audience: z.string().min(1).default('portcullis'),
        issuer: z.string().min(1).default('portcullis-local'),
      })
      .prefault({}),
    servers: z.record(name('server'), serverSchema).refine((s) => Object.keys(s).length > 0, 'configure at least one server'),
    identities: z.record(name('identity'), identitySchema).default({}).describe('Agent identities; an embedding application may also build Identity objects in code.'),
    approvals: approvalsConfigSchema,
    risk: riskConfigSchema,
    flow: flowConfigSchema,
    screening: screeningConfigSchema,
    admission: admissionConfigSchema,
  })
  .describe('Portcullis gateway configuration');

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type ServerConfig = z.output<typeof serverSchema>;
export type StdioServerConfig = z.output<typeof stdioServer>;
export type SandboxConfig = z.output<typeof sandboxSchema>;
export type SandboxPolicyConfig = Exclude<SandboxConfig, 'none'>;
export type SandboxLimitsConfig = z.output<typeof sandboxLimits>;
export type EnvValue = z.output<typeof envValue>;
export type HttpServerConfig = z.output<typeof httpServer>;
export type IdentityConfig = z.output<typeof identitySchema>;

export function isStdioServer(s: ServerConfig): s is StdioServerConfig {
  return 'command' in s;
}
