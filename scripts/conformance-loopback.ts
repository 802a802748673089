/**
 * Preload for third-party test servers started by `scripts/conformance.ts`
 * (`node --import <this file> server.js`): a `listen()` call that names a
 * port but no host binds 127.0.0.1 instead of every interface, so servers
 * such as `@modelcontextprotocol/server-everything` (which calls
 * `app.listen(PORT)`) stay on loopback during conformance runs.
 */
import net from 'node:net';

const LOOPBACK = '127.0.0.1';
const originalListen = net.Server.prototype.listen;

function isPort(value: unknown): boolean {
  return typeof value === 'number' || (typeof value === 'string' && /^\d+$/.test(value));
}

net.Server.prototype.listen = function listenOnLoopback(this: net.Server, ...args: unknown[]) {
  const first = args[0];
  if (args.length === 0 || typeof first === 'function') {
    args.unshift(0, LOOPBACK);
  } else if (isPort(first)) {
    if (typeof args[1] !== 'string') args.splice(1, 0, LOOPBACK);
  } else if (first !== null && typeof first === 'object' && 'port' in first && !('host' in first) && !('path' in first)) {
    args[0] = { ...(first as object), host: LOOPBACK };
  }
  return (originalListen as (...a: unknown[]) => net.Server).apply(this, args);
} as typeof net.Server.prototype.listen;
