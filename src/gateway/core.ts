import type { Logger } from 'pino';
import type { Implementation, ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { AuditEvent } from '../audit/index.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import type { ReasonCode } from '../pipeline/codes.js';
import type { CatalogTool, Decision, Invocation } from '../pipeline/types.js';
import type { ToolCatalog } from './catalog.js';
import type { Naming } from './naming.js';
import type { ResourceRouter } from './resources.js';
import type { Session } from './session.js';
import type { Upstream } from './upstream.js';

/** What a session needs from the gateway; keeps Session testable and free of start-up concerns. */
export interface GatewayCore {
  readonly pipeline: Pipeline;
  readonly catalog: ToolCatalog;
  readonly naming: Naming;
  readonly resources: ResourceRouter;
  readonly log: Logger;
  audit(event: AuditEvent): Promise<void>;
  readyUpstreams(): Upstream[];
  upstream(name: string): Upstream | undefined;
  findTool(exposedName: string): Promise<CatalogTool | undefined>;
  capabilities(): ServerCapabilities;
  serverIdentity(): { serverInfo: Implementation; instructions?: string };
  approve(session: Session, invocation: Invocation, hold: Decision, call?: HeldCall): Promise<ApprovalAnswer>;
  /** Keeps an output a result guard withheld (a result-phase hold) for an approver; answers what the agent is told. */
  quarantine(request: QuarantineRequest): Promise<ApprovalRefusal>;
  /** Hands out a released output to the retry that names it; never runs the call again. */
  release(request: ReleaseRequest): Promise<ReleaseAnswer>;
  sessionClosed(session: Session): void;
  /** Whether any open session is subscribed to the URI. */
  isSubscribed(uri: string): boolean;
  /** Ends the shared upstream subscription once no session wants it. */
  unsubscribeUpstream(uri: string): Promise<void>;
}

export interface ApprovalRequest {
  session: Session;
  invocation: Invocation;
  hold: Decision;
  /** The client request the held call arrived in (for elicitation, progress and the approval id in _meta). */
  call?: HeldCall;
}

/** The client request behind a held call. */
export interface HeldCall {
  requestId: string | number;
  /** The request's `_meta` (progressToken, portcullis/approval). */
  meta?: Record<string, unknown>;
  /** Aborted when the client cancels the call or the session ends: nothing may run after that. */
  signal?: AbortSignal;
}

export interface ApprovalAnswer {
  approved: boolean;
  /** Who decided and how, for the audit record. */
  detail: Record<string, unknown>;
  /** When not approved: the refusal the agent gets instead of the hold's (e.g. APPROVAL_PENDING with the approval id). */
  refusal?: ApprovalRefusal;
}

export interface ApprovalRefusal {
  verdict: 'hold' | 'deny';
  code: ReasonCode;
  reason: string;
  /** Extra fields for the JSON-RPC error's data (e.g. approvalId). */
  data?: Record<string, unknown>;
}

/** An output withheld by a result guard: `output` is what the agent gets if it is released. */
export interface QuarantineRequest {
  session: Session;
  /** The call as the client made it (a retry must repeat it exactly). */
  invocation: Invocation;
  hold: Decision;
  output: Record<string, unknown>;
}

export interface ReleaseRequest {
  session: Session;
  invocation: Invocation;
  /** What the client put under _meta["portcullis/release"]. */
  id: unknown;
}

export type ReleaseAnswer =
  | { released: true; output: Record<string, unknown>; detail: Record<string, unknown> }
  | { released: false; refusal: ApprovalRefusal; detail: Record<string, unknown> };

/**
 * Where held calls go for a human decision. The approvals issue provides real
 * brokers (MCP elicitation, an out-of-band queue); without one, held calls are
 * refused with APPROVAL_REQUIRED — never executed.
 */
export interface ApprovalBroker {
  decide(request: ApprovalRequest): Promise<ApprovalAnswer>;
  /** Stores a withheld output for an out-of-band approver; without it such outputs are refused outright. */
  quarantine?(request: QuarantineRequest): Promise<ApprovalRefusal>;
  release?(request: ReleaseRequest): Promise<ReleaseAnswer>;
  close?(): Promise<void>;
}

/** Nothing is released that was not recorded: a failed audit write withholds the answer. */
export class AuditUnavailableError extends Error {
  override readonly name = 'AuditUnavailableError';
}
