/**
 * Runs inside the sandbox as the server's parent:
 *   node forwarder.mjs --socket /run/portcullis/egress.sock -- <command> [args...]
 *
 * Why it exists: the sandbox has its own network namespace with only a
 * loopback interface, and ordinary HTTP clients know how to use a TCP proxy
 * (HTTP_PROXY=http://127.0.0.1:port), not a unix socket. So this relay listens
 * on 127.0.0.1 inside the sandbox and pipes every connection, byte for byte,
 * to the gateway's egress proxy through the bind-mounted unix socket; all
 * policy (the allowlist, the audit) stays outside, in the gateway. It then
 * starts the server with the proxy variables set and its stdio inherited (the
 * MCP stream does not pass through here), and mirrors how the server ended.
 *
 * Only node: built-ins: this file is mounted alone into the sandbox.
 */
import { spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';

function main(argv: string[]): void {
  const sep = argv.indexOf('--');
  const socketAt = argv.indexOf('--socket');
  if (sep < 0 || socketAt < 0 || socketAt > sep || sep === argv.length - 1) {
    process.stderr.write('usage: forwarder --socket <path> -- <command> [args...]\n');
    process.exit(2);
  }
  const socketPath = argv[socketAt + 1];
  const [command, ...args] = argv.slice(sep + 1);

  const relay = createServer((local) => {
    const remote = connect(socketPath);
    local.on('error', () => remote.destroy());
    remote.on('error', () => local.destroy());
    local.pipe(remote);
    remote.pipe(local);
  });
  relay.on('error', (error) => {
    process.stderr.write(`portcullis egress forwarder: ${error.message}\n`);
    process.exit(70);
  });
  relay.listen(0, '127.0.0.1', () => {
    const { port } = relay.address() as { port: number };
    const proxy = `http://127.0.0.1:${port}`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HTTP_PROXY: proxy,
      HTTPS_PROXY: proxy,
      ALL_PROXY: proxy,
      http_proxy: proxy,
      https_proxy: proxy,
      all_proxy: proxy,
      NO_PROXY: '',
      no_proxy: '',
      // Node >= 24 honours the variables above for fetch/http only when asked to.
      NODE_USE_ENV_PROXY: '1',
    };
    const child = spawn(command, args, { stdio: 'inherit', env });
    child.on('error', (error) => {
      process.stderr.write(`cannot start "${command}": ${error.message}\n`);
      process.exit(127);
    });
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
    child.on('exit', (code, signal) => {
      relay.close();
      if (signal) {
        // Die the same way, so the gateway can tell a CPU-limit kill from a crash.
        process.removeAllListeners(signal);
        process.kill(process.pid, signal);
        return;
      }
      process.exit(code ?? 1);
    });
  });
}

main(process.argv.slice(2));
