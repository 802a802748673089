import { allow, deny, type Decision, type Guard, type GuardEntry, type GuardMode, type Invocation, type InvokeDecision, type Listed, type RequestContext, type ResultDecision, type UpstreamError } from './types.js';

export interface Outcome<D extends Decision = Decision> {
  /** The decision that stands: the first enforced deny/hold, else allow. */
  readonly decision: D;
  /** Every guard's answer in order, including shadow-mode objections. */
  readonly trail: readonly Decision[];
}

/**
 * The ordered chain of guards every MCP message walks (Envoy's filter chain).
 * It knows no policy itself: it runs guards, stops at the first enforced deny
 * or hold, turns a guard that throws into a deny (fail closed), and lets a guard
 * in shadow mode object without blocking, so a new policy can be tried on live
 * traffic and read in the audit log first.
 */
export class Pipeline {
  readonly #entries: readonly GuardEntry[];
  readonly #onRequest: readonly GuardEntry[];
  readonly #onList: readonly GuardEntry[];
  readonly #onInvoke: readonly GuardEntry[];
  readonly #onResult: readonly GuardEntry[];
  readonly #onError: readonly GuardEntry[];

  constructor(guards: readonly (Guard | GuardEntry)[]) {
    this.#entries = guards.map((g) => ('guard' in g ? g : { guard: g, mode: 'enforce' as GuardMode }));
    // Resolved once so the hot path does not probe every guard for every phase.
    this.#onRequest = this.#entries.filter((e) => e.guard.onRequest);
    this.#onList = this.#entries.filter((e) => e.guard.onList);
    this.#onInvoke = this.#entries.filter((e) => e.guard.onInvoke);
    this.#onResult = this.#entries.filter((e) => e.guard.onResult);
    // A shadowed guard must not change what the client sees, so only enforcing ones rewrite errors.
    this.#onError = this.#entries.filter((e) => e.guard.onError && e.mode === 'enforce');
  }

  get guards(): readonly GuardEntry[] {
    return this.#entries;
  }

  request(ctx: RequestContext): Outcome {
    return this.#runSync(this.#onRequest, (g) => g.onRequest!(ctx));
  }

  list(ctx: RequestContext, item: Listed): Outcome {
    return this.#runSync(this.#onList, (g) => g.onList!(ctx, item));
  }

  /**
   * Runs invoke guards in order; each sees the invocation as the previous one
   * left it (a guard may replace the arguments). Returns the invocation to run.
   */
  async invoke(ctx: RequestContext, invocation: Invocation): Promise<Outcome & { invocation: Invocation }> {
    const trail: Decision[] = [];
    let current = invocation;
    for (const entry of this.#onInvoke) {
      let d: InvokeDecision;
      try {
        d = await entry.guard.onInvoke!(ctx, current);
      } catch (error) {
        d = failed(entry.guard, error);
      }
      const stop = record(trail, entry, d);
      if (stop) return { decision: stop, trail, invocation: current };
      if (d.arguments && entry.mode === 'enforce' && current.kind !== 'resource') current = { ...current, arguments: d.arguments };
    }
    return { decision: allow(), trail, invocation: current };
  }

  /** Runs result guards in order; each sees the result as the previous one left it. */
  async result(ctx: RequestContext, invocation: Invocation, result: Record<string, unknown>): Promise<Outcome<ResultDecision>> {
    const trail: Decision[] = [];
    let current = result;
    for (const entry of this.#onResult) {
      let d: ResultDecision;
      try {
        d = await entry.guard.onResult!(ctx, invocation, current);
      } catch (error) {
        d = failed(entry.guard, error);
      }
      const stop = record(trail, entry, d);
      if (stop) return { decision: stop, trail };
      if (d.result && entry.mode === 'enforce') current = d.result;
    }
    return { decision: { ...allow(), result: current }, trail };
  }

  /** Lets guards rewrite an upstream error (never into a result); a guard that throws withholds the message (fail closed). */
  error(ctx: RequestContext, invocation: Invocation, error: UpstreamError): UpstreamError {
    let current = error;
    for (const entry of this.#onError) {
      try {
        current = entry.guard.onError!(ctx, invocation, current) ?? current;
      } catch (e) {
        return { code: error.code, message: `the upstream's error message was withheld because guard ${entry.guard.name} failed on it (${(e as Error)?.message ?? String(e)})` };
      }
    }
    return current;
  }

  #runSync(entries: readonly GuardEntry[], call: (g: Guard) => Decision): Outcome {
    const trail: Decision[] = [];
    for (const entry of entries) {
      let d: Decision;
      try {
        d = call(entry.guard);
      } catch (error) {
        d = failed(entry.guard, error);
      }
      const stop = record(trail, entry, d);
      if (stop) return { decision: stop, trail };
    }
    return { decision: allow(), trail };
  }
}

function failed(guard: Guard, error: unknown): Decision {
  return deny('GUARD_ERROR', `guard ${guard.name} failed (${(error as Error)?.message ?? String(error)}); refusing because security checks fail closed`);
}

/** Appends the decision to the trail; returns it when it must stop the message. */
function record(trail: Decision[], entry: GuardEntry, d: Decision): Decision | undefined {
  const named: Decision = { ...d, guard: entry.guard.name };
  if (d.verdict === 'allow') {
    trail.push(named);
    return undefined;
  }
  // A guard that crashes is never shadowed: a broken control must not be mistaken for a passing one.
  if (entry.mode === 'shadow' && d.code !== 'GUARD_ERROR') {
    trail.push({ ...named, shadow: true });
    return undefined;
  }
  trail.push(named);
  return named;
}
