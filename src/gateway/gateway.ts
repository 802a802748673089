import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Implementation, JSONRPCNotification, JSONRPCRequest, ServerCapabilities, Tool } from '@modelcontextprotocol/sdk/types.js';
import pino, { type Logger } from 'pino';
import { AuditLog, type AuditEvent } from '../audit/index.js';
import { isStdioServer, type Config } from '../config/schema.js';
import { defaultGuards } from '../guards/index.js';
import { Identity } from '../policy/identity.js';
import { isGlob } from '../policy/patterns.js';
import { Pipeline } from '../pipeline/pipeline.js';
import { RpcCodes } from '../pipeline/codes.js';
import type { CatalogTool, Decision, Guard, GuardEntry, Invocation } from '../pipeline/types.js';
// Not the sandbox barrel: it also exports the overhead measurement, which loads the SDK client.
import { SandboxManager } from '../sandbox/manager.js';
import type { SandboxBackend } from '../sandbox/types.js';
import type { ProcessSpec } from '../transports/stdio-process.js';
import { VERSION } from '../version.js';
import { ToolCatalog } from './catalog.js';
import { AuditUnavailableError, type ApprovalAnswer, type ApprovalBroker, type ApprovalRefusal, type GatewayCore, type HeldCall, type QuarantineRequest, type ReleaseAnswer, type ReleaseRequest } from './core.js';
import { ApprovalsBroker } from '../approvals/broker.js';
import type { RiskAssessor } from '../approvals/types.js';
import { riskAssessor } from '../risk/model.js';
import { redactSecrets, redactText } from '../screening/index.js';
import { Naming } from './naming.js';
import { ResourceRouter } from './resources.js';
import { Session, type SessionPrincipal } from './session.js';
import { AdmissionControl, readCa, type ServerSnapshot } from '../admission/control.js';
import { AdmissionError } from '../admission/refusal.js';
import { failure, Upstream, type LaunchPlan, type Outcome, type RequestOwner, type UpstreamEvent, type UpstreamInfo } from './upstream.js';

export interface GatewayOptions {
  config: Config;
  /** Where the audit log (and, for the CLI, keys) live. */
  dataDir: string;
  /** The guard chain; defaults to every control this build has. [] makes a pure relay. */
  guards?: readonly (Guard | GuardEntry)[];
  /** Where held calls go; defaults to the ApprovalsBroker configured by `approvals:` (elicitation and the persisted queue). */
  approvals?: ApprovalBroker;
  /** Fills the risk rating shown to approvers for holds that carry none (the risk module's seam). */
  assessRisk?: RiskAssessor;
  logger?: Logger;
  /** Rewrites the final launch command of stdio servers (applied after the sandbox has wrapped it). */
  launch?: (spec: ProcessSpec) => ProcessSpec;
  /**
   * The sandbox backend for stdio servers not set to `sandbox: none`; default
   * bubblewrap. Another backend (containers, WASM) plugs in here.
   */
  sandbox?: SandboxBackend;
  /** Use an already open audit log instead of opening one in dataDir. */
  auditLog?: AuditLog;
  /**
   * false starts servers without checking them against the lock: only for
   * looking at servers in order to review them (`portcullis pin`, the risk report).
   */
  admission?: false;
}

const TOOL_REFRESH_MIN_INTERVAL_MS = 1000;

/**
 * The gateway: one shared connection per upstream server, one Session per
 * client, one Pipeline every message walks, one audit chain. Transports
 * (HTTP, stdio, in-process) hand it a Transport and a principal; it knows
 * nothing of sockets.
 */
export class Gateway implements GatewayCore {
  readonly pipeline: Pipeline;
  readonly catalog: ToolCatalog;
  readonly naming: Naming;
  readonly resources: ResourceRouter;
  readonly log: Logger;
  readonly #upstreams = new Map<string, Upstream>();
  readonly #sessions = new Map<string, Session>();
  readonly #lastRefresh = new Map<string, number>();
  #auditLog?: AuditLog;
  #closed = false;
  /** The approval broker held calls go to (see approvalDesk() for out-of-band approving). */
  readonly approvals: ApprovalBroker;
  /** Holds servers and their definitions to portcullis.lock; absent only when started with admission: false. */
  readonly admission?: AdmissionControl;

