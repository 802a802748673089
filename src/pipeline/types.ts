import type { CreateMessageRequestParams, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { AuditEvent } from '../audit/types.js';
import type { Identity } from '../policy/identity.js';
import type { ValidateFunction } from '../schema/ajv.js';
import type { ReasonCode } from './codes.js';

export type Verdict = 'allow' | 'deny' | 'hold';

/** What a guard says about one message: pass, stop with a reason, or wait for a human. */
export interface Decision {
  readonly verdict: Verdict;
  readonly code: ReasonCode;
  readonly reason: string;
  /** Set by the pipeline: which guard decided. */
  readonly guard?: string;
  /** Set by the pipeline for a guard in shadow mode whose deny/hold was not enforced. */
  readonly shadow?: boolean;
  /** Evidence for the audit record (`detail.evidence`), e.g. which earlier call a flow decision links to. */
  readonly detail?: Readonly<Record<string, unknown>>;
  /** When the same call may succeed again (rate limits); sent to the client as error.data.retry_after_seconds. */
  readonly retryAfterSeconds?: number;
}

export const allow = (reason = 'no objection'): Decision => ({ verdict: 'allow', code: 'ALLOWED', reason });
export const deny = (code: ReasonCode, reason: string): Decision => ({ verdict: 'deny', code, reason });
export const hold = (code: ReasonCode, reason: string): Decision => ({ verdict: 'hold', code, reason });

/** The principal side of a session, as guards see it. */
export interface SessionView {
  readonly id: string;
  readonly identity: Identity;
  readonly startedAt: number;
  readonly expiresAt: number;
}

/** A tool as the gateway knows it from the upstream's tools/list, with its schema compiled once. */
export interface CatalogTool {
  readonly server: string;
  readonly name: string;
  readonly exposedName: string;
  readonly definition: Tool;
  /** Canonical digest of the definition (sha256 of its RFC 8785 JSON), compared with the lock. */
  readonly digest: string;
  readonly validateInput?: ValidateFunction;
  /** Why the input schema could not be compiled; calls then fail closed. */
  readonly schemaError?: string;
  /** The tool's outputSchema, compiled once; absent when the tool declares none. */
  readonly validateOutput?: ValidateFunction;
  /** Why a declared outputSchema could not be compiled; results are then refused. */
  readonly outputSchemaError?: string;
}

export type Invocation =
  | { readonly kind: 'tool'; readonly server: string; readonly name: string; readonly exposedName: string; readonly arguments: Record<string, unknown>; readonly tool: CatalogTool }
  | { readonly kind: 'resource'; readonly server: string; readonly uri: string }
  | { readonly kind: 'prompt'; readonly server: string; readonly name: string; readonly exposedName: string; readonly arguments: Record<string, unknown> };

/** An item of a list as the upstream sent it; `definition` is the whole item, `tool` its catalog entry. */
export type Listed =
  | { readonly kind: 'tool'; readonly server: string; readonly name: string; readonly tool?: CatalogTool }
  | { readonly kind: 'resource'; readonly server: string; readonly uri: string }
  | { readonly kind: 'resource_template'; readonly server: string; readonly uriTemplate: string; readonly definition?: Readonly<Record<string, unknown>> }
  | { readonly kind: 'prompt'; readonly server: string; readonly name: string; readonly definition?: Readonly<Record<string, unknown>> };

export interface RequestContext {
  readonly session: SessionView;
  readonly method: string;
  readonly now: number;
  /** The gateway's id for this request, unique within the session; the audit records of a call carry it as detail.call. */
  readonly callId?: string;
  /** Appends an extra audit record (e.g. an `alert`) in the session's name; never blocks the message. */
  readonly record?: (event: AuditEvent) => void;
  /** Present only when the session's client declared the sampling capability. */
  readonly sample?: SampleFunction;
}

/**
 * Asks the session's client for one LLM completion (MCP sampling/createMessage)
 * on the stream of the current request. Resolves with the client's result,
 * unvalidated (it is the client's word); rejects when the client refuses or
 * fails, does not answer within timeoutMs, the signal aborts, or the session ends.
 */
export type SampleFunction = (params: CreateMessageRequestParams, options: { timeoutMs: number; signal?: AbortSignal }) => Promise<Record<string, unknown>>;

/**
 * A control in the pipeline. Each phase is optional; a guard implements the
 * phases it cares about and returns an explicit decision. Phases, in the order a
 * message meets them:
 *  - onRequest: every client request, before routing (session expiry; later rate limits)
 *  - onList:    each item of a tools/resources/prompts list (visibility)
 *  - onInvoke:  a tool call, resource read or prompt get, before the upstream sees it
 *  - onResult:  the upstream's answer, before the client sees it (output screening plugs in here)
 *  - onError:   the upstream's JSON-RPC error for an invocation; a guard may only rewrite it (it reaches the model too)
 */
export interface Guard {
  readonly name: string;
  onRequest?(ctx: RequestContext): Decision;
  onList?(ctx: RequestContext, item: Listed): Decision;
  onInvoke?(ctx: RequestContext, invocation: Invocation): InvokeDecision | Promise<InvokeDecision>;
  onResult?(ctx: RequestContext, invocation: Invocation, result: Record<string, unknown>): ResultDecision | Promise<ResultDecision>;
  onError?(ctx: RequestContext, invocation: Invocation, error: UpstreamError): UpstreamError | undefined;
}

/**
 * onInvoke may also replace the arguments of a tool call or prompt get (e.g.
 * secrets redacted); the guards after it, the approval binding, the audit
 * record and the upstream all see the replacement.
 */
export interface InvokeDecision extends Decision {
  readonly arguments?: Record<string, unknown>;
}

/**
 * onResult may also replace the result (e.g. sanitised or redacted output). A
 * `hold` withholds the result for a human: the gateway keeps `result` (the
 * output as it may be released) and answers OUTPUT_QUARANTINED.
 */
export interface ResultDecision extends Decision {
  readonly result?: Record<string, unknown>;
}

/** A JSON-RPC error as the upstream (or the gateway's upstream layer) answered an invocation. */
export interface UpstreamError {
  readonly code: number;
  readonly message: string;
  readonly data?: unknown;
}

export type GuardMode = 'enforce' | 'shadow';

export interface GuardEntry {
  readonly guard: Guard;
  readonly mode: GuardMode;
}
