import { constants } from 'node:os';
import type { SandboxLimitsConfig } from '../../config/schema.js';
import type { ProcessExit } from '../../transports/stdio-process.js';

export type SandboxLimits = SandboxLimitsConfig;

/** The limits a sandbox gets when the config says nothing (mirrors the config schema's defaults). */
export const DEFAULT_LIMITS: SandboxLimits = { memory_mb: 1024, cpu_seconds: 3600, processes: 128, open_files: 1024, tmp_mb: 64, stderr_kb: 1024 };

const MB = 1024 * 1024;

/**
 * prlimit(1) arguments, applied *inside* the sandbox, after bubblewrap has
 * created the user namespace. The order matters for RLIMIT_NPROC: the kernel
 * counts tasks per (user namespace, uid), and a namespace's ancestors are
 * checked against the limit in force when it was created. Set before bwrap,
 * every sandbox running as the same host uid would share one budget; set
 * inside, each sandbox gets its own.
 *
 * Memory is RLIMIT_DATA (private writable mappings, Linux >= 4.7), not
 * RLIMIT_AS: V8 reserves about a gigabyte of address space it never touches,
 * so an address-space limit either breaks Node or limits nothing.
 */
export function prlimitArgs(limits: SandboxLimits): string[] {
  return [
    `--data=${limits.memory_mb * MB}`,
    // Soft limit: SIGXCPU (fatal unless handled); hard limit a second later: SIGKILL.
    `--cpu=${limits.cpu_seconds}:${limits.cpu_seconds + 1}`,
    `--nproc=${limits.processes}`,
    `--nofile=${limits.open_files}`,
    // No core dumps: a crashed server must not write its memory (and secrets) to disk.
    '--core=0',
  ];
}

/**
 * Node servers also get a V8 heap limit under the memory limit, so running out
 * of memory ends with V8's clear "heap out of memory" (and the gateway can say
 * so) rather than a segfault when an mmap fails.
 */
export function nodeOptionsFor(limits: SandboxLimits, declared: string | undefined): string {
  // 40%: the rest is thread stacks, the young generation, code and Buffers, all counted by RLIMIT_DATA.
  const heap = `--max-old-space-size=${Math.max(16, Math.floor(limits.memory_mb * 0.4))}`;
  return declared ? `${heap} ${declared}` : heap;
}

// First name wins: SIGABRT, not its alias SIGIOT.
const SIGNAL_NAMES = new Map<number, NodeJS.Signals>();
for (const [name, n] of Object.entries(constants.signals)) if (!SIGNAL_NAMES.has(n)) SIGNAL_NAMES.set(n, name as NodeJS.Signals);

/** The signal that ended the server, also when a wrapper (bwrap exits 128+N) reported it as an exit code. */
export function terminatingSignal(exit: ProcessExit): NodeJS.Signals | null {
  if (exit.signal) return exit.signal;
  if (exit.code !== null && exit.code > 128 && exit.code < 128 + 65) return SIGNAL_NAMES.get(exit.code - 128) ?? null;
  return null;
}

const OOM_TEXT = /out of memory|allocation failed|bad_alloc|MemoryError|Cannot allocate memory|ENOMEM/i;
const CRASH_SIGNALS = new Set<NodeJS.Signals>(['SIGABRT', 'SIGSEGV', 'SIGBUS', 'SIGTRAP', 'SIGILL']);

/**
 * Why a sandboxed server ended, in terms of its limits, phrased to follow
 * `server "x" ...`. Undefined when the exit does not point at a limit.
 */
export function explainLimitExit(exit: ProcessExit, limits: SandboxLimits): string | undefined {
  const signal = terminatingSignal(exit);
  if (signal === 'SIGXCPU') {
    return `exceeded its CPU limit (sandbox.limits.cpu_seconds: ${limits.cpu_seconds}) and was killed (SIGXCPU)`;
  }
  const oomText = OOM_TEXT.test(exit.stderrTail);
  if (oomText && (signal || (exit.code !== null && exit.code !== 0))) {
    return `ran out of memory at its limit (sandbox.limits.memory_mb: ${limits.memory_mb}) and ${signal ? `was killed (${signal})` : `exited with code ${exit.code}`}`;
  }
  if (signal && CRASH_SIGNALS.has(signal)) {
    return `crashed (${signal}), most likely by hitting its memory limit (sandbox.limits.memory_mb: ${limits.memory_mb})`;
  }
  if (signal) return `was killed by ${signal}`;
  return undefined;
}
