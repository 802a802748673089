/**
 * The gateway's approval broker: where held calls go for a human decision.
 *
 * Channels (approvals.mode):
 *  - elicitation: the connected client is asked with an MCP elicitation form;
 *    accept runs the call once, decline/cancel/error/no answer refuse it. The
 *    call stays open meanwhile.
 *  - queue: a persisted request an out-of-band approver decides with the CLI,
 *    the HTTP admin API or this class's ApprovalDesk methods; a webhook
 *    announces it. The agent either waits (wait_seconds, with progress) or gets
 *    APPROVAL_PENDING with the id and retries the same call with
 *    `_meta: {"portcullis/approval": id}`.
 *
 * An approval is bound to the exact call (identity, session, server, tool,
 * canonical argument hash), single use and expires; everything is audited as
 * `approval` records.
 */
import type { Logger } from 'pino';
import { redactSecretFields, type AuditEvent } from '../audit/index.js';
import type { ApprovalAnswer, ApprovalBroker, ApprovalRefusal, ApprovalRequest, QuarantineRequest, ReleaseAnswer, ReleaseRequest } from '../gateway/core.js';
import type { Session } from '../gateway/session.js';
import type { ReasonCode } from '../pipeline/codes.js';
import type { Decision, Invocation } from '../pipeline/types.js';
import { parseNamePattern, type NamePattern } from '../policy/patterns.js';
import type { ApprovalsConfig } from './config.js';
import { approvalForm, readElicitation } from './elicitation.js';
import { ApprovalStore, argumentsHash, isApprovalId, newApprovalId } from './store.js';
import { redactSecrets } from '../screening/index.js';
import {
  APPROVAL_META_KEY,
  RELEASE_META_KEY,
  ApprovalError,
  type ApprovalBinding,
  type ApprovalDesk,
  type ApprovalRequestRecord,
  type ApprovalTrigger,
  type ApprovalView,
  type Approver,
  type RiskAssessment,
  type RiskAssessor,
} from './types.js';
import { deliverWebhook, webhookPayload } from './webhook.js';

export interface ApprovalsBrokerOptions {
  config: ApprovalsConfig;
  dataDir: string;
  audit(event: AuditEvent): Promise<void>;
  log?: Logger;
  assessRisk?: RiskAssessor;
  /** Whether a name is an agent identity; such a name never approves. */
  isIdentity?: (name: string) => boolean;
  now?: () => number;
  /** How often waiting calls and the sweep look for decisions made by another process (ms). */
  pollMs?: number;
}

const PROGRESS_EVERY_MS = 2000;
const SWEEP_EVERY_MS = 1000;

type Subject = { server: string; tool: string; exposedName: string; args: Record<string, unknown> };

interface Held {
  request: ApprovalRequest;
  session: Session;
  binding: ApprovalBinding;
  subject: Subject;
  trigger: ApprovalTrigger;
  risk?: RiskAssessment;
}

export class ApprovalsBroker implements ApprovalBroker, ApprovalDesk {
  readonly store: ApprovalStore;
  readonly #config: ApprovalsConfig;
  readonly #outOfBand: NamePattern[];
  readonly #now: () => number;
  readonly #pollMs: number;
  /** Open requests this process created, by binding key, so a repeated call finds its request. */
  readonly #byBinding = new Map<string, string>();
  /** Open request id → binding key (what the sweep watches). */
  readonly #open = new Map<string, { key: string; base: AuditEvent }>();
  /** Decisions already audited by this process. */
  readonly #auditedDecisions = new Set<string>();
  readonly #wakers = new Map<string, Set<() => void>>();
  #sweeper?: NodeJS.Timeout;
  #sweeping = false;
  #publicUrl?: string;

