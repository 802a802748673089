/**
 * Types shared by the approvals module, its callers (CLI, HTTP admin API,
 * demo) and the risk-rating module, which fills {@link RiskAssessment}.
 */
import type { Decision, Invocation, SessionView } from '../pipeline/types.js';

/**
 * The three-question risk rating shown to an approver. The risk module owns
 * how the answers are reached; approvals only carry and display them. Every
 * field is free text so the rating vocabulary can evolve without touching
 * the approval records already on disk.
 */
export interface RiskAssessment {
  /** What the call may do: the permission it exercises ("moves money out of a customer account"). */
  permission: string;
  /** Who or what is affected if it goes wrong ("one customer", "every customer"). */
  blastRadius: string;
  /** Whether the effect can be undone ("irreversible", "reversible within 30 days"). */
  reversibility: string;
  /** The tier the answers put the call in ("low", "medium", "high", "critical"). */
  tier: string;
  /** Optional one-line justification. */
  rationale?: string;
}

/**
 * Supplies the risk rating of a held call. Two ways for the risk module to
 * fill it: attach `risk` to the hold Decision it returns (see `withRisk`), or
 * pass an assessor as `GatewayOptions.assessRisk`, which is consulted for
 * holds that carry none (e.g. holds from requires_human_approval_on).
 */
export type RiskAssessor = (held: { session: SessionView; invocation: Invocation; hold: Decision }) => RiskAssessment | undefined | Promise<RiskAssessment | undefined>;

/** What put the call on hold, for the approver. */
export interface ApprovalTrigger {
  /** The hold's reason code, e.g. APPROVAL_REQUIRED. */
  code: string;
  /** The guard that held the call ("approval" for requires_human_approval_on). */
  guard?: string;
  /** The guard's human explanation. */
  reason: string;
  /** The requires_human_approval_on pattern that matched, when that is the trigger. */
  rule?: string;
  /** The risk tier, when a risk rating triggered the hold. */
  tier?: string;
}

/**
 * The exact call an approval is bound to. A retry is executed only if every
 * field matches: same identity, same session, same server and tool, and
 * arguments with the same RFC 8785 canonical SHA-256.
 */
export interface ApprovalBinding {
  identity: string;
  session: string;
  server: string;
  tool: string;
  argumentsSha256: string;
}

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'consumed';

/** A queued approval request as persisted (`<data>/approvals/<id>.request.json`). */
export interface ApprovalRequestRecord {
  v: 1;
  id: string;
  /** ISO-8601 UTC. */
  createdAt: string;
  /** ISO-8601 UTC; no decision (or no use of an approval) by then counts as denied. */
  expiresAt: string;
  binding: ApprovalBinding;
  /** The name the client called (e.g. crm__refund_request). */
  exposedName: string;
  /** The call's arguments for the approver to read; secret-named fields are redacted. */
  arguments: unknown;
  trigger: ApprovalTrigger;
  /** Filled by the risk module when it exists; absent means "not rated". */
  risk?: RiskAssessment;
}

export type ApprovalChannel = 'cli' | 'http' | 'api' | 'elicitation';

/** A decision as persisted (`<id>.decision.json`); the first one written wins. */
export interface ApprovalDecisionRecord {
  v: 1;
  id: string;
  decision: 'approved' | 'denied';
  /** The configured approver who decided. */
  approver: string;
  channel: ApprovalChannel;
  reason?: string;
  decidedAt: string;
  /** Extra evidence of who decided: token id for HTTP, OS user for the CLI. */
  evidence?: Record<string, string>;
}

/** The one use of an approval (`<id>.consumed.json`); its existence makes replays fail. */
export interface ApprovalConsumedRecord {
  v: 1;
  id: string;
  consumedAt: string;
  session: string;
}

/** A request with its derived status, as `approvals list/show` and the admin API show it. */
export interface ApprovalView extends ApprovalRequestRecord {
  status: ApprovalStatus;
  decision?: ApprovalDecisionRecord;
  consumed?: ApprovalConsumedRecord;
}

/** Who decides an out-of-band approval. */
export interface Approver {
  /** A name listed in approvals.approvers. */
  name: string;
  channel: Exclude<ApprovalChannel, 'elicitation'>;
  reason?: string;
  evidence?: Record<string, string>;
}

/**
 * Out-of-band approving and listing, for the HTTP admin API, the demo and
 * embedding applications. The gateway's default broker implements it; reach
 * it with `approvalDesk(gateway)`.
 */
export interface ApprovalDesk {
  list(options?: { all?: boolean }): Promise<ApprovalView[]>;
  get(id: string): Promise<ApprovalView | undefined>;
  /** The withheld output of a quarantine request (OUTPUT_QUARANTINED), for the approver to read before releasing it. */
  output(id: string): Promise<Record<string, unknown> | undefined>;
  approve(id: string, by: Approver): Promise<ApprovalView>;
  deny(id: string, by: Approver): Promise<ApprovalView>;
  /** Base URL of the HTTP endpoint, for `approve_url` in webhooks. */
  setPublicUrl(url: URL | string): void;
  /** The configured approver names. */
  readonly approvers: readonly string[];
}

/** Why an out-of-band decision was refused. */
export type ApprovalErrorKind = 'not_found' | 'invalid_id' | 'expired' | 'already_decided' | 'not_an_approver';

export class ApprovalError extends Error {
  override readonly name = 'ApprovalError';
  constructor(
    readonly kind: ApprovalErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/** The `_meta` key under which an agent names the approval its retry uses. */
export const APPROVAL_META_KEY = 'portcullis/approval';

/** The `_meta` key under which an agent names the quarantined output its retry fetches. */
export const RELEASE_META_KEY = 'portcullis/release';
