import { z } from 'zod';

// Names become parts of exposed tool names and of policy patterns, so they are
// restricted to characters that cannot smuggle a separator or a glob.
const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const name = (what: string) =>
  z.string().regex(NAME, `${what} names use letters, digits, "_" and "-" (max 64), starting with a letter or digit`);

const patternList = (what: string) =>
  z.array(z.string().min(1, `an empty ${what} pattern matches nothing; remove it`)).default([]);

const stdioServer = z
  .strictObject({
    command: z.string().min(1).describe('Executable to launch (resolved on PATH).'),
    args: z.array(z.string()).default([]),
    env: z.record(z.string(), z.string()).default({}).describe('Extra environment for the server; the gateway environment is not inherited beyond PATH/HOME basics.'),
    cwd: z.string().optional(),
    prefix: z.boolean().default(true).describe('Expose tool and prompt names as <server><separator><name>; false keeps the upstream names.'),
    timeout_seconds: z.number().positive().max(86_400).default(300).describe('A request with no response or progress for this long fails with UPSTREAM_TIMEOUT.'),
  })
  .describe('An MCP server launched as a child process speaking stdio.');

const httpServer = z
  .strictObject({
    url: z.url({ protocol: /^https?$/, error: 'url must be an http:// or https:// URL' }),
    headers: z.record(z.string(), z.string()).default({}),
    prefix: z.boolean().default(true),
    timeout_seconds: z.number().positive().max(86_400).default(300),
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
  })
  .describe('Portcullis gateway configuration');

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type ServerConfig = z.output<typeof serverSchema>;
export type StdioServerConfig = z.output<typeof stdioServer>;
export type HttpServerConfig = z.output<typeof httpServer>;
export type IdentityConfig = z.output<typeof identitySchema>;

export function isStdioServer(s: ServerConfig): s is StdioServerConfig {
  return 'command' in s;
}
