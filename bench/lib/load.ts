/**
 * Load shapes.
 *
 * fixedRate: open loop. Call i is due at t0 + i/rate and is sent then whatever
 * happened to earlier calls; its latency is measured from when it was *due*,
 * so a stall shows up in every call it delayed (no coordinated omission).
 * Node timers tick in whole milliseconds, so a call is sent up to ~1 ms after
 * it is due; that lag is the same for every configuration, is recorded
 * (`sendLag`), and cancels out of the added-latency figures. Service time
 * (from the actual send) is recorded too.
 *
 * closedLoop: saturation. Each caller keeps `inflight` calls going back to
 * back; throughput is the calls completed inside the measured window.
 */
import { Samples } from './stats.js';
import type { Caller } from './clients.js';

export interface FixedRateResult {
  targetRate: number;
  sent: number;
  completed: number;
  errors: number;
  firstError?: string;
  /** Completions per second over the window from the first due time to the last completion. */
  achievedRate: number;
  latency: Samples;
  service: Samples;
  sendLag: Samples;
  clientCpuPct: number;
}

export async function fixedRate(caller: Caller, rate: number, durationMs: number, seqStart = 0): Promise<FixedRateResult> {
  const total = Math.max(1, Math.round((rate * durationMs) / 1000));
  const period = 1000 / rate;
  const latency = new Samples();
  const service = new Samples();
  const sendLag = new Samples();
  let completed = 0;
  let errors = 0;
  let firstError: string | undefined;
  let outstanding = 0;
  let lastDone = 0;
  let sent = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now() + 2;
  let allSent!: () => void;
  const sending = new Promise<void>((r) => (allSent = r));
  let drained: (() => void) | undefined;

  const issue = (due: number) => {
    const sentAt = performance.now();
    sendLag.push(sentAt - due);
    outstanding++;
    sent++;
    caller.call(seqStart + sent).then(
      () => {
        const now = performance.now();
        latency.push(now - due);
        service.push(now - sentAt);
        completed++;
        lastDone = now;
        if (--outstanding === 0) drained?.();
      },
      (error: Error) => {
        errors++;
        firstError ??= error.message;
        lastDone = performance.now();
        if (--outstanding === 0) drained?.();
      },
    );
  };
  let i = 0;
  const tick = () => {
    const now = performance.now();
    while (i < total && t0 + i * period <= now) issue(t0 + i++ * period);
    if (i < total) setTimeout(tick, Math.max(0, t0 + i * period - performance.now() - 0.5));
    else allSent();
  };
  setTimeout(tick, 2);
  await sending;
  if (outstanding > 0) {
    await Promise.race([new Promise<void>((r) => (drained = r)), new Promise((r) => setTimeout(r, 30_000))]);
  }
  const cpu = process.cpuUsage(cpu0);
  const windowMs = Math.max(lastDone - t0, durationMs);
  return {
    targetRate: rate,
    sent,
    completed,
    errors: errors + outstanding,
    firstError: firstError ?? (outstanding > 0 ? `${outstanding} calls never answered` : undefined),
    achievedRate: (completed * 1000) / windowMs,
    latency,
    service,
    sendLag,
    clientCpuPct: ((cpu.user + cpu.system) / 1000 / windowMs) * 100,
  };
}

export interface ClosedLoopResult {
  callers: number;
  inflightPerCaller: number;
  completed: number;
  errors: number;
  firstError?: string;
  windowMs: number;
  throughput: number;
  latency: Samples;
  clientCpuPct: number;
}

export async function closedLoop(callers: Caller[], inflightPerCaller: number, durationMs: number, warmupMs: number): Promise<ClosedLoopResult> {
  const latency = new Samples();
  let completed = 0;
  let errors = 0;
  let firstError: string | undefined;
  const start = performance.now();
  const measureFrom = start + warmupMs;
  const stopAt = measureFrom + durationMs;
  let cpu0: NodeJS.CpuUsage | undefined;
  let seq = 0;
  const loop = async (caller: Caller) => {
    while (performance.now() < stopAt) {
      const t = performance.now();
      try {
        await caller.call(seq++);
        const done = performance.now();
        if (t >= measureFrom && done <= stopAt) {
          latency.push(done - t);
        }
        if (done >= measureFrom && done <= stopAt) completed++;
      } catch (error) {
        errors++;
        firstError ??= (error as Error).message;
        if (errors > 50 && completed === 0) return;
      }
    }
  };
  const warm = setTimeout(() => (cpu0 = process.cpuUsage()), warmupMs);
  await Promise.all(callers.flatMap((c) => Array.from({ length: inflightPerCaller }, () => loop(c))));
  clearTimeout(warm);
  const cpu = process.cpuUsage(cpu0);
  return {
    callers: callers.length,
    inflightPerCaller,
    completed,
    errors,
    firstError,
    windowMs: durationMs,
    throughput: (completed * 1000) / durationMs,
    latency,
    clientCpuPct: ((cpu.user + cpu.system) / 1000 / (performance.now() - measureFrom)) * 100,
  };
}