  constructor(private readonly options: ApprovalsBrokerOptions) {
    this.#config = options.config;
    this.#outOfBand = options.config.out_of_band_on.map(parseNamePattern);
    this.#now = options.now ?? Date.now;
    this.#pollMs = options.pollMs ?? 200;
    this.store = new ApprovalStore(options.dataDir, this.#now);
    this.#publicUrl = options.config.public_url;
  }

  get approvers(): readonly string[] {
    return this.#config.approvers;
  }

  setPublicUrl(url: URL | string): void {
    // An explicitly configured public_url wins over the listen address.
    if (!this.#config.public_url) this.#publicUrl = new URL(String(url)).origin;
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    for (const set of this.#wakers.values()) for (const wake of set) wake();
  }

  // ---- ApprovalBroker --------------------------------------------------------

  async decide(request: ApprovalRequest): Promise<ApprovalAnswer> {
    const session = request.session;
    const subject = subjectOf(request.invocation);
    const binding: ApprovalBinding = {
      identity: session.identity.name,
      session: session.id,
      server: subject.server,
      tool: subject.tool,
      argumentsSha256: argumentsHash(subject.args),
    };
    const risk = riskOf(request.hold) ?? (await this.options.assessRisk?.({ session, invocation: request.invocation, hold: request.hold }));
    const held: Held = { request, session, binding, subject, trigger: triggerOf(request, risk), ...(risk ? { risk } : {}) };

    const presented = request.call?.meta?.[APPROVAL_META_KEY];
    if (presented !== undefined) return this.#retry(held, presented);

    const outOfBand = this.#outOfBand.some((p) => p.matches(subject.server, subject.tool));
    const canElicit = supportsFormElicitation(session.clientCapabilities.elicitation);
    if (!outOfBand && this.#config.mode !== 'queue' && canElicit) return this.#elicit(held);
    if (!outOfBand && this.#config.mode === 'elicitation') {
      return refuse({ channel: 'elicitation', outcome: 'client cannot elicit' }, 'deny', 'APPROVAL_REQUIRED', `${held.trigger.reason}; approvals.mode is elicitation but this client did not declare the elicitation (form) capability, so nobody can approve it. Nothing was executed`);
    }
    return this.#queue(held);
  }

  // ---- elicitation -----------------------------------------------------------

  async #elicit(held: Held): Promise<ApprovalAnswer> {
    const { session, subject, binding, trigger, risk } = held;
    const now = this.#now();
    const expiresAt = Math.min(now + this.#config.ttl_seconds * 1000, session.expiresAt);
    const form = approvalForm({ identity: binding.identity, server: subject.server, tool: subject.tool, exposedName: subject.exposedName, arguments: subject.args, trigger, risk, expiresAt: new Date(expiresAt) });
    const answer = await session.elicit(form, held.request.call?.requestId, { timeoutMs: Math.max(1, expiresAt - now), signal: held.request.call?.signal });
    const result = readElicitation('error' in answer ? { error: answer.error } : { result: answer.result });
    const base = this.#base(held);
    const detail = { channel: 'elicitation', argumentsSha256: binding.argumentsSha256, trigger, ...(risk ? { risk } : {}) };
    if (result.approved) {
      const approver = `user of the MCP client of identity ${binding.identity}`;
      await this.options.audit({ ...base, decision: 'allow', code: 'ALLOWED', reason: `approved by elicitation (${approver})${result.note ? `: ${result.note}` : ''}`, detail: { event: 'decided', decision: 'approved', approver, ...detail, ...(result.note ? { note: result.note } : {}) } });
      return { approved: true, detail: { channel: 'elicitation', outcome: 'accept', approver, ...(result.note ? { note: result.note } : {}) } };
    }
    const reason = `${result.why}; the call was not executed`;
    await this.options.audit({ ...base, decision: 'deny', code: 'APPROVAL_DENIED', reason: `refused by elicitation: ${reason}`, detail: { event: 'decided', decision: 'denied', outcome: result.outcome, ...detail } });
    return refuse({ channel: 'elicitation', outcome: result.outcome }, 'deny', 'APPROVAL_DENIED', reason);
  }

  // ---- queue -----------------------------------------------------------------

  async #queue(held: Held): Promise<ApprovalAnswer> {
    const key = bindingKey(held.binding);
    const existing = this.#byBinding.get(key);
    if (existing) {
      // The same call again (the agent retried without the id): never a second request.
      const view = await this.store.get(existing);
      if (view) {
        await this.#noteDecision(view);
        switch (view.status) {
          case 'approved':
            return this.#use(held, view);
          case 'denied':
            return this.#refuseRetry(held, view, 'APPROVAL_DENIED', deniedReason(view));
          case 'pending':
            return this.#await(held, view);
          default:
            this.#forget(existing);
        }
      } else {
        this.#forget(existing);
      }
    }
    const now = this.#now();
    const record: ApprovalRequestRecord = {
      v: 1,
      id: newApprovalId(),
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + this.#config.ttl_seconds * 1000).toISOString(),
      binding: held.binding,
      exposedName: held.subject.exposedName,
      arguments: safeArguments(held.subject.args),
      trigger: held.trigger,
      ...(held.risk ? { risk: held.risk } : {}),
    };
    await this.store.create(record);
    const base = this.#base(held);
    this.#byBinding.set(key, record.id);
    this.#open.set(record.id, { key, base });
    this.#startSweeper();
    await this.options.audit({
      ...base,
      args: held.subject.args,
      decision: 'hold',
      code: held.trigger.code as ReasonCode,
      reason: `queued for an out-of-band approver as ${record.id}: ${held.trigger.reason}`,
      guard: held.trigger.guard,
      detail: { event: 'requested', id: record.id, channel: 'queue', argumentsSha256: held.binding.argumentsSha256, expiresAt: record.expiresAt, trigger: held.trigger, ...(held.risk ? { risk: held.risk } : {}) },
    });
    this.#announce(record, base);
    return this.#await(held, { ...record, status: 'pending' });
  }

  /** A retry naming an approval id: it must be this exact call's, approved, unused and unexpired. */
  async #retry(held: Held, presented: unknown): Promise<ApprovalAnswer> {
    const id = typeof presented === 'string' ? presented : undefined;
    const view = id && isApprovalId(id) ? await this.store.get(id) : undefined;
    if (!view) {
      return this.#refuseRetry(held, undefined, 'APPROVAL_MISMATCH', `${JSON.stringify(presented).slice(0, 60)} is not an approval request of this gateway; call without _meta["${APPROVAL_META_KEY}"] to ask for approval`);
    }
    if (view.trigger.code === 'OUTPUT_QUARANTINED') {
      // Releasing an output approves reading it, never running the call again.
      return this.#refuseRetry(held, view, 'APPROVAL_MISMATCH', `${view.id} is a quarantined output, not an approval to run a call; fetch it with _meta["${RELEASE_META_KEY}"] once it is released`);
    }
    const mismatch = (Object.keys(view.binding) as (keyof ApprovalBinding)[]).filter((k) => view.binding[k] !== held.binding[k]);
    if (mismatch.length > 0) {
      const what = mismatch.map((k) => (k === 'argumentsSha256' ? 'arguments' : k)).join(', ');
      return this.#refuseRetry(held, view, 'APPROVAL_MISMATCH', `approval ${view.id} was given for a different call (${what} differ); an approval covers exactly one call by one session`, { mismatch });
    }
    await this.#noteDecision(view);
    switch (view.status) {
      case 'approved':
        return this.#use(held, view);
      case 'pending':
        return this.#await(held, view);
      case 'denied':
        return this.#refuseRetry(held, view, 'APPROVAL_DENIED', deniedReason(view));
      case 'expired':
        return this.#refuseRetry(held, view, 'APPROVAL_EXPIRED', `approval ${view.id} expired at ${view.expiresAt}${view.decision ? ' before it was used' : ' without a decision, which counts as denied'}; call again without the id to ask anew`);
      case 'consumed':
        return this.#refuseRetry(held, view, 'APPROVAL_REPLAYED', `approval ${view.id} was already used at ${view.consumed!.consumedAt}; an approval runs one call once`);
    }
  }

  /** Uses an approval: marked consumed (atomically, first use wins) and audited before the call runs. */
  async #use(held: Held, view: ApprovalView): Promise<ApprovalAnswer> {
    if (held.request.call?.signal?.aborted) return refuse({ channel: 'queue', id: view.id, outcome: 'cancelled' }, 'deny', 'APPROVAL_DENIED', 'the client cancelled the call before it ran');
    if (this.#now() >= Date.parse(view.expiresAt)) return this.#refuseRetry(held, view, 'APPROVAL_EXPIRED', `approval ${view.id} expired at ${view.expiresAt} before it was used`);
    if (!(await this.store.consume(view.id, held.session.id))) {
      return this.#refuseRetry(held, view, 'APPROVAL_REPLAYED', `approval ${view.id} was already used; an approval runs one call once`);
    }
    this.#forget(view.id);
    const d = view.decision!;
    const detail = { channel: 'queue', id: view.id, approver: d.approver, via: d.channel, decidedAt: d.decidedAt, ...(d.reason ? { approverReason: d.reason } : {}) };
    await this.options.audit({ ...this.#base(held), decision: 'allow', code: 'ALLOWED', reason: `approval ${view.id} used (approved by ${d.approver} via ${d.channel})`, detail: { event: 'consumed', ...detail } });
    return { approved: true, detail };
  }

  /** Pending: wait up to wait_seconds for a decision (with progress), else answer APPROVAL_PENDING. */
  async #await(held: Held, view: ApprovalView): Promise<ApprovalAnswer> {
    const wait = this.#config.wait_seconds * 1000;
    const signal = held.request.call?.signal;
    if (wait > 0 && !signal?.aborted) {
      const started = this.#now();
      const deadline = Math.min(started + wait, Date.parse(view.expiresAt), held.session.expiresAt);
      const token = (held.request.call?.meta as { progressToken?: unknown } | undefined)?.progressToken;
      let lastProgress = -Infinity;
      let step = 0;
      while (this.#now() < deadline && !signal?.aborted) {
        if (token !== undefined && (typeof token === 'string' || typeof token === 'number') && this.#now() - lastProgress >= PROGRESS_EVERY_MS) {
          lastProgress = this.#now();
          held.session.notify(
            'notifications/progress',
            { progressToken: token, progress: ++step, message: `waiting for a human to approve ${view.id} (portcullis approvals approve ${view.id} --as NAME); expires ${view.expiresAt}` },
            held.request.call?.requestId,
          );
        }
        await this.#sleep(view.id, Math.min(this.#pollMs, Math.max(1, deadline - this.#now())), signal);
        const now = await this.store.get(view.id);
        if (!now) break;
        await this.#noteDecision(now);
        if (now.status === 'approved') return this.#use(held, now);
        if (now.status === 'denied') return this.#refuseRetry(held, now, 'APPROVAL_DENIED', deniedReason(now));
        if (now.status !== 'pending') return this.#retry(held, view.id);
      }
      if (signal?.aborted) return refuse({ channel: 'queue', id: view.id, outcome: 'cancelled' }, 'deny', 'APPROVAL_DENIED', 'the client cancelled the call while it waited for approval; nothing was executed');
    }
    const reason =
      `held for approval as ${view.id}, nothing was executed (${held.trigger.reason}). ` +
      `An approver runs "portcullis approvals approve ${view.id} --as NAME" or uses the admin API; then retry exactly the same call ` +
      `with _meta {"${APPROVAL_META_KEY}": "${view.id}"} before ${view.expiresAt}`;
    return refuse(
      { channel: 'queue', id: view.id, status: 'pending', expiresAt: view.expiresAt, ...(wait > 0 ? { waitedSeconds: this.#config.wait_seconds } : {}) },
      'hold',
      'APPROVAL_PENDING',
      reason,
      { approvalId: view.id, status: 'pending', expiresAt: view.expiresAt, retry: { _meta: { [APPROVAL_META_KEY]: view.id } } },
    );
  }

  async #refuseRetry(held: Held, view: ApprovalView | undefined, code: ReasonCode, reason: string, extra: Record<string, unknown> = {}): Promise<ApprovalAnswer> {
    await this.options.audit({
      ...this.#base(held),
      decision: 'deny',
      code,
      reason,
      detail: { event: 'refused', ...(view ? { id: view.id, status: view.status } : {}), argumentsSha256: held.binding.argumentsSha256, ...extra },
    });
    return refuse({ channel: 'queue', ...(view ? { id: view.id } : {}), outcome: code }, 'deny', code, reason, view ? { approvalId: view.id } : undefined);
  }

  // ---- quarantine: outputs a result guard withheld ----------------------------------

  /**
   * Keeps a withheld output as a queued request (trigger OUTPUT_QUARANTINED)
   * with the output beside it, redacted of secrets, for an out-of-band
   * approver only: the agent's own client is never asked, since the output
   * was withheld from that very agent. Approving the request releases it.
   */
  async quarantine(request: QuarantineRequest): Promise<ApprovalRefusal> {
    const { session, invocation, hold } = request;
    const subject = subjectOf(invocation);
    const binding: ApprovalBinding = { identity: session.identity.name, session: session.id, server: subject.server, tool: subject.tool, argumentsSha256: argumentsHash(subject.args) };
    const now = this.#now();
    const trigger: ApprovalTrigger = { code: hold.code, ...(hold.guard ? { guard: hold.guard } : {}), reason: hold.reason };
    const record: ApprovalRequestRecord = {
      v: 1,
      id: newApprovalId(),
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + this.#config.ttl_seconds * 1000).toISOString(),
      binding,
      exposedName: subject.exposedName,
      arguments: safeArguments(subject.args),
      trigger,
    };
    await this.store.create(record, redactSecrets(request.output, { secrets: true, pii: false }).value);
    const base: AuditEvent = { type: 'approval', session: session.id, identity: binding.identity, server: binding.server, tool: binding.tool, method: invocation.kind === 'tool' ? 'tools/call' : undefined };
    // Tracked for the sweep (decisions by the CLI, expiry); never found by binding, as a repeated call runs anew.
    this.#open.set(record.id, { key: `quarantine:${record.id}`, base });
    this.#startSweeper();
    await this.options.audit({
      ...base,
      decision: 'hold',
      code: 'OUTPUT_QUARANTINED',
      reason: `output withheld as ${record.id}: ${hold.reason}`,
      guard: hold.guard,
      detail: { event: 'requested', id: record.id, channel: 'quarantine', argumentsSha256: binding.argumentsSha256, expiresAt: record.expiresAt, trigger },
    });
    this.#announce(record, base);
    const id = record.id;
    return {
      verdict: 'hold',
      code: 'OUTPUT_QUARANTINED',
      reason:
        `withheld as ${id}: ${hold.reason}. An approver reads it ("portcullis approvals show ${id} --output") and releases it ` +
        `("portcullis approvals release ${id} --as NAME" or the admin API); then retry exactly the same call with _meta {"${RELEASE_META_KEY}": "${id}"} before ${record.expiresAt}`,
      data: { quarantineId: id, expiresAt: record.expiresAt, retry: { _meta: { [RELEASE_META_KEY]: id } } },
    };
  }

  /** Hands a released output to the exact call of the session it was withheld from, once. */
  async release(request: ReleaseRequest): Promise<ReleaseAnswer> {
    const { session, invocation } = request;
    const subject = subjectOf(invocation);
    const binding: ApprovalBinding = { identity: session.identity.name, session: session.id, server: subject.server, tool: subject.tool, argumentsSha256: argumentsHash(subject.args) };
    const base: AuditEvent = { type: 'approval', session: session.id, identity: binding.identity, server: binding.server, tool: binding.tool };
    const id = typeof request.id === 'string' ? request.id : undefined;
    const view = id && isApprovalId(id) ? await this.store.get(id) : undefined;
    const refuse = async (code: ReasonCode, reason: string, verdict: 'deny' | 'hold' = 'deny'): Promise<ReleaseAnswer> => {
      await this.options.audit({ ...base, decision: verdict, code, reason, detail: { event: 'refused', channel: 'quarantine', ...(view ? { id: view.id, status: view.status } : {}), argumentsSha256: binding.argumentsSha256 } });
      return { released: false, detail: { id: view?.id ?? null, outcome: code }, refusal: { verdict, code, reason, ...(view ? { data: { quarantineId: view.id } } : {}) } };
    };
    if (!view || view.trigger.code !== 'OUTPUT_QUARANTINED') {
      return refuse('APPROVAL_MISMATCH', `${JSON.stringify(request.id).slice(0, 60)} is not a quarantined output of this gateway; call without _meta["${RELEASE_META_KEY}"] to run the call`);
    }
    const mismatch = (Object.keys(view.binding) as (keyof ApprovalBinding)[]).filter((k) => view.binding[k] !== binding[k]);
    if (mismatch.length > 0) {
      const what = mismatch.map((k) => (k === 'argumentsSha256' ? 'arguments' : k)).join(', ');
      return refuse('APPROVAL_MISMATCH', `quarantined output ${view.id} belongs to a different call (${what} differ); it is released only to the exact call of the session it was withheld from`);
    }
    await this.#noteDecision(view);
    switch (view.status) {
      case 'pending':
        return refuse('OUTPUT_QUARANTINED', `${view.id} is still withheld: no approver has released it yet ("portcullis approvals release ${view.id} --as NAME"); retry after that, before ${view.expiresAt}`, 'hold');
      case 'denied':
        return refuse('APPROVAL_DENIED', `the release of ${view.id} was refused by ${view.decision!.approver}${view.decision!.reason ? `: ${view.decision!.reason}` : ''}; the output stays withheld`);
      case 'expired':
        return refuse('APPROVAL_EXPIRED', `quarantined output ${view.id} expired at ${view.expiresAt}${view.decision ? ' before it was fetched' : ' without being released'}; run the call again`);
      case 'consumed':
        return refuse('APPROVAL_REPLAYED', `quarantined output ${view.id} was already delivered at ${view.consumed!.consumedAt}; a release hands it over once`);
      case 'approved':
        break;
    }
    const output = await this.store.output(view.id);
    if (!output) return refuse('APPROVAL_MISMATCH', `quarantined output ${view.id} has no stored output (its file is missing); run the call again`);
    if (!(await this.store.consume(view.id, session.id))) return refuse('APPROVAL_REPLAYED', `quarantined output ${view.id} was already delivered; a release hands it over once`);
    this.#forget(view.id);
    const d = view.decision!;
    const detail = { channel: 'quarantine', id: view.id, approver: d.approver, via: d.channel, decidedAt: d.decidedAt };
    await this.options.audit({ ...base, decision: 'allow', code: 'ALLOWED', reason: `quarantined output ${view.id} delivered (released by ${d.approver} via ${d.channel})`, detail: { event: 'consumed', ...detail } });
    return { released: true, output, detail };
  }

  // ---- ApprovalDesk: out-of-band decisions in this process ----------------------

  list(options: { all?: boolean } = {}): Promise<ApprovalView[]> {
    return this.store.list(options);
  }

  get(id: string): Promise<ApprovalView | undefined> {
    return this.store.get(id);
  }

  output(id: string): Promise<Record<string, unknown> | undefined> {
    return this.store.output(id);
  }

  approve(id: string, by: Approver): Promise<ApprovalView> {
    return this.#decideOutOfBand(id, 'approved', by);
  }

  deny(id: string, by: Approver): Promise<ApprovalView> {
    return this.#decideOutOfBand(id, 'denied', by);
  }

  async #decideOutOfBand(id: string, decision: 'approved' | 'denied', by: Approver): Promise<ApprovalView> {
    checkApprover(by.name, this.#config.approvers, this.options.isIdentity);
    const view = await this.store.decide(id, decision, by);
    await this.#noteDecision(view);
    this.#wake(id);
    return view;
  }

  // ---- bookkeeping -----------------------------------------------------------

  /** Audits a decision the first time this process sees it (decisions by the CLI arrive through the store). */
  async #noteDecision(view: ApprovalView): Promise<void> {
    const d = view.decision;
    if (!d || this.#auditedDecisions.has(view.id)) return;
    this.#auditedDecisions.add(view.id);
    const approved = d.decision === 'approved';
    await this.options.audit({
      ...this.#baseOf(view),
      decision: approved ? 'allow' : 'deny',
      code: approved ? 'ALLOWED' : 'APPROVAL_DENIED',
      reason: `${d.decision} by ${d.approver} via ${d.channel}${d.reason ? `: ${d.reason}` : ''}`,
      detail: { event: 'decided', id: view.id, decision: d.decision, approver: d.approver, channel: d.channel, decidedAt: d.decidedAt, ...(d.reason ? { approverReason: d.reason } : {}), ...(d.evidence ? { evidence: d.evidence } : {}) },
    });
  }

  #announce(record: ApprovalRequestRecord, base: AuditEvent): void {
    const hook = this.#config.webhook;
    if (!hook) return;
    const target = safeUrl(hook.url);
    void deliverWebhook(hook, webhookPayload(record, this.#publicUrl))
      .then((o) =>
        this.options.audit({
          ...base,
          reason: o.ok ? `webhook delivered for ${record.id} (HTTP ${o.status})` : `webhook failed for ${record.id}: ${o.error}`,
          detail: { event: o.ok ? 'webhook-delivered' : 'webhook-failed', id: record.id, url: target, ...(o.status ? { status: o.status } : {}), ms: o.ms, ...(o.ok ? {} : { error: o.error }) },
        }),
      )
      .catch((error: unknown) => this.options.log?.warn({ err: (error as Error).message, id: record.id }, 'could not audit the webhook outcome'));
  }

  #startSweeper(): void {
    if (this.#sweeper) return;
    this.#sweeper = setInterval(() => void this.#sweep(), SWEEP_EVERY_MS);
    this.#sweeper.unref();
  }

  /** Audits decisions made by other processes and requests that expired undecided (= denied). */
  async #sweep(): Promise<void> {
    if (this.#sweeping) return;
    this.#sweeping = true;
    try {
      for (const [id] of [...this.#open]) {
        const view = await this.store.get(id);
        if (!view) {
          this.#forget(id);
          continue;
        }
        await this.#noteDecision(view);
        if (view.decision) this.#wake(id);
        if (view.status === 'expired') {
          await this.options.audit({
            ...this.#baseOf(view),
            decision: 'deny',
            code: 'APPROVAL_EXPIRED',
            reason: view.decision ? `approval ${id} expired unused at ${view.expiresAt}` : `approval request ${id} expired at ${view.expiresAt} without a decision, which counts as denied`,
            detail: { event: 'expired', id, decided: view.decision?.decision ?? null },
          });
          this.#forget(id);
        } else if (view.status === 'consumed') {
          this.#forget(id);
        }
      }
      if (this.#open.size === 0) {
        clearInterval(this.#sweeper);
        this.#sweeper = undefined;
      }
    } catch (error) {
      this.options.log?.warn({ err: (error as Error).message }, 'approval sweep failed');
    } finally {
      this.#sweeping = false;
    }
  }

  #forget(id: string): void {
    const open = this.#open.get(id);
    if (open && this.#byBinding.get(open.key) === id) this.#byBinding.delete(open.key);
    this.#open.delete(id);
  }

  #sleep(id: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let set = this.#wakers.get(id);
      if (!set) this.#wakers.set(id, (set = new Set()));
      const done = () => {
        clearTimeout(timer);
        set!.delete(done);
        if (set!.size === 0) this.#wakers.delete(id);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      set.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  #wake(id: string): void {
    for (const wake of [...(this.#wakers.get(id) ?? [])]) wake();
  }

  #base(held: Held): AuditEvent {
    return { type: 'approval', session: held.binding.session, identity: held.binding.identity, server: held.binding.server, tool: held.binding.tool, method: held.request.invocation.kind === 'tool' ? 'tools/call' : undefined };
  }

  #baseOf(view: ApprovalView): AuditEvent {
    return this.#open.get(view.id)?.base ?? { type: 'approval', session: view.binding.session, identity: view.binding.identity, server: view.binding.server, tool: view.binding.tool };
  }
}

/** Only configured approvers decide, and an agent identity's name never does. */
export function checkApprover(name: string, approvers: readonly string[], isIdentity?: (name: string) => boolean): void {
  if (isIdentity?.(name)) throw new ApprovalError('not_an_approver', `"${name}" is an agent identity; an agent's credential can never approve`);
  if (!approvers.includes(name)) {
    throw new ApprovalError('not_an_approver', `"${name}" is not a configured approver${approvers.length ? ` (approvals.approvers: ${approvers.join(', ')})` : '; list approvers under approvals.approvers in the config'}`);
  }
}

/** Reaches the out-of-band approval API of a gateway whose broker offers one (the default broker does). */
export function approvalDesk(gateway: { approvals?: unknown }): ApprovalDesk {
  const broker = gateway.approvals;
  if (broker instanceof ApprovalsBroker) return broker;
  throw new Error('this gateway\'s approval broker has no out-of-band desk (a custom ApprovalBroker was passed to Gateway.start)');
}

/** A hold may carry the risk module's rating as `risk` (see withRisk). */
export function withRisk<D extends Decision>(decision: D, risk: RiskAssessment): D & { risk: RiskAssessment } {
  return { ...decision, risk };
}

function riskOf(hold: Decision): RiskAssessment | undefined {
  const r = (hold as Decision & { risk?: unknown }).risk as RiskAssessment | undefined;
  if (!r || typeof r !== 'object') return undefined;
  const ok = ['permission', 'blastRadius', 'reversibility', 'tier'].every((k) => typeof (r as unknown as Record<string, unknown>)[k] === 'string');
  return ok ? r : undefined;
}

function triggerOf(request: ApprovalRequest, risk: RiskAssessment | undefined): ApprovalTrigger {
  const { hold, invocation, session } = request;
  const rule = hold.guard === 'approval' && invocation.kind === 'tool' ? session.identity.approvalRule(invocation.server, invocation.name) : undefined;
  const heldByRisk = riskOf(hold) !== undefined;
  return { code: hold.code, ...(hold.guard ? { guard: hold.guard } : {}), reason: hold.reason, ...(rule ? { rule } : {}), ...(heldByRisk && risk ? { tier: risk.tier } : {}) };
}

function subjectOf(inv: Invocation): Subject {
  switch (inv.kind) {
    case 'tool':
      return { server: inv.server, tool: inv.name, exposedName: inv.exposedName, args: inv.arguments };
    case 'prompt':
      return { server: inv.server, tool: `prompt:${inv.name}`, exposedName: inv.exposedName, args: inv.arguments };
    case 'resource':
      return { server: inv.server, tool: `resource:${inv.uri}`, exposedName: inv.uri, args: { uri: inv.uri } };
  }
}

function bindingKey(b: ApprovalBinding): string {
  return JSON.stringify([b.identity, b.session, b.server, b.tool, b.argumentsSha256]);
}

/** Form mode is what the approval form needs; `{}` (no modes named) means form, as the spec says. */
export function supportsFormElicitation(cap: unknown): boolean {
  if (!cap || typeof cap !== 'object') return false;
  const c = cap as Record<string, unknown>;
  if ('form' in c || 'url' in c) return 'form' in c && c.form !== undefined;
  return true;
}

function deniedReason(view: ApprovalView): string {
  const d = view.decision!;
  return `approval ${view.id} was denied by ${d.approver} via ${d.channel}${d.reason ? `: ${d.reason}` : ''}; the call was not executed`;
}

function refuse(detail: Record<string, unknown>, verdict: ApprovalRefusal['verdict'], code: ReasonCode, reason: string, data?: Record<string, unknown>): ApprovalAnswer {
  return { approved: false, detail, refusal: { verdict, code, reason, ...(data ? { data } : {}) } };
}

/** Arguments as approvers see them on disk: secret-named fields and secrets found by value redacted. */
function safeArguments(args: Record<string, unknown>): unknown {
  return redactSecrets(redactSecretFields(args), { secrets: true, pii: false }).value;
}

/** The webhook URL without credentials or query, for the audit log. */
function safeUrl(raw: string): string {
  try {
    const u = new URL(raw);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid url)';
  }
}
