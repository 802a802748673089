/**
 * The risk vocabulary: three answers per tool (what it may do, how far the
 * damage reaches, whether it can be undone), the tier they put it in, the
 * flow labels the flow-control guard works with, and where each answer came from.
 */

export const PERMISSIONS = ['read', 'write', 'send-external', 'delete', 'execute'] as const;
export const BLAST_RADII = ['user', 'app', 'enterprise'] as const;
export const REVERSIBILITIES = ['reversible', 'irreversible'] as const;
export const TIERS = ['low', 'medium', 'high', 'critical'] as const;
export const FLOW_LABELS = ['private', 'untrusted', 'sink'] as const;
/** What a tier's calls need: nothing, a human, or an explicit listing in allowed_tools. */
export const GATES = ['allow', 'approval', 'approval-unless-explicit', 'deny-unless-explicit', 'deny'] as const;

/** Ordered from least to most dangerous (the order "worst case" uses). */
export type Permission = (typeof PERMISSIONS)[number];
export type BlastRadius = (typeof BLAST_RADII)[number];
export type Reversibility = (typeof REVERSIBILITIES)[number];
export type Tier = (typeof TIERS)[number];
export type FlowLabel = (typeof FLOW_LABELS)[number];
export type Gate = (typeof GATES)[number];

/**
 * Where an answer came from:
 *  - config: the operator said so (servers.<name>.risk / labels) — authoritative;
 *  - annotation: the server's MCP tool annotations, on a server marked trust_annotations;
 *  - annotation (untrusted): the same hints from a server nobody vouched for; they can
 *    only make a tool look worse, never better than the heuristics and defaults;
 *  - heuristic: the tool's name and description;
 *  - default: the MCP spec's worst-case default for an absent hint, or the gateway's
 *    default (blast radius "app") when nothing else says anything.
 */
export type Source = 'config' | 'annotation' | 'annotation (untrusted)' | 'heuristic' | 'default' | 'derived';

/** One-letter source marks for tables. */
export const SOURCE_LETTER: Record<Source, string> = {
  config: 'C',
  annotation: 'A',
  'annotation (untrusted)': 'a',
  heuristic: 'H',
  default: 'D',
  derived: '=',
};

export interface Answer<T> {
  readonly value: T;
  readonly source: Source;
  /** Why, in a few words ("readOnlyHint: true", "name says delete", "servers.crm.risk.blast_radius"). */
  readonly why: string;
}

export interface ToolRating {
  readonly server: string;
  readonly tool: string;
  readonly permission: Answer<Permission>;
  readonly blastRadius: Answer<BlastRadius>;
  readonly reversibility: Answer<Reversibility>;
  /** Derived from the three answers unless config pins it. */
  readonly tier: Answer<Tier>;
  /** Flow labels; config replaces inference entirely for a tool it names. */
  readonly labels: Answer<readonly FlowLabel[]>;
}

/** Per-tool overrides under servers.<name>.risk.tools. */
export interface ToolRiskOverride {
  readonly permission?: Permission;
  readonly blast_radius?: BlastRadius;
  readonly reversibility?: Reversibility;
  readonly tier?: Tier;
}

/** servers.<name>.risk */
export interface ServerRiskConfig {
  /** Usually a property of the server's credentials: what can its token reach? */
  readonly blast_radius?: BlastRadius;
  /** Believe the server's annotations (when it is pinned and vouched for). Default false. */
  readonly trust_annotations?: boolean;
  /** Tool name (or glob) → overrides. */
  readonly tools?: Readonly<Record<string, ToolRiskOverride>>;
}

/** What the risk model reads from a server's config. */
export interface ServerPolicyConfig {
  readonly risk?: ServerRiskConfig;
  /** Tool name (or glob) → flow labels; replaces inference for that tool. */
  readonly labels?: Readonly<Record<string, readonly FlowLabel[]>>;
}

/** risk.gates: what each tier's calls need. */
export type GatesConfig = Partial<Record<Tier, Gate>>;

/** The slice of the gateway config the risk model reads (the full Config satisfies it). */
export interface RiskConfigView {
  readonly mode?: 'development' | 'production';
  readonly servers: Readonly<Record<string, ServerPolicyConfig | object>>;
  readonly risk?: { readonly gates?: GatesConfig };
}

/** How a call stands for one identity once allowed_tools, approval rules and the tier gate are combined. */
export interface GateOutcome {
  /** allowed: runs; approval: held for a human; denied: refused (tier gate needs explicit listing). */
  readonly gate: 'allowed' | 'approval' | 'denied';
  /** What caused approval or denial: the identity's rule and/or the tier gate. */
  readonly triggers: readonly ('rule' | 'tier')[];
  /** The requires_human_approval_on pattern, when that is a trigger. */
  readonly rule?: string;
  readonly tier: Tier;
  /** The gate configured for the tier and whether the identity lists the tool explicitly. */
  readonly tierGate: Gate;
  readonly explicit: boolean;
}
