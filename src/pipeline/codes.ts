/**
 * Stable reason codes. They appear in the agent-facing JSON-RPC error
 * (`error.data.code` and the message prefix), in audit records and in the docs
 * (docs/reason-codes.md), so they never change meaning once published.
 */
export const ReasonCodes = {
  ALLOWED: 'ALLOWED',
  TOOL_NOT_ALLOWED: 'TOOL_NOT_ALLOWED',
  UNKNOWN_TOOL: 'UNKNOWN_TOOL',
  RESOURCE_NOT_ALLOWED: 'RESOURCE_NOT_ALLOWED',
  UNKNOWN_RESOURCE: 'UNKNOWN_RESOURCE',
  PROMPT_NOT_ALLOWED: 'PROMPT_NOT_ALLOWED',
  UNKNOWN_PROMPT: 'UNKNOWN_PROMPT',
  INVALID_ARGUMENTS: 'INVALID_ARGUMENTS',
  ARGUMENT_CONSTRAINT: 'ARGUMENT_CONSTRAINT',
  INVALID_TOOL_SCHEMA: 'INVALID_TOOL_SCHEMA',
  APPROVAL_REQUIRED: 'APPROVAL_REQUIRED',
  SESSION_EXPIRED: 'SESSION_EXPIRED',
  NAME_COLLISION: 'NAME_COLLISION',
  GUARD_ERROR: 'GUARD_ERROR',
  UPSTREAM_UNAVAILABLE: 'UPSTREAM_UNAVAILABLE',
  UPSTREAM_TIMEOUT: 'UPSTREAM_TIMEOUT',
  UPSTREAM_PROTOCOL_ERROR: 'UPSTREAM_PROTOCOL_ERROR',
  MESSAGE_TOO_LARGE: 'MESSAGE_TOO_LARGE',
  AUDIT_UNAVAILABLE: 'AUDIT_UNAVAILABLE',
  CLIENT_CAPABILITY_MISSING: 'CLIENT_CAPABILITY_MISSING',
  UNATTRIBUTABLE_REQUEST: 'UNATTRIBUTABLE_REQUEST',
} as const;

export type ReasonCode = (typeof ReasonCodes)[keyof typeof ReasonCodes];

/** JSON-RPC numeric codes; implementation-defined server errors live in -32000..-32099. */
export const RpcCodes = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  POLICY_DENIED: -32010,
  APPROVAL_REQUIRED: -32011,
  SESSION_EXPIRED: -32012,
  UPSTREAM_FAILED: -32020,
  MESSAGE_TOO_LARGE: -32030,
} as const;

export function rpcCodeFor(code: ReasonCode): number {
  switch (code) {
    case 'INVALID_ARGUMENTS':
    case 'ARGUMENT_CONSTRAINT':
    case 'UNKNOWN_TOOL':
    case 'UNKNOWN_PROMPT':
      return RpcCodes.INVALID_PARAMS;
    case 'UNKNOWN_RESOURCE':
      return -32002; // MCP's "resource not found"
    case 'APPROVAL_REQUIRED':
      return RpcCodes.APPROVAL_REQUIRED;
    case 'SESSION_EXPIRED':
      return RpcCodes.SESSION_EXPIRED;
    case 'UPSTREAM_UNAVAILABLE':
    case 'UPSTREAM_TIMEOUT':
    case 'UPSTREAM_PROTOCOL_ERROR':
      return RpcCodes.UPSTREAM_FAILED;
    case 'MESSAGE_TOO_LARGE':
      return RpcCodes.MESSAGE_TOO_LARGE;
    case 'GUARD_ERROR':
    case 'AUDIT_UNAVAILABLE':
      return RpcCodes.INTERNAL_ERROR;
    default:
      return RpcCodes.POLICY_DENIED;
  }
}
