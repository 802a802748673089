import { hash, randomUUID } from 'node:crypto';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  SUPPORTED_PROTOCOL_VERSIONS,
  LATEST_PROTOCOL_VERSION,
  type ClientCapabilities,
  type CreateMessageRequestParams,
  type JSONRPCMessage,
  type JSONRPCNotification,
  type JSONRPCRequest,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { AuditEvent } from '../audit/index.js';
import type { Identity } from '../policy/identity.js';
import { RpcCodes, rpcCodeFor } from '../pipeline/codes.js';
import type { CatalogTool, Decision, Invocation, Listed, RequestContext, SessionView } from '../pipeline/types.js';
import { failure, type Outcome, type RpcError, type Upstream } from './upstream.js';
import { AuditUnavailableError, type ApprovalAnswer, type GatewayCore } from './core.js';
import { APPROVAL_META_KEY, RELEASE_META_KEY } from '../approvals/types.js';

type Id = string | number;
type Params = Record<string, unknown>;

export interface SessionPrincipal {
  identity: Identity;
  /** How the client proved who it is: local-jwt, anonymous-loopback, stdio, in-process. */
  method: string;
  /** When the credential itself expires (epoch ms); the session ends no later. */
  expiresAt?: number;
}

interface ListSpec {
  kind: 'tools' | 'resources' | 'resourceTemplates' | 'prompts';
  capability: 'tools' | 'resources' | 'prompts';
}

const LISTS: Record<string, ListSpec> = {
  'tools/list': { kind: 'tools', capability: 'tools' },
  'resources/list': { kind: 'resources', capability: 'resources' },
  'resources/templates/list': { kind: 'resourceTemplates', capability: 'resources' },
  'prompts/list': { kind: 'prompts', capability: 'prompts' },
};

/**
 * One client connection bound to one identity for its whole life. It routes
 * every client message to the right upstream through the guard pipeline and
 * every upstream message back, auditing each decision. It knows nothing of the
 * wire: HTTP, stdio and in-process clients all arrive as an SDK Transport.
 */
export class Session implements SessionView {
  readonly id: string;
  readonly identity: Identity;
  readonly startedAt = Date.now();
  readonly expiresAt: number;
  clientCapabilities: ClientCapabilities = {};
  #closed = false;
  /** Client request id → the upstream request serving it, for cancellation. */
  #inFlight = new Map<Id, { upstream: Upstream; upstreamId: number }>();
  /** Server→client requests we forwarded, waiting for the client's answer. */
  #toClient = new Map<string, { resolve(o: Outcome): void; upstream?: Upstream; upstreamRequestId?: Id }>();
  #nextToClientId = 1;
  /** RequestContext.callId: numbers this session's requests, so audit records can name "call 7". */
  #nextCallId = 1;
  /** Held calls waiting for a human, by client request id: aborted on cancel or close. */
  #holds = new Map<Id, AbortController>();
  /** Requests the client cancelled while they were in flight; they get no response. */
  #cancelled = new Set<Id>();
  readonly subscriptions = new Set<string>();

  constructor(
    private readonly core: GatewayCore,
    private readonly transport: Transport,
    readonly principal: SessionPrincipal,
    id: string = randomUUID(),
  ) {
    this.id = id;
    this.identity = principal.identity;
    const ttlEnd = this.startedAt + this.identity.sessionTtlSeconds * 1000;
    this.expiresAt = principal.expiresAt === undefined ? ttlEnd : Math.min(ttlEnd, principal.expiresAt);
  }

  get expired(): boolean {
    return Date.now() >= this.expiresAt;
  }

  async start(): Promise<void> {
    this.transport.onmessage = (message) => this.#receive(message);
    this.transport.onclose = () => void this.close('client disconnected');
    this.transport.onerror = (error) => this.core.log.debug({ session: this.id, err: error.message }, 'client transport error');
    await this.core.audit({ type: 'session.start', session: this.id, identity: this.identity.name, detail: { method: this.principal.method, expiresAt: new Date(this.expiresAt).toISOString() } });
    await this.transport.start();
  }