  private constructor(
    readonly config: Config,
    private readonly options: GatewayOptions,
  ) {
    this.log = options.logger ?? pino({ level: 'silent' });
    if (options.admission !== false) {
      const otherServers = (server: string) => Object.keys(config.servers).filter((s) => s !== server).map((s) => ({ server: s, tools: this.catalog.tools(s).map((t) => t.name) }));
      this.admission = new AdmissionControl({ config, dataDir: options.dataDir, audit: (e) => this.audit(e), log: this.log, otherServers });
    }
    this.pipeline = new Pipeline(options.guards ?? defaultGuards(config, { admission: this.admission }));
    this.naming = new Naming(config);
    this.catalog = new ToolCatalog(this.naming);
    this.resources = new ResourceRouter(() => [...this.#upstreams.values()]);
    this.approvals =
      options.approvals ??
      new ApprovalsBroker({ config: config.approvals, dataDir: options.dataDir, audit: (e) => this.audit(e), log: this.log, assessRisk: options.assessRisk ?? riskAssessor(config), isIdentity: (n) => n in config.identities });
  }

  /** Opens the audit log and connects every configured server; rejects with what to fix. */
  static async start(options: GatewayOptions): Promise<Gateway> {
    const gw = new Gateway(options.config, options);
    gw.#auditLog = options.auditLog ?? (await AuditLog.open({ dir: options.dataDir, durability: options.config.audit.durability }));
    try {
      await gw.audit({ type: 'gateway.start', detail: { version: VERSION, mode: options.config.mode, servers: Object.keys(options.config.servers), guards: gw.pipeline.guards.map((g) => `${g.guard.name}${g.mode === 'shadow' ? ' (shadow)' : ''}`) } });
      // Refuses to start, before any server runs, on a missing or unsigned lock or a server it does not list.
      await gw.admission?.load().catch(async (error: Error) => {
        if (error instanceof AdmissionError) await gw.audit({ type: 'gateway.refused', reason: error.message }).catch(() => {});
        throw error;
      });
      // Fails closed here, before any server runs, if a sandboxed server cannot be sandboxed.
      const sandboxes = await SandboxManager.create({ config: options.config, dataDir: options.dataDir, audit: (e) => gw.audit(e), log: gw.log, backend: options.sandbox });
      const admission = gw.admission;
      for (const [name, server] of Object.entries(options.config.servers)) {
        let launch: ((spec: ProcessSpec) => Promise<LaunchPlan>) | undefined;
        if (isStdioServer(server)) {
          const sandboxed = sandboxes.launcher(name, server);
          const custom = options.launch;
          launch = async (spec) => {
            // The artifact is hashed at every launch, restarts included, before the sandbox runs it.
            const plan = await sandboxed(admission ? await admission.beforeLaunch(name, server, spec) : spec);
            return custom ? { ...plan, spec: custom(plan.spec) } : plan;
          };
        }
        const admit = admission && ((info: UpstreamInfo) => admission.admitServer(name, info));
        // Admission picks the fetch (the pinned key, a private CA); a gateway that only looks at servers to pin them still trusts their private CA.
        const fetch = admission
          ? await admission.fetchFor(name)
          : !isStdioServer(server) && server.ca ? (await import('../admission/tls-pin.js')).privateCaFetch(await readCa(name, server.ca)) : undefined;
        gw.#upstreams.set(name, new Upstream(name, server, { maxMessageBytes: options.config.limits.max_message_bytes, hooks: gw.#hooks(), launch, admit, fetch }));
      }
      await Promise.all([...gw.#upstreams.values()].map((u) => u.start()));
      await Promise.all([...gw.#upstreams.values()].map((u) => gw.#refreshTools(u)));
      for (const u of gw.#upstreams.values()) {
        if (admission?.awaitsFirstUse(u.name)) await admission.pinOnFirstUse(u.name, u.config, await gw.offer(u.name));
      }
    } catch (error) {
      await gw.close();
      throw error;
    }
    return gw;
  }

  /** Binds a client transport to a principal for the session's whole life. */
  async openSession(transport: Transport, principal: SessionPrincipal, id?: string): Promise<Session> {
    if (this.#closed) throw new Error('gateway is closed');
    const session = new Session(this, transport, principal, id);
    this.#sessions.set(session.id, session);
    await session.start();
    return session;
  }

  /**
   * In-process use: returns the client end of a linked transport pair whose
   * other end is a session bound to `identity`. Hand it to an SDK Client's
   * connect(); every call then walks the same pipeline as remote clients.
   */
  async connect(identity: Identity): Promise<Transport> {
    this.#checkIdentity(identity);
    const [clientSide, gatewaySide] = InMemoryTransport.createLinkedPair();
    await this.openSession(gatewaySide, { identity, method: 'in-process' });
    return clientSide;
  }

  get sessions(): ReadonlyMap<string, Session> {
    return this.#sessions;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#sessions.values()].map((s) => s.close('gateway shutting down')));
    await Promise.all([...this.#upstreams.values()].map((u) => u.close()));
    await this.approvals.close?.().catch(() => {});
    if (this.#auditLog) {
      await this.audit({ type: 'gateway.stop' }).catch(() => {});
      if (!this.options.auditLog) await this.#auditLog.close();
    }
  }

  /** Everything a server offers now (identity, tools, prompts, resource templates), as a lock records it. */
  async offer(server: string): Promise<ServerSnapshot> {
    const u = this.#upstreams.get(server);
    if (!u?.info) throw new Error(`server "${server}" is not connected`);
    const caps = u.info.capabilities;
    // A server may declare resources without templates (Method not found): nothing to pin then,
    // and anything it lists later is unpinned, so hidden.
    const [prompts, resourceTemplates] = await Promise.all([
      caps.prompts ? listAll(u, 'prompts/list', 'prompts').catch(() => []) : [],
      caps.resources ? listAll(u, 'resources/templates/list', 'resourceTemplates').catch(() => []) : [],
    ]);
    return { info: u.info, tools: this.catalog.tools(server).map((t) => t.definition), prompts, resourceTemplates };
  }

  get auditPath(): string | undefined {
    return this.#auditLog?.path;
  }

  // ---- GatewayCore ---------------------------------------------------------

  async audit(event: AuditEvent): Promise<void> {
    try {
      await this.#auditLog!.append(withoutSecrets(event));
    } catch (error) {
      throw new AuditUnavailableError((error as Error).message);
    }
  }

  readyUpstreams(): Upstream[] {
    return [...this.#upstreams.values()].filter((u) => u.ready);
  }

  upstream(name: string): Upstream | undefined {
    return this.#upstreams.get(name);
  }

  async findTool(exposedName: string): Promise<CatalogTool | undefined> {
    const target = this.naming.resolve(exposedName);
    if (!target || this.naming.collides(target.server, target.name)) return undefined;
    const found = this.catalog.get(target.server, target.name);
    if (found) return found;
    // A tool the catalog has not seen may have appeared without list_changed;
    // look once (rate-limited so unknown names cannot hammer the server).
    const upstream = this.#upstreams.get(target.server);
    const last = this.#lastRefresh.get(target.server) ?? 0;
    if (upstream?.ready && Date.now() - last > TOOL_REFRESH_MIN_INTERVAL_MS) {
      await this.#refreshTools(upstream);
      return this.catalog.get(target.server, target.name);
    }
    return undefined;
  }

  capabilities(): ServerCapabilities {
    const caps: ServerCapabilities = {};
    for (const u of this.#upstreams.values()) {
      const c = u.info?.capabilities ?? {};
      // list_changed is always offered: the gateway itself emits it when a catalog changes.
      if (c.tools) caps.tools = { listChanged: true };
      if (c.prompts) caps.prompts = { listChanged: true };
      if (c.resources) caps.resources = { listChanged: true, subscribe: Boolean(caps.resources?.subscribe || c.resources.subscribe) };
      if (c.logging) caps.logging = {};
      if (c.completions) caps.completions = {};
    }
    return caps;
  }

  serverIdentity(): { serverInfo: Implementation; instructions?: string } {
    const ups = [...this.#upstreams.values()];
    if (ups.length === 1 && ups[0].info) {
      // A single upstream is presented as itself, so clients see what they would see directly.
      return { serverInfo: ups[0].info.serverInfo, instructions: ups[0].info.instructions };
    }
    const parts = ups.filter((u) => u.info?.instructions).map((u) => `## ${u.name}\n${u.info!.instructions}`);
    return { serverInfo: { name: 'portcullis', version: VERSION }, instructions: parts.length > 0 ? parts.join('\n\n') : undefined };
  }

  async approve(session: Session, invocation: Invocation, hold: Decision, call?: HeldCall): Promise<ApprovalAnswer> {
    try {
      return await this.approvals.decide({ session, invocation, hold, call });
    } catch (error) {
      return { approved: false, detail: { channel: 'error', outcome: `refused: approval channel failed (${(error as Error).message})` } };
    }
  }

  async quarantine(request: QuarantineRequest): Promise<ApprovalRefusal> {
    const refused = (why: string): ApprovalRefusal => ({ verdict: 'deny', code: request.hold.code, reason: `${request.hold.reason}; the output was withheld and cannot be released (${why})` });
    if (!this.approvals.quarantine) return refused("this gateway's approval broker keeps no quarantine");
    try {
      return await this.approvals.quarantine(request);
    } catch (error) {
      if (error instanceof AuditUnavailableError) throw error;
      return refused(`the quarantine store failed: ${(error as Error).message}`);
    }
  }

  async release(request: ReleaseRequest): Promise<ReleaseAnswer> {
    if (!this.approvals.release) return { released: false, detail: { outcome: 'no quarantine' }, refusal: { verdict: 'deny', code: 'APPROVAL_MISMATCH', reason: 'this gateway\'s approval broker keeps no quarantine, so nothing can be released; call without _meta["portcullis/release"]' } };
    return this.approvals.release(request);
  }

  sessionClosed(session: Session): void {
    this.#sessions.delete(session.id);
  }

  isSubscribed(uri: string): boolean {
    for (const s of this.#sessions.values()) if (s.subscriptions.has(uri)) return true;
    return false;
  }

  async unsubscribeUpstream(uri: string): Promise<void> {
    const server = await this.resources.ownerOf(uri);
    const upstream = server === undefined ? undefined : this.#upstreams.get(server);
    if (upstream?.ready) await upstream.request('resources/unsubscribe', { uri }).outcome;
  }

  // ---- upstream events -----------------------------------------------------

  #hooks() {
    return {
      notification: (u: Upstream, n: JSONRPCNotification, owner: RequestOwner | undefined) => void this.#onUpstreamNotification(u, n, owner),
      request: (u: Upstream, r: JSONRPCRequest, owner: RequestOwner | undefined) => this.#onUpstreamRequest(u, r, owner),
      event: (u: Upstream, e: UpstreamEvent) => this.#onUpstreamEvent(u, e),
    };
  }

  async #onUpstreamNotification(u: Upstream, n: JSONRPCNotification, owner: RequestOwner | undefined): Promise<void> {
    const params = n.params as Record<string, unknown> | undefined;
    switch (n.method) {
      case 'notifications/tools/list_changed':
        await this.#refreshTools(u);
        return this.#broadcast(n.method);
      case 'notifications/prompts/list_changed':
        return this.#broadcast(n.method);
      case 'notifications/resources/list_changed':
        this.resources.forget(u.name);
        return this.#broadcast(n.method);
      case 'notifications/resources/updated': {
        const uri = String(params?.uri ?? '');
        for (const s of this.#sessions.values()) if (s.subscriptions.has(uri) && s.identity.resourceAccess(uri).allowed) s.notify(n.method, params);
        return;
      }
      case 'notifications/cancelled':
        for (const s of this.#sessions.values()) s.cancelForwarded(u, (params?.requestId ?? '') as string | number, params?.reason);
        return;
      default: {
        // Logging and other server notifications go only to the one session that
        // caused them; with several sessions active there is no safe recipient.
        const session = owner && this.#sessions.get(owner.sessionId);
        if (session) session.notify(n.method, params, owner!.downstreamId);
        else this.log.debug({ server: u.name, method: n.method }, 'dropped a notification no single session owns');
      }
    }
  }

  async #onUpstreamRequest(u: Upstream, r: JSONRPCRequest, owner: RequestOwner | undefined): Promise<Outcome> {
    if (r.method === 'roots/list') {
      // The gateway never declares roots upstream: one shared connection cannot carry each client's roots.
      return { error: { code: RpcCodes.METHOD_NOT_FOUND, message: `roots/list is not offered: Portcullis shares one connection to server "${u.name}" among all sessions, so client roots are not relayed; configure the server's directories in its args` } };
    }
    const session = owner && this.#sessions.get(owner.sessionId);
    if (!session) {
      const reason = `server "${u.name}" sent ${r.method} while ${u.owners().length} sessions had calls in flight; it cannot be attributed to one client, so it is refused`;
      await this.audit({ type: 'server-request', server: u.name, method: r.method, decision: 'deny', code: 'UNATTRIBUTABLE_REQUEST', reason }).catch(() => {});
      return failure('UNATTRIBUTABLE_REQUEST', reason);
    }
    return session.forwardRequest(u, r, owner!.downstreamId);
  }

  #onUpstreamEvent(u: Upstream, e: UpstreamEvent): void {
    // A server's stderr and exit details are its own words and may carry credentials: logs get them redacted.
    if (e.kind === 'stderr') return void (this.log.isLevelEnabled('debug') && this.log.debug({ server: u.name }, redactText(e.line, { secrets: true, pii: false }).text));
    const level = e.kind === 'started' ? 'info' : 'warn';
    this.log[level](redactSecrets({ server: u.name, ...e }, { secrets: true, pii: false }).value, `upstream ${u.name}: ${e.kind}`);
    const { kind, ...detail } = e;
    void this.audit({ type: 'upstream', server: u.name, reason: kind, detail }).catch(() => {});
    if (e.kind === 'started' && e.restart > 0) {
      // After a restart the server may offer different tools; never trust the old list.
      void this.#refreshTools(u).then((changed) => changed && this.#broadcast('notifications/tools/list_changed'));
    }
  }

  #broadcast(method: string): void {
    for (const s of this.#sessions.values()) s.notify(method, undefined);
  }

  /** Walks every page of a server's tools/list into the catalog. Returns whether anything changed. */
  async #refreshTools(u: Upstream): Promise<boolean> {
    this.#lastRefresh.set(u.name, Date.now());
    if (!u.info?.capabilities.tools) return false;
    let tools: Tool[];
    try {
      tools = (await listAll(u, 'tools/list', 'tools')) as Tool[];
    } catch (error) {
      this.log.warn({ server: u.name, error: (error as Error).message }, 'tools/list failed; keeping the previous catalog');
      return false;
    }
    const diff = this.catalog.replace(u.name, tools);
    const changed = diff.added.length + diff.changed.length + diff.removed.length > 0;
    if (changed) await this.audit({ type: 'catalog', server: u.name, detail: diff }).catch(() => {});
    // Judged now, not when a client next lists: a rug pull raises its alert as it happens.
    if (this.admission && !this.admission.awaitsFirstUse(u.name)) for (const t of this.catalog.tools(u.name)) this.admission.verdict(u.name, 'tool', t.definition as Record<string, unknown>, t.digest);
    return changed;
  }

  /** An in-process identity must name only servers this gateway has. */
  #checkIdentity(identity: Identity): void {
    const servers = new Set(this.#upstreams.keys());
    for (const p of [...identity.allowedTools, ...identity.deniedTools, ...identity.approvalRequiredOn, ...identity.allowedPrompts, ...identity.deniedPrompts]) {
      if (p.server !== null && !isGlob(p.server) && !servers.has(p.server)) {
        throw new Error(`identity ${identity.name}: pattern "${p.source}" names server "${p.server}", which this gateway does not have (servers: ${[...servers].join(', ')})`);
      }
    }
  }
}

/** Walks every page of a list (at most 100, so a server cannot page forever); throws on an error answer. */
async function listAll(u: Upstream, method: string, key: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 100; page++) {
    const answer = await u.request(method, cursor ? { cursor } : {}).outcome;
    if ('error' in answer) throw new Error(`${method} failed: ${answer.error.message}`);
    const got = answer.result[key];
    if (Array.isArray(got)) items.push(...(got as Record<string, unknown>[]));
    cursor = typeof answer.result.nextCursor === 'string' ? answer.result.nextCursor : undefined;
    if (!cursor) break;
  }
  return items;
}

/**
 * The audit log itself redacts secret-named fields; this finds secrets by their
 * value (an AWS key or GitHub token in `note`, a password in an upstream error
 * message) in every record, in this one place, before anything is hashed or
 * written. PII stays: an investigator needs to see whom an e-mail went to.
 */
function withoutSecrets(event: AuditEvent): AuditEvent {
  const args = event.args === undefined ? undefined : redactSecrets(event.args, { secrets: true, pii: false }).value;
  const detail = event.detail === undefined ? undefined : redactSecrets(event.detail, { secrets: true, pii: false }).value;
  const reason = event.reason === undefined ? undefined : redactText(event.reason, { secrets: true, pii: false }).text;
  if (args === event.args && detail === event.detail && reason === event.reason) return event;
  return { ...event, ...(args !== undefined ? { args } : {}), ...(detail !== undefined ? { detail } : {}), ...(reason !== undefined ? { reason } : {}) };
}
