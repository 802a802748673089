import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { LineDecoder, encodeMessage } from './line-framing.js';
import { RpcCodes } from '../pipeline/codes.js';

export interface ProcessSpec {
  command: string;
  args: readonly string[];
  env: Record<string, string>;
  cwd?: string;
  /** stderr bytes relayed per process; beyond it stderr is still drained (so the server never blocks) but discarded. */
  stderrLimitBytes?: number;
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
  #stderrBytes = 0;

  constructor(
    private readonly spec: ProcessSpec,
    private readonly maxMessageBytes: number,
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
          else if (event.kind === 'oversize') {
            this.onerror?.(new Error(`upstream sent a ${event.bytes}-byte line, over the message size limit; dropped`));
            // An oversized answer becomes an error answer, so its caller hears now rather than at the timeout.
            if (event.id !== null) {
              this.onmessage?.({ jsonrpc: '2.0', id: event.id, error: { code: RpcCodes.MESSAGE_TOO_LARGE, message: `MESSAGE_TOO_LARGE: the server's ${event.bytes}-byte answer exceeds limits.max_message_bytes (${this.maxMessageBytes}); raise the limit if the tool legitimately returns this much`, data: { code: 'MESSAGE_TOO_LARGE' } } } as JSONRPCMessage);
            }
          }
          else this.onerror?.(new Error(`upstream wrote a line that is ${event.reason === 'parse' ? 'not JSON' : 'not JSON-RPC'} on stdout; dropped`));
        }),
      );
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (text: string) => {
        // The tail (for the exit message) always follows the latest lines; what
        // is relayed to the log is capped, so a chatty or hostile server cannot flood it.
        const limit = this.spec.stderrLimitBytes ?? Infinity;
        const relayed = this.#stderrBytes < limit;
        this.#stderrBytes += Buffer.byteLength(text);
        for (const line of text.split('\n')) {
          if (line.trim() === '') continue;
          this.#stderr.push(line.slice(0, 500));
          if (this.#stderr.length > 20) this.#stderr.shift();
          if (relayed) this.onStderr?.(line);
        }
        if (relayed && this.#stderrBytes >= limit) this.onStderr?.(`[portcullis: over ${limit} bytes of stderr; the rest of this run's stderr is not relayed]`);
      });
      // EPIPE on a dead child must not crash the gateway; the exit handler reports it.
      child.stdin.on('error', () => {});
      let stderrEnded = false;
      child.stderr.once('end', () => (stderrEnded = true));
      child.once('exit', (code, signal) => {
        const finish = () => {
          if (this.exit) return;
          this.exit = { code, signal, stderrTail: this.#stderr.slice(-5).join('\n') };
          this.onclose?.();
        };
        // 'exit' can come before the last stderr lines (often the reason it died) are read; wait briefly for them.
        if (stderrEnded) return finish();
        child.stderr.once('end', finish);
        setTimeout(finish, 200).unref();
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