  async close(reason: string): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const [, f] of this.#inFlight) f.upstream.cancel(f.upstreamId, `client session ended: ${reason}`);
    for (const [, p] of this.#toClient) p.resolve(failure('UPSTREAM_UNAVAILABLE', 'the client session ended before answering'));
    for (const [, h] of this.#holds) h.abort();
    this.core.sessionClosed(this);
    for (const uri of this.subscriptions) if (!this.core.isSubscribed(uri)) void this.core.unsubscribeUpstream(uri);
    await this.core.audit({ type: 'session.end', session: this.id, identity: this.identity.name, reason }).catch(() => {});
    await this.transport.close().catch(() => {});
  }

  // ---- client → gateway ----------------------------------------------------

  #receive(message: JSONRPCMessage): void {
    if ('method' in message) {
      if ('id' in message && message.id !== undefined) void this.#onRequest(message as JSONRPCRequest);
      else this.#onNotification(message as JSONRPCNotification);
      return;
    }
    const id = String((message as { id?: Id }).id);
    const waiting = this.#toClient.get(id);
    if (!waiting) return;
    this.#toClient.delete(id);
    waiting.resolve('error' in message ? { error: message.error as RpcError } : { result: (message as { result: Params }).result });
  }

  #onNotification(n: JSONRPCNotification): void {
    switch (n.method) {
      case 'notifications/cancelled': {
        const requestId = (n.params as { requestId?: Id } | undefined)?.requestId;
        if (requestId === undefined) return;
        const f = this.#inFlight.get(requestId);
        const held = this.#holds.get(requestId);
        // The spec says a cancelled request gets no response; remember it so none is sent.
        if (f || held) this.#cancelled.add(requestId);
        if (f) f.upstream.cancel(f.upstreamId, String((n.params as { reason?: unknown }).reason ?? 'cancelled by the client'));
        held?.abort();
        return;
      }
      default:
        // initialized and client-side progress need no relay. Roots are not relayed:
        // an upstream is shared, so one client's roots would redefine the server for all.
        return;
    }
  }

  async #onRequest(req: JSONRPCRequest): Promise<void> {
    const params = (req.params ?? {}) as Params;
    try {
      if (req.method === 'initialize') return await this.#reply(req.id, { result: this.#initialize(params) });
      if (req.method === 'ping') return await this.#reply(req.id, { result: {} });
      const ctx = this.#context(req.method, req.id);
      const gate = this.core.pipeline.request(ctx);
      if (gate.decision.verdict !== 'allow') {
        await this.core.audit({ type: 'request', session: this.id, identity: this.identity.name, method: req.method, ...decisionFields(gate.decision) });
        await this.#reply(req.id, refusal(gate.decision));
        if (gate.decision.code === 'SESSION_EXPIRED') void this.close('session expired');
        return;
      }
      const list = LISTS[req.method];
      if (list) return await this.#reply(req.id, await this.#list(ctx, list, params));
      switch (req.method) {
        case 'tools/call':
          return await this.#reply(req.id, await this.#callTool(ctx, req.id, params));
        case 'resources/read':
          return await this.#reply(req.id, await this.#readResource(ctx, req.id, params));
        case 'prompts/get':
          return await this.#reply(req.id, await this.#getPrompt(ctx, req.id, params));
        case 'resources/subscribe':
        case 'resources/unsubscribe':
          return await this.#reply(req.id, await this.#subscription(ctx, req.id, req.method, params));
        case 'completion/complete':
          return await this.#reply(req.id, await this.#complete(ctx, req.id, params));
        case 'logging/setLevel': {
          const answers = await Promise.all(this.core.readyUpstreams().filter((u) => u.info?.capabilities.logging).map((u) => u.request('logging/setLevel', params).outcome));
          return await this.#reply(req.id, answers.find((a) => 'error' in a) ?? { result: {} });
        }
        default:
          return await this.#reply(req.id, { error: { code: RpcCodes.METHOD_NOT_FOUND, message: `Method not found: ${req.method} is not a method this gateway relays` } });
      }
    } catch (error) {
      if (error instanceof AuditUnavailableError) {
        this.core.log.error({ err: error.message, session: this.id, method: req.method }, 'audit log unavailable; withholding the answer');
        return await this.#reply(req.id, failure('AUDIT_UNAVAILABLE', `the audit log could not be written (${error.message}), so the answer is withheld; the operator must check the data directory`));
      }
      // An unexpected fault anywhere above must not leave the client hanging nor let the call through.
      this.core.log.error({ err: error, session: this.id, method: req.method }, 'request failed inside the gateway');
      await this.core.audit({ type: 'error', session: this.id, identity: this.identity.name, method: req.method, code: 'GUARD_ERROR', reason: (error as Error).message }).catch(() => {});
      await this.#send({ jsonrpc: '2.0', id: req.id, error: { code: RpcCodes.INTERNAL_ERROR, message: `internal gateway error; the request was not relayed (${(error as Error).message})` } } as JSONRPCMessage);
    }
  }

  #initialize(params: Params): Params {
    this.clientCapabilities = (params.capabilities ?? {}) as ClientCapabilities;
    const requested = String(params.protocolVersion ?? '');
    const info = this.core.serverIdentity();
    return {
      protocolVersion: SUPPORTED_PROTOCOL_VERSIONS.includes(requested) ? requested : LATEST_PROTOCOL_VERSION,
      capabilities: this.core.capabilities(),
      serverInfo: info.serverInfo,
      ...(info.instructions ? { instructions: info.instructions } : {}),
    };
  }

  #context(method: string, requestId: Id): RequestContext {
    return {
      session: this,
      method,
      now: Date.now(),
      callId: String(this.#nextCallId++),
      record: (event) => void this.core.audit({ session: this.id, identity: this.identity.name, ...event }).catch(() => {}),
      ...(this.clientCapabilities.sampling ? { sample: (params, options) => this.#sample(requestId, params, options) } : {}),
    };
  }

  // ---- lists ---------------------------------------------------------------

  /**
   * One client page holds one upstream page from every server still paging, so
   * clients that never follow nextCursor (most do not) still see every server,
   * and a single server's pages pass through exactly as it cut them.
   */
  async #list(ctx: RequestContext, spec: ListSpec, params: Params): Promise<Outcome> {
    const servers = this.core.readyUpstreams().filter((u) => u.info?.capabilities[spec.capability]);
    let positions: Map<string, string | undefined>;
    if (params.cursor !== undefined) {
      const decoded = decodeCursor(params.cursor);
      if (!decoded) return { error: { code: RpcCodes.INVALID_PARAMS, message: 'Invalid cursor: pass back nextCursor exactly as received, or omit it to start again' } };
      positions = decoded;
    } else {
      positions = new Map(servers.map((u) => [u.name, undefined]));
    }
    const pages = await Promise.all(
      servers
        .filter((u) => positions.has(u.name))
        .map(async (u) => ({ upstream: u, answer: await u.request(ctx.method, { ...params, cursor: positions.get(u.name) }).outcome })),
    );
    const shown: Params[] = [];
    const hidden: { server: string; name: string; code: string }[] = [];
    const next = new Map<string, string>();
    let rest: Params = {};
    for (const { upstream, answer } of pages) {
      if ('error' in answer) {
        // One broken server must not hide the others; its absence is audited.
        hidden.push({ server: upstream.name, name: '*', code: 'UPSTREAM_PROTOCOL_ERROR' });
        continue;
      }
      const { [spec.kind]: rawItems, nextCursor, ...other } = answer.result;
      if (pages.length === 1) rest = other;
      if (typeof nextCursor === 'string') next.set(upstream.name, nextCursor);
      const items = Array.isArray(rawItems) ? (rawItems as Params[]) : [];
      const catalogued = spec.kind === 'tools' ? this.core.catalog.update(upstream.name, items as unknown as Tool[]) : undefined;
      items.forEach((item, i) => {
        const listed = listedItem(spec.kind, upstream.name, item, catalogued?.[i]);
        if (!listed) return;
        const label = String(item.name ?? item.uri ?? item.uriTemplate);
        if ((spec.kind === 'tools' || spec.kind === 'prompts') && this.core.naming.collides(upstream.name, label)) {
          hidden.push({ server: upstream.name, name: label, code: 'NAME_COLLISION' });
          return;
        }
        const d = this.core.pipeline.list(ctx, listed).decision;
        if (d.verdict !== 'allow') {
          hidden.push({ server: upstream.name, name: label, code: d.code });
          return;
        }
        if (spec.kind === 'resources') this.core.resources.sawResource(upstream.name, String(item.uri));
        if (spec.kind === 'tools') shown.push({ ...item, name: catalogued![i].exposedName });
        else if (spec.kind === 'prompts') shown.push({ ...item, name: this.core.naming.expose(upstream.name, label) });
        else shown.push(item);
      });
    }
    await this.core.audit({ type: 'list', session: this.id, identity: this.identity.name, method: ctx.method, detail: { shown: shown.length, hidden } });
    return { result: { ...rest, [spec.kind]: shown, ...(next.size > 0 ? { nextCursor: encodeCursor(next) } : {}) } };
  }

  // ---- invocations -----------------------------------------------------------

  async #callTool(ctx: RequestContext, id: Id, params: Params): Promise<Outcome> {
    const exposed = String(params.name ?? '');
    const args = (params.arguments ?? {}) as Params;
    const tool = await this.core.findTool(exposed);
    if (!tool) {
      const reason = `no configured server offers a tool named "${exposed}"; call tools/list for the tools this identity may use`;
      await this.core.audit({ type: 'call', session: this.id, identity: this.identity.name, method: ctx.method, tool: exposed, args, decision: 'deny', code: 'UNKNOWN_TOOL', reason });
      // Answered the way MCP SDK servers answer an unknown tool (a tool error the
      // model can read), so a client sees through the gateway what it would see directly.
      return { result: { content: [{ type: 'text', text: `UNKNOWN_TOOL: ${reason}` }], isError: true } };
    }
    const invocation: Invocation = { kind: 'tool', server: tool.server, name: tool.name, exposedName: exposed, arguments: args, tool };
    // The gateway does not offer tasks, so task metadata is ignored as the spec asks
    // of such a receiver: a task run upstream would bypass the result guards.
    const { task: _task, ...plain } = params;
    return this.#invoke(ctx, id, invocation, { ...plain, name: tool.name });
  }

  async #readResource(ctx: RequestContext, id: Id, params: Params): Promise<Outcome> {
    const uri = String(params.uri ?? '');
    const server = await this.core.resources.ownerOf(uri);
    if (!server) {
      const reason = `no configured server offers resource ${uri}`;
      await this.core.audit({ type: 'call', session: this.id, identity: this.identity.name, method: ctx.method, detail: { uri }, decision: 'deny', code: 'UNKNOWN_RESOURCE', reason });
      return failure('UNKNOWN_RESOURCE', reason);
    }
    return this.#invoke(ctx, id, { kind: 'resource', server, uri }, params);
  }

  async #getPrompt(ctx: RequestContext, id: Id, params: Params): Promise<Outcome> {
    const exposed = String(params.name ?? '');
    const target = this.core.naming.resolve(exposed);
    if (!target || !this.core.upstream(target.server)?.info?.capabilities.prompts || this.core.naming.collides(target.server, target.name)) {
      const reason = `no configured server offers a prompt named "${exposed}"`;
      await this.core.audit({ type: 'call', session: this.id, identity: this.identity.name, method: ctx.method, tool: exposed, decision: 'deny', code: 'UNKNOWN_PROMPT', reason });
      return failure('UNKNOWN_PROMPT', reason);
    }
    const args = (params.arguments ?? {}) as Params;
    return this.#invoke(ctx, id, { kind: 'prompt', server: target.server, name: target.name, exposedName: exposed, arguments: args }, { ...params, name: target.name });
  }

  async #subscription(ctx: RequestContext, id: Id, method: string, params: Params): Promise<Outcome> {
    const uri = String(params.uri ?? '');
    const server = await this.core.resources.ownerOf(uri);
    if (!server) return failure('UNKNOWN_RESOURCE', `no configured server offers resource ${uri}`);
    const access = this.identity.resourceAccess(uri);
    if (!access.allowed) {
      await this.core.audit({ type: 'call', session: this.id, identity: this.identity.name, method, server, detail: { uri }, decision: 'deny', code: 'RESOURCE_NOT_ALLOWED', reason: access.reason });
      return failure('RESOURCE_NOT_ALLOWED', access.reason);
    }
    // The upstream connection is shared: it subscribes on the first session's
    // request and unsubscribes only when the last subscriber leaves.
    const wasWatched = this.core.isSubscribed(uri);
    if (method === 'resources/subscribe') this.subscriptions.add(uri);
    else this.subscriptions.delete(uri);
    if (wasWatched === this.core.isSubscribed(uri)) return { result: {} };
    return this.#relay(ctx, id, this.core.upstream(server)!, method, params);
  }

  async #complete(ctx: RequestContext, id: Id, params: Params): Promise<Outcome> {
    const ref = (params.ref ?? {}) as { type?: string; name?: string; uri?: string };
    if (ref.type === 'ref/prompt') {
      const target = this.core.naming.resolve(String(ref.name ?? ''));
      const access = target ? this.identity.promptAccess(target.server, target.name) : undefined;
      if (!target || !access?.allowed) return failure('PROMPT_NOT_ALLOWED', access && !access.allowed ? access.reason : `no prompt named "${ref.name}"`);
      return this.#relay(ctx, id, this.core.upstream(target.server)!, ctx.method, { ...params, ref: { ...ref, name: target.name } });
    }
    const server = ref.type === 'ref/resource' ? await this.core.resources.ownerOf(String(ref.uri ?? '')) : undefined;
    if (!server) return failure('UNKNOWN_RESOURCE', `no configured server offers completions for ${JSON.stringify(ref)}`);
    if (this.identity.allowedResources.length === 0) return failure('RESOURCE_NOT_ALLOWED', `identity ${this.identity.name} has no allowed_resources`);
    return this.#relay(ctx, id, this.core.upstream(server)!, ctx.method, params);
  }

  /** The guarded path: pipeline → audit → upstream → result guards → audit (durable) → client. */
  async #invoke(ctx: RequestContext, id: Id, requested: Invocation, upstreamParams: Params): Promise<Outcome> {
    const upstream = this.core.upstream(requested.server);
    const release = (upstreamParams._meta as Params | undefined)?.[RELEASE_META_KEY];
    if (release !== undefined) return this.#release(ctx, requested, release);
    const { decision, trail, invocation } = await this.core.pipeline.invoke(ctx, requested);
    // A guard may have replaced the arguments (secrets redacted): the upstream, the approval and the audit see the replacement.
    if (invocation !== requested && invocation.kind !== 'resource') upstreamParams = { ...upstreamParams, arguments: invocation.arguments };
    const subject = subjectOf(invocation);
    const base: AuditEvent = { type: 'call', session: this.id, identity: this.identity.name, method: ctx.method, server: invocation.server, ...subject };
    // Result and error records point at the call record (detail.call), which holds the
    // arguments; storing them once halves what is redacted, hashed and written per call.
    const { args: _args, ...outcomeBase } = base;
    const trailDetail = {
      call: ctx.callId,
      ...(trail.length > 0 ? { trail: trailOf(trail) } : {}),
      // What the deciding guard found (e.g. the earlier call whose output a sink call carries), or what allowing guards changed.
      ...evidenceOf(decision, trail),
    };
    let approval: Params | undefined;
    if (decision.verdict === 'hold') {
      // Held: nothing reaches the upstream unless the approval broker says yes for this exact call.
      const held = new AbortController();
      this.#holds.set(id, held);
      let approved: ApprovalAnswer;
      try {
        approved = await this.core.approve(this, invocation, decision, { requestId: id, meta: upstreamParams._meta as Params | undefined, signal: held.signal });
      } finally {
        this.#holds.delete(id);
      }
      if (!approved.approved || held.signal.aborted) {
        const r = approved.approved ? { verdict: 'deny' as const, code: 'APPROVAL_DENIED' as const, reason: 'the client cancelled the call before it ran' } : approved.refusal;
        const final: Decision = r ? { verdict: r.verdict, code: r.code, reason: r.reason, guard: decision.guard } : decision;
        await this.core.audit({ ...base, ...decisionFields(final), detail: { ...trailDetail, approval: approved.detail } });
        return refusal(final, r?.data);
      }
      approval = approved.detail;
      upstreamParams = withoutApprovalMeta(upstreamParams);
    } else if (decision.verdict === 'deny') {
      await this.core.audit({ ...base, ...decisionFields(decision), detail: trailDetail });
      return refusal(decision);
    }
    if (!upstream) return failure('UPSTREAM_UNAVAILABLE', `server "${invocation.server}" is not configured`);
    const started = performance.now();
    const answering = this.#relay(ctx, id, upstream, ctx.method, upstreamParams);
    // The call record is built while the upstream works rather than before the
    // send, which takes its redaction and hashing (~40 µs) off every call's
    // latency. It loses nothing: the record reached the file after the send
    // before too (the log flushes on a later microtask), and its place in the
    // chain is fixed here, synchronously, ahead of the result record.
    // It need not be awaited now: the result record below is written after it
    // in the same chain, and the client waits for that one.
    const logged = this.core.audit({ ...base, decision: 'allow', code: 'ALLOWED', reason: decision.reason, guard: decision.guard, detail: approval ? { ...trailDetail, approval } : trailDetail });
    // Awaited below; this only keeps an early failure from counting as unhandled meanwhile.
    logged.catch(() => {});
    const answer = await answering;
    const ms = Math.round((performance.now() - started) * 1000) / 1000;
    if ('error' in answer) {
      // An error message reaches the model as text too; guards may rewrite it (never into a result).
      const error = this.core.pipeline.error(ctx, invocation, answer.error) as RpcError;
      await Promise.all([logged, this.core.audit({ ...outcomeBase, type: 'error', code: codeOf(error), reason: error.message, detail: { call: ctx.callId, ms } })]);
      return { error };
    }
    const screened = await this.core.pipeline.result(ctx, invocation, answer.result);
    const d = screened.decision;
    let final: Outcome;
    let fields: Partial<AuditEvent> = {};
    if (d.verdict === 'allow') {
      final = { result: d.result ?? answer.result };
    } else if (d.verdict === 'hold') {
      // Withheld for a human: kept as the guard left it, released only by an approver, fetched by an exact retry.
      const q = await this.core.quarantine({ session: this, invocation: requested, hold: d, output: d.result ?? answer.result });
      const held: Decision = { verdict: q.verdict, code: q.code, reason: q.reason, guard: d.guard };
      final = refusal(held, q.data);
      fields = decisionFields(held);
    } else {
      final = refusal(d);
      fields = decisionFields(d);
    }
    const objected = screened.trail.some((t) => t.verdict !== 'allow');
    const resultDetail = { call: ctx.callId, ms, ...(objected ? { trail: trailOf(screened.trail) } : {}), ...evidenceOf(d, screened.trail) };
    await Promise.all([logged, this.core.audit({ ...outcomeBase, type: 'result', ...fields, result: digest(answer.result), detail: resultDetail })]);
    return final;
  }

  /**
   * A retry naming a quarantined output (`_meta["portcullis/release"]`): the
   * stored output is handed over once if an approver released it for this
   * exact call of this session. The call is not run again.
   */
  async #release(ctx: RequestContext, invocation: Invocation, id: unknown): Promise<Outcome> {
    const base: AuditEvent = { type: 'result', session: this.id, identity: this.identity.name, method: ctx.method, server: invocation.server, ...subjectOf(invocation) };
    const answer = await this.core.release({ session: this, invocation, id });
    if (!answer.released) {
      const d: Decision = { verdict: answer.refusal.verdict, code: answer.refusal.code, reason: answer.refusal.reason };
      await this.core.audit({ ...base, type: 'call', ...decisionFields(d), detail: { call: ctx.callId, release: answer.detail } });
      return refusal(d, answer.refusal.data);
    }
    await this.core.audit({ ...base, decision: 'allow', code: 'ALLOWED', reason: `released output ${String(id)} delivered`, result: digest(answer.output), detail: { call: ctx.callId, release: answer.detail } });
    return { result: answer.output };
  }

  #relay(ctx: RequestContext, id: Id, upstream: Upstream, method: string, params: Params): Promise<Outcome> {
    const { id: upstreamId, outcome } = upstream.request(method, params, {
      owner: { sessionId: this.id, downstreamId: id },
      onProgress: (progress) => {
        const token = (params._meta as { progressToken?: unknown }).progressToken;
        void this.#send({ jsonrpc: '2.0', method: 'notifications/progress', params: { ...progress, progressToken: token } } as JSONRPCMessage, id);
      },
    });
    this.#inFlight.set(id, { upstream, upstreamId });
    return outcome.finally(() => this.#inFlight.delete(id));
  }

  // ---- upstream → client -----------------------------------------------------

  /** A server→client request attributed to this session (sampling, elicitation). */
  async forwardRequest(upstream: Upstream, request: JSONRPCRequest, relatedId: Id): Promise<Outcome> {
    // roots/list never gets here: the gateway answers it itself (roots are not relayed to shared upstreams).
    const needs: Record<string, keyof ClientCapabilities> = { 'sampling/createMessage': 'sampling', 'elicitation/create': 'elicitation' };
    const capability = needs[request.method];
    if (capability && !this.clientCapabilities[capability]) {
      return failure('CLIENT_CAPABILITY_MISSING', `server "${upstream.name}" asked for ${request.method}, but the client did not declare the ${capability} capability`);
    }
    const gatewayId = `pc-${this.#nextToClientId++}`;
    await this.core.audit({ type: 'server-request', session: this.id, identity: this.identity.name, server: upstream.name, method: request.method, decision: 'allow', code: 'ALLOWED', reason: 'relayed to the client that owns the call' });
    return new Promise<Outcome>((resolve) => {
      this.#toClient.set(gatewayId, { resolve, upstream, upstreamRequestId: request.id });
      void this.#send({ ...request, id: gatewayId } as JSONRPCMessage, relatedId);
    });
  }

  /**
   * The gateway's own elicitation/create to this client (the approval form),
   * on the stream of request `relatedId`. Settles with the client's answer, or
   * an error when the client lacks the capability, does not answer within
   * timeoutMs, the signal aborts, or the session ends.
   */
  async elicit(params: Params, relatedId: Id | undefined, options: { timeoutMs: number; signal?: AbortSignal }): Promise<Outcome> {
    if (!this.clientCapabilities.elicitation) return failure('CLIENT_CAPABILITY_MISSING', 'the client did not declare the elicitation capability');
    return this.#ask('elicitation/create', params, relatedId, options, {
      timeout: failure('APPROVAL_EXPIRED', `no answer within ${Math.round(options.timeoutMs / 1000)} s`),
      aborted: failure('APPROVAL_DENIED', 'the call was cancelled'),
    });
  }

  /** RequestContext.sample: the gateway's own sampling/createMessage to this client, on the stream of request `relatedId`. */
  async #sample(relatedId: Id, params: CreateMessageRequestParams, options: { timeoutMs: number; signal?: AbortSignal }): Promise<Params> {
    const answer = await this.#ask('sampling/createMessage', params as Params, relatedId, options, {
      timeout: failure('UPSTREAM_TIMEOUT', `the client gave no answer within ${options.timeoutMs} ms`),
      aborted: failure('UPSTREAM_UNAVAILABLE', 'the request was cancelled'),
    });
    if ('error' in answer) throw new Error(answer.error.message);
    return answer.result;
  }

  /** Sends a request of the gateway's own to the client; a timeout or abort also tells the client to stop. */
  #ask(method: string, params: Params, relatedId: Id | undefined, options: { timeoutMs: number; signal?: AbortSignal }, ends: { timeout: Outcome; aborted: Outcome }): Promise<Outcome> {
    if (this.#closed) return Promise.resolve(failure('UPSTREAM_UNAVAILABLE', 'the client session has ended'));
    const gatewayId = `pc-${this.#nextToClientId++}`;
    return new Promise<Outcome>((resolve) => {
      let done = false;
      const settle = (o: Outcome, cancel?: string) => {
        if (done) return;
        done = true;
        this.#toClient.delete(gatewayId);
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        if (cancel) void this.#send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: gatewayId, reason: cancel } } as JSONRPCMessage);
        resolve(o);
      };
      const onAbort = () => settle(ends.aborted, 'the call was cancelled');
      const timer = setTimeout(() => settle(ends.timeout, 'no answer in time'), options.timeoutMs);
      timer.unref?.();
      this.#toClient.set(gatewayId, { resolve: (o) => settle(o) });
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      void this.#send({ jsonrpc: '2.0', id: gatewayId, method, params } as JSONRPCMessage, relatedId);
    });
  }

  /** The upstream gave up on a request it sent us: tell the client. */
  cancelForwarded(upstream: Upstream, upstreamRequestId: Id, reason: unknown): void {
    for (const [gatewayId, p] of this.#toClient) {
      if (p.upstream === upstream && p.upstreamRequestId === upstreamRequestId) {
        this.#toClient.delete(gatewayId);
        p.resolve(failure('UPSTREAM_UNAVAILABLE', 'cancelled by the server'));
        void this.#send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: gatewayId, reason } } as JSONRPCMessage);
      }
    }
  }

  notify(method: string, params: Params | undefined, relatedId?: Id): void {
    void this.#send({ jsonrpc: '2.0', method, ...(params ? { params } : {}) } as JSONRPCMessage, relatedId);
  }

  async #reply(id: Id, outcome: Outcome): Promise<void> {
    if (this.#cancelled.delete(id)) return;
    await this.#send({ jsonrpc: '2.0', id, ...outcome } as JSONRPCMessage);
  }

  async #send(message: JSONRPCMessage, relatedRequestId?: Id): Promise<void> {
    if (this.#closed) return;
    try {
      await this.transport.send(message, relatedRequestId === undefined ? undefined : { relatedRequestId });
    } catch (error) {
      this.core.log.debug({ session: this.id, err: (error as Error).message }, 'could not deliver a message to the client');
    }
  }
}

