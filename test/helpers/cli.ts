/**
 * Shared plumbing for the end-to-end tests: where the built CLI and demo
 * servers are, temp directories that are always removed, YAML configs, and
 * child processes that are always reaped.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

const here = dirname(fileURLToPath(import.meta.url)); // dist/test/helpers
/** The `dist/` directory the tests were compiled into. */
export const DIST = resolve(here, '..', '..');
export const CLI = join(DIST, 'src', 'cli', 'main.js');
export const CRM_SERVER = join(DIST, 'src', 'demo', 'servers', 'crm.js');
export const EMAIL_SERVER = join(DIST, 'src', 'demo', 'servers', 'email.js');

/** The bundled demo servers as real stdio upstreams. */
export function demoServers(): Record<'crm' | 'email', { command: string; args: string[] }> {
  return {
    crm: { command: process.execPath, args: [CRM_SERVER] },
    email: { command: process.execPath, args: [EMAIL_SERVER] },
  };
}

/** Temp directories created by a test file; `cleanup()` removes them all. */
export class TempDirs {
  readonly #dirs: string[] = [];

  async make(prefix = 'portcullis-test-'): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    this.#dirs.push(dir);
    return dir;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.#dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  }
}

/** Writes `config` as YAML to `dir/name` and returns the path and the text. */
export async function writeYaml(dir: string, name: string, config: unknown): Promise<{ file: string; text: string }> {
  const text = stringify(config);
  const file = join(dir, name);
  await writeFile(file, text, 'utf8');
  return { file, text };
}

/** Environment for CLI children: quiet logs so stderr holds what the user must read. */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, PORTCULLIS_LOG_LEVEL: 'warn', ...extra };
}

const children = new Set<ChildProcessWithoutNullStreams>();

/** Spawns `node dist/src/cli/main.js ...args` with piped stdio; reaped by `killAllChildren`. */
export function spawnCli(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): ChildProcessWithoutNullStreams {
  const child = spawn(process.execPath, [CLI, ...args], { env: options.env ?? cliEnv(), cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Resolves when the child exits (immediately if it already has). */
export function exited(child: ChildProcessWithoutNullStreams, timeoutMs = 10_000): Promise<Exit> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`process ${child.pid} did not exit within ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal });
    });
  });
}

/** Kills every CLI child still running (SIGKILL) and waits for them. */
export async function killAllChildren(): Promise<void> {
  await Promise.all(
    [...children].map(async (child) => {
      child.kill('SIGKILL');
      await exited(child, 5000).catch(() => undefined);
    }),
  );
}

export interface CliResult extends Exit {
  stdout: string;
  stderr: string;
}

/** Runs the CLI to completion (stdin: `input`, then closed) and collects its output. */
export async function runCli(args: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {}): Promise<CliResult> {
  const child = spawnCli(args, options);
  child.stdin.end(options.input);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
  child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  const timeoutMs = options.timeoutMs ?? 30_000;
  let exit: Exit;
  try {
    exit = await exited(child, timeoutMs);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`portcullis ${args.join(' ')} did not finish within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`, { cause: error });
  }
  // 'exit' can fire before the pipes are drained.
  await Promise.all([streamEnd(child.stdout), streamEnd(child.stderr)]);
  return { ...exit, stdout, stderr };
}

function streamEnd(stream: NodeJS.ReadableStream & { readableEnded?: boolean; destroyed?: boolean }): Promise<void> {
  if (stream.readableEnded || stream.destroyed) return Promise.resolve();
  return new Promise((r) => {
    stream.once('end', r);
    stream.once('close', r);
  });
}

/** Reads a child's stdout as newline-delimited JSON and lets a test wait for a matching message. */
export class JsonLineReader {
  readonly messages: Record<string, unknown>[] = [];
  readonly rawLines: string[] = [];
  /** Lines that were not JSON: on a stdio MCP channel there must be none. */
  readonly nonJson: string[] = [];
  #buffer = '';
  #waiters: { match: (m: Record<string, unknown>) => boolean; resolve: (m: Record<string, unknown>) => void }[] = [];

  constructor(stream: NodeJS.ReadableStream) {
    stream.setEncoding('utf8');
    stream.on('data', (text: string) => {
      this.#buffer += text;
      let nl: number;
      while ((nl = this.#buffer.indexOf('\n')) !== -1) {
        const line = this.#buffer.slice(0, nl);
        this.#buffer = this.#buffer.slice(nl + 1);
        if (line.trim() === '') continue;
        this.rawLines.push(line);
        let message: Record<string, unknown>;
        try {
          message = JSON.parse(line) as Record<string, unknown>;
        } catch {
          this.nonJson.push(line);
          continue;
        }
        this.messages.push(message);
        for (const w of [...this.#waiters]) {
          if (w.match(message)) {
            this.#waiters.splice(this.#waiters.indexOf(w), 1);
            w.resolve(message);
          }
        }
      }
    });
  }

  /** The first message (already seen or still to come) that matches, or a rejection after timeoutMs. */
  next(match: (m: Record<string, unknown>) => boolean, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    const seen = this.messages.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolvePromise, reject) => {
      const waiter = {
        match,
        resolve: (m: Record<string, unknown>) => {
          clearTimeout(timer);
          resolvePromise(m);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(new Error(`no matching message within ${timeoutMs} ms; got:\n${this.rawLines.join('\n')}`));
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }
}
