/**
 * Audit log throughput: AuditLog opened directly (no gateway), records shaped
 * like the gateway's own per-call pair ('call' with 1 KB of arguments, then
 * 'result' with a digest), appended as fast as the process can.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog, type AuditEvent } from '../../src/audit/index.js';
import { callArguments } from './payload.js';

export interface AuditResult {
  durability: 'fsync' | 'write';
  mode: string;
  records: number;
  seconds: number;
  recordsPerSec: number;
  bytesPerRecord: number;
}

function eventFor(i: number): AuditEvent {
  const base = { session: '6f1c2a9e-61c4-4a53-9d43-0d1f5a3b7c11', identity: 'bench', method: 'tools/call', server: 'bench', tool: 'echo' };
  if (i % 2 === 0) {
    return { type: 'call', ...base, args: callArguments(i), decision: 'allow', code: 'ALLOWED', reason: 'arguments match the schema and constraints', guard: 'argument-validation' };
  }
  // As the gateway writes it: the arguments stay in the call record, which detail.call names.
  return { type: 'result', ...base, result: { bytes: 4133, sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', isError: false }, detail: { call: String(i - 1), ms: 0.412 } };
}

/** Every record appended in one synchronous burst; the log's group commit batches them. */
export async function auditBurst(durability: 'fsync' | 'write', records: number): Promise<AuditResult> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-bench-audit-'));
  try {
    const log = await AuditLog.open({ dir, durability });
    const events = Array.from({ length: 1000 }, (_, i) => eventFor(i));
    const t0 = performance.now();
    const all: Promise<unknown>[] = new Array(records);
    for (let i = 0; i < records; i++) all[i] = log.append(events[i % 1000]);
    await Promise.all(all);
    const seconds = (performance.now() - t0) / 1000;
    await log.close();
    const size = (await stat(log.path)).size;
    return { durability, mode: 'burst', records, seconds, recordsPerSec: records / seconds, bytesPerRecord: size / records };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `writers` concurrent loops, each waiting for its record to be durable before the next (like sessions). */
export async function auditWriters(durability: 'fsync' | 'write', writers: number, durationMs: number): Promise<AuditResult> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-bench-audit-'));
  try {
    const log = await AuditLog.open({ dir, durability });
    const events = Array.from({ length: 1000 }, (_, i) => eventFor(i));
    let n = 0;
    const t0 = performance.now();
    const stopAt = t0 + durationMs;
    await Promise.all(
      Array.from({ length: writers }, async () => {
        while (performance.now() < stopAt) await log.append(events[n++ % 1000]);
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    await log.close();
    const size = (await stat(log.path)).size;
    return { durability, mode: `${writers} writers`, records: n, seconds, recordsPerSec: n / seconds, bytesPerRecord: size / n };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