function listedItem(kind: ListSpec['kind'], server: string, item: Params, tool: CatalogTool | undefined): Listed | undefined {
  switch (kind) {
    case 'tools':
      return typeof item.name === 'string' ? { kind: 'tool', server, name: item.name, tool } : undefined;
    case 'prompts':
      return typeof item.name === 'string' ? { kind: 'prompt', server, name: item.name, definition: item } : undefined;
    case 'resources':
      return typeof item.uri === 'string' ? { kind: 'resource', server, uri: item.uri } : undefined;
    case 'resourceTemplates':
      return typeof item.uriTemplate === 'string' ? { kind: 'resource_template', server, uriTemplate: item.uriTemplate, definition: item } : undefined;
  }
}

function subjectOf(inv: Invocation): Partial<AuditEvent> {
  switch (inv.kind) {
    case 'tool':
      return { tool: inv.name, args: inv.arguments };
    case 'prompt':
      return { tool: inv.name, args: inv.arguments, detail: { prompt: true } };
    case 'resource':
      return { detail: { uri: inv.uri } };
  }
}

function decisionFields(d: Decision): Partial<AuditEvent> {
  return { decision: d.verdict, code: d.code, reason: d.reason, guard: d.guard };
}

/** The client's error for a decision; `data` adds fields such as approvalId or quarantineId. */
function refusal(d: Decision, data?: Params): Outcome {
  return { error: { code: rpcCodeFor(d.code), message: `${d.code}: ${d.reason}`, data: { code: d.code, guard: d.guard, verdict: d.verdict, ...(d.retryAfterSeconds !== undefined ? { retry_after_seconds: d.retryAfterSeconds } : {}), ...data } } };
}

