import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { LineDecoder, encodeMessage } from './line-framing.js';

export interface ProcessSpec {
  command: string;
  args: readonly string[];
  env: Record<string, string>;
  cwd?: string;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines the server wrote to stderr, for the error the client sees. */
  stderrTail: string;
}

/**
 * Upstream stdio transport: spawns the server and frames its stdout. Our own
 * (not the SDK's StdioClientTransport) so that the gateway owns how a server is
 * launched — the sandbox wraps `spec` — and so a server cannot make the gateway
 * buffer an unbounded line or hide garbage output.
 */
export class ProcessTransport implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;
  exit?: ProcessExit;
  #child?: ChildProcessWithoutNullStreams;
  #decoder: LineDecoder;
  #stderr: string[] = [];

  constructor(
    private readonly spec: ProcessSpec,
    maxMessageBytes: number,
    private readonly onStderr?: (line: string) => void,
  ) {
    this.#decoder = new LineDecoder(maxMessageBytes);
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.spec.command, [...this.spec.args], {
        env: this.spec.env,
        cwd: this.spec.cwd,
        stdio: ['pipe', 'pipe', 'pipe'],
        windowsHide: true,
      });
      this.#child = child;
      child.once('spawn', () => resolve());
      child.once('error', (error) => {
        this.onerror?.(error);
        reject(new Error(`cannot start "${this.spec.command}": ${error.message}; check servers.<name>.command and PATH`));
      });
      child.stdout.on('data', (chunk: Buffer) =>
        this.#decoder.push(chunk, (event) => {
          if (event.kind === 'message') this.onmessage?.(event.message);
          else if (event.kind === 'oversize') this.onerror?.(new Error(`upstream sent a ${event.bytes}-byte line, over the message size limit; dropped`));
          else this.onerror?.(new Error(`upstream wrote a line that is ${event.reason === 'parse' ? 'not JSON' : 'not JSON-RPC'} on stdout; dropped`));
        }),
      );
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (text: string) => {
        for (const line of text.split('\n')) {
          if (line.trim() === '') continue;
          this.#stderr.push(line.slice(0, 500));
          if (this.#stderr.length > 20) this.#stderr.shift();
          this.onStderr?.(line);
        }
      });
      // EPIPE on a dead child must not crash the gateway; the exit handler reports it.
      child.stdin.on('error', () => {});
      child.once('exit', (code, signal) => {
        this.exit = { code, signal, stderrTail: this.#stderr.slice(-5).join('\n') };
        this.onclose?.();
      });
    });
  }

  async send(message: JSONRPCMessage): Promise<void> {
    const child = this.#child;
    if (!child || this.exit) throw new Error('upstream process is not running');
    if (!child.stdin.write(encodeMessage(message))) {
      await new Promise<void>((resolve) => child.stdin.once('drain', resolve));
    }
  }

  async close(): Promise<void> {
    const child = this.#child;
    if (!child || this.exit) return;
    child.stdin.end();
    // Servers get a moment to exit on EOF (the MCP stdio shutdown sequence), then are killed.
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const term = setTimeout(() => child.kill('SIGTERM'), 500);
    const kill = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(term);
    clearTimeout(kill);
  }
}
