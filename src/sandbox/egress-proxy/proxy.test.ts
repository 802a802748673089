import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EgressEvent } from '../types.js';
import { EgressProxy, hostLocal } from './proxy.js';

let dir: string;
let proxy: EgressProxy;
let allowed: Server;
let other: Server;
let allowedPort: number;
let otherPort: number;
let otherHits = 0;
const events: EgressEvent[] = [];
const lookups: string[] = [];

const listen = async (s: Server) => {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return (s.address() as { port: number }).port;
};

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portcullis-egress-'));
  allowed = createServer((req, res) => res.end(`allowed ${req.method} ${req.url} host=${req.headers.host}`));
  other = createServer((_req, res) => {
    otherHits++;
    res.end('other');
  });
  allowedPort = await listen(allowed);
  otherPort = await listen(other);
  proxy = await EgressProxy.listen({
    server: 'web',
    allow: [`127.0.0.1:${allowedPort}`, `svc.internal.test:${allowedPort}`, `rebound.test:${allowedPort}`],
    socketPath: join(dir, 'egress.sock'),
    report: async (e) => void events.push(e),
    lookup: async (host) => {
      lookups.push(host);
      if (host === 'svc.internal.test') return '10.255.0.1';
      if (host === 'rebound.test') return '127.0.0.1';
      throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    },
  });
});

after(async () => {
  await proxy.close();
  await Promise.all([allowed, other].map((s) => new Promise((r) => s.close(r))));
  await rm(dir, { recursive: true, force: true });
});

/** An absolute-URI request through the proxy's unix socket. */
function viaProxy(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: join(dir, 'egress.sock'), method: 'GET', path: url, headers: url.startsWith('http') ? { host: new URL(url).host } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function connectVia(authority: string): Promise<{ status: number; answer: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: join(dir, 'egress.sock'), method: 'CONNECT', path: authority });
    req.on('connect', (res, socket, head) => {
      let answer = head.toString('utf8');
      socket.setEncoding('utf8').on('data', (d: string) => (answer += d));
      socket.on('end', () => resolve({ status: res.statusCode!, answer }));
      socket.on('error', () => resolve({ status: res.statusCode!, answer }));
      if (res.statusCode === 200) socket.write(`GET /t HTTP/1.1\r\nHost: ${authority}\r\nConnection: close\r\n\r\n`);
    });
    req.on('error', reject);
    req.end();
  });
}

test('plain HTTP to an allowed host:port is relayed and audited as allowed', async () => {
  const r = await viaProxy(`http://127.0.0.1:${allowedPort}/hello?x=1`);
  assert.equal(r.status, 200);
  assert.equal(r.body, `allowed GET /hello?x=1 host=127.0.0.1:${allowedPort}`);
  assert.ok(events.some((e) => e.decision === 'allow' && e.code === 'EGRESS_ALLOWED' && e.port === allowedPort && e.method === 'GET'));
});

test('CONNECT to an allowed address is tunnelled', async () => {
  const r = await connectVia(`127.0.0.1:${allowedPort}`);
  assert.equal(r.status, 200);
  assert.match(r.answer, /allowed GET \/t/);
  assert.ok(events.some((e) => e.decision === 'allow' && e.method === 'CONNECT' && e.address === '127.0.0.1'));
});

test('the proxy resolves allowed names itself, and refuses a name that resolves to the host loopback or link-local space', async () => {
  const r = await connectVia(`rebound.test:${allowedPort}`);
  assert.equal(r.status, 403);
  assert.match(r.answer, /rebound\.test resolves to 127\.0\.0\.1/);
  assert.ok(events.some((e) => e.decision === 'deny' && e.host === 'rebound.test'));
  assert.ok(lookups.includes('rebound.test'));
  assert.equal(hostLocal('169.254.169.254'), true);
  assert.equal(hostLocal('::ffff:127.0.0.1'), true);
  assert.equal(hostLocal('10.1.2.3'), false);
  assert.equal(hostLocal('2001:db8::1'), false);
});

test('anything off the allowlist is refused with 403, audited, never resolved and never reached', async () => {
  const before = otherHits;
  assert.equal((await viaProxy(`http://127.0.0.1:${otherPort}/`)).status, 403);
  const tunnel = await connectVia(`127.0.0.1:${otherPort}`);
  assert.equal(tunnel.status, 403);
  assert.equal((await connectVia('exfil.attacker.test:443')).status, 403);
  assert.equal((await viaProxy(`http://localhost:${allowedPort}/`)).status, 403, 'a name is allowed only as written');
  assert.equal(otherHits, before);
  assert.ok(!lookups.includes('exfil.attacker.test'), 'a refused name was resolved');
  const denied = events.filter((e) => e.decision === 'deny');
  assert.ok(denied.some((e) => e.host === 'exfil.attacker.test' && e.port === 443 && /not on servers\.web\.sandbox\.network\.allow/.test(e.reason)));
  assert.ok(denied.some((e) => e.host === '127.0.0.1' && e.port === otherPort && e.method === 'CONNECT'));
});

test('non-proxy requests and https:// absolute URIs are refused', async () => {
  assert.equal((await viaProxy('/relative')).status, 400);
  assert.equal((await viaProxy(`https://127.0.0.1:${allowedPort}/`)).status, 400);
});

test('an allowed target that is down gives 502 and an EGRESS_FAILED record', async () => {
  const closed = createServer();
  const port = await listen(closed);
  await new Promise((r) => closed.close(r));
  const p = await EgressProxy.listen({ server: 'w2', allow: [`127.0.0.1:${port}`], socketPath: join(dir, 'e2.sock'), report: async (e) => void events.push(e) });
  try {
    const r = await new Promise<number>((resolve) => {
      const req = request({ socketPath: join(dir, 'e2.sock'), method: 'GET', path: `http://127.0.0.1:${port}/` }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.end();
    });
    assert.equal(r, 502);
    assert.ok(events.some((e) => e.server === 'w2' && e.code === 'EGRESS_FAILED'));
  } finally {
    await p.close();
  }
});