function trailOf(trail: readonly Decision[]): Params[] {
  return trail.map((d) => ({ guard: d.guard, verdict: d.verdict, code: d.code, ...(d.shadow ? { shadow: true } : {}) }));
}

/**
 * Evidence for the audit record: the deciding guard's detail, or when the
 * message was allowed, what allowing guards found or changed (e.g. what output
 * screening removed, which secrets were redacted: kinds and counts only).
 */
function evidenceOf(decision: Decision, trail: readonly Decision[]): { evidence?: Params } {
  if (decision.verdict !== 'allow') return decision.detail ? { evidence: { ...decision.detail } } : {};
  const found = trail.filter((d) => d.verdict === 'allow' && d.detail);
  return found.length === 0 ? {} : { evidence: Object.assign({}, ...found.map((d) => d.detail)) as Params };
}

/** The approval id is the gateway's business; the upstream never sees it. */
function withoutApprovalMeta(params: Params): Params {
  const meta = params._meta as Params | undefined;
  if (!meta || !(APPROVAL_META_KEY in meta)) return params;
  const { [APPROVAL_META_KEY]: _, ...rest } = meta;
  return { ...params, _meta: rest };
}

function codeOf(error: { data?: unknown }): string {
  const code = (error.data as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : 'UPSTREAM_ERROR';
}

function digest(result: Params): { bytes: number; sha256: string; isError: boolean } {
  const text = JSON.stringify(result);
  return { bytes: Buffer.byteLength(text), sha256: hash('sha256', text, 'hex'), isError: result.isError === true };
}

function encodeCursor(positions: Map<string, string>): string {
  return Buffer.from(JSON.stringify(Object.fromEntries(positions))).toString('base64url');
}

function decodeCursor(raw: unknown): Map<string, string> | undefined {
  if (typeof raw !== 'string') return undefined;
  try {
    const v = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.length === 0 || entries.some(([, c]) => typeof c !== 'string')) return undefined;
    return new Map(entries as [string, string][]);
  } catch {
    return undefined;
  }
}
