/**
 * Child processes of the benchmark: every one is registered here and killed
 * (process group and all) on exit, error or signal, so a failed run leaves
 * nothing behind. Also /proc readings: RSS and CPU time of a process.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

const children = new Set<ChildProcess>();

export interface Spawned {
  child: ChildProcess;
  pid: number;
  /** Last lines of stderr, for error messages. */
  stderrTail(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export function spawnTracked(command: string, args: string[], options: SpawnOptions & { keepStdout?: boolean } = {}): Spawned {
  const child = spawn(command, args, {
    stdio: ['pipe', options.keepStdout ? 'pipe' : 'ignore', 'pipe'],
    // Own process group: kill(-pid) also reaches grandchildren (upstream servers, shells).
    detached: true,
    ...options,
  });
  children.add(child);
  const tail: string[] = [];
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (t: string) => {
    for (const line of t.split('\n')) if (line.trim()) tail.push(line.slice(0, 300));
    if (tail.length > 30) tail.splice(0, tail.length - 30);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
    child.once('error', () => {
      children.delete(child);
      resolve({ code: -1, signal: null });
    });
  });
  if (child.pid === undefined) throw new Error(`could not spawn ${command}`);
  const pid = child.pid;
  return {
    child,
    pid,
    stderrTail: () => tail.join('\n'),
    exited,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(signal === 'SIGTERM' ? pid : -pid, signal);
      } catch {
        /* already gone */
      }
      const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      // Whatever the process left in its group (its upstream server) goes too.
      killGroup(pid, 'SIGKILL');
    },
  };
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    /* no such group */
  }
}

const extraPids = new Set<number>();
/** A process spawned by someone else (the SDK's stdio transport) that must not outlive the run. */
export function trackPid(pid: number): () => void {
  extraPids.add(pid);
  return () => extraPids.delete(pid);
}

function parentOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return -1;
  }
}

/** Kills pid and its descendants, but only while pid is still the child of `parent` (never a recycled pid). */
function killTree(pid: number, parent: number): void {
  if (parentOf(pid) !== parent) return;
  for (const c of childPids(pid)) killTree(c, pid);
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

/** Kills every child still running, with its whole process group. Synchronous: safe in 'exit'. */
export function killAll(): void {
  for (const pid of extraPids) killTree(pid, process.pid);
  extraPids.clear();
  for (const c of children) if (c.pid !== undefined) killGroup(c.pid, 'SIGKILL');
  children.clear();
}

let installed = false;
export function installCleanup(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      killAll();
      process.exit(130);
    });
  }
  process.on('uncaughtException', (e) => {
    process.stderr.write(`bench: ${e.stack ?? e.message}\n`);
    killAll();
    process.exit(1);
  });
  process.on('unhandledRejection', (e) => {
    process.stderr.write(`bench: unhandled rejection: ${(e as Error)?.stack ?? String(e)}\n`);
    killAll();
    process.exit(1);
  });
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const INIT_BODY = JSON.stringify({
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench-probe', version: '1' } },
});

/** One initialize POST; resolves true if it was answered with a result (2xx), false if refused/unreachable. */
export function probeInitialize(url: URL): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      url,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'content-length': Buffer.byteLength(INIT_BODY) } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          const ok = (res.statusCode ?? 500) < 300 && body.includes('"result"');
          const sid = res.headers['mcp-session-id'];
          // Close the probe's session so it does not linger (and, for supergateway, its child).
          if (typeof sid === 'string') {
            const del = request(url, { method: 'DELETE', agent: false, headers: { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' } }, (r) => r.resume());
            del.on('error', () => {});
            del.end();
          }
          resolve(ok);
        });
        res.on('error', () => resolve(false));
      },
    );
    req.on('error', () => resolve(false));
    req.setTimeout(5000, () => req.destroy());
    req.end(INIT_BODY);
  });
}

/** Polls until the endpoint answers an initialize; returns ms waited. Throws after timeoutMs. */
export async function waitForInitialize(url: URL, timeoutMs: number, proc?: Spawned, intervalMs = 5): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await probeInitialize(url)) return performance.now() - start;
    if (proc && (proc.child.exitCode !== null || proc.child.signalCode !== null)) {
      throw new Error(`process exited before answering initialize at ${url}:\n${proc.stderrTail()}`);
    }
    if (performance.now() - start > timeoutMs) throw new Error(`no initialize answer from ${url} within ${timeoutMs} ms${proc ? `:\n${proc.stderrTail()}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Resident set size of one process, in MB (from /proc/<pid>/status VmRSS). */
export function rssMB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Direct children of a process (e.g. the upstream server a gateway spawned). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

const CLK_TCK = 100;
/** User+system CPU time a process has used so far, in ms (10 ms resolution). */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime is field 14, stime field 15.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return NaN;
  }
}
