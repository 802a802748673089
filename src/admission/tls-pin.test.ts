import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createHash } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';
import { z } from 'zod';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { fetchSpkiPin, pinnedFetch } from './tls-pin.js';

interface Identity {
  key: string;
  cert: string;
}

/** A self-signed certificate for the given names; trusted by passing it as `ca`. Distinct `cn`s let several be trusted at once. */
async function identity(names: { cn: string; dns: string; ip?: string }): Promise<Identity> {
  const altNames = [{ type: 2 as const, value: names.dns }, ...(names.ip ? [{ type: 7 as const, ip: names.ip }] : [])];
  const pems = await generate([{ name: 'commonName', value: names.cn }], {
    keyType: 'ec',
    curve: 'P-256',
    extensions: [{ name: 'basicConstraints', cA: true }, { name: 'subjectAltName', altNames }],
  });
  return { key: pems.private, cert: pems.cert };
}

/** Computed independently of the module: SHA-256 over the certificate's DER SubjectPublicKeyInfo. */
function pinOf(cert: string): string {
  const spki = new X509Certificate(cert).publicKey.export({ type: 'spki', format: 'der' });
  return `sha256/${createHash('sha256').update(spki).digest('base64')}`;
}

/** An HTTPS server on 127.0.0.1: `/mcp` is a stateless SDK McpServer with one tool, anything else says hello. */
async function serve(tls: Identity): Promise<{ server: https.Server; origin: string }> {
  const server = https.createServer(tls, (req, res) => {
    if (req.url !== '/mcp') {
      res.end('hello');
      return;
    }
    const mcp = new McpServer({ name: 'weather', version: '1.0.0' });
    mcp.registerTool('forecast', { description: 'Weather forecast for a city', inputSchema: { city: z.string() } }, async ({ city }) => ({
      content: [{ type: 'text', text: `sunny in ${city}` }],
    }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => void mcp.close());
    void mcp.connect(transport).then(() => transport.handleRequest(req, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `https://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function stop(server: https.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

async function mismatch(promise: Promise<unknown>, expected: string, actual: string): Promise<void> {
  await assert.rejects(promise, (err: Error) => {
    // Through the SDK the refusal may arrive wrapped; the pin error is somewhere in the cause chain.
    const chain: Error[] = [];
    for (let e: unknown = err; e instanceof Error; e = e.cause) chain.push(e);
    const refusal = chain.find((e) => e.name === 'TlsPinError');
    assert.ok(refusal, `expected a TlsPinError, got: ${chain.map((e) => e.message).join(' <- ')}`);
    assert.match(refusal.message, /^TLS_PIN_MISMATCH: /);
    assert.ok(refusal.message.includes(`presented TLS key ${actual}`), refusal.message);
    assert.ok(refusal.message.includes(`pins ${expected}`), refusal.message);
    assert.match(refusal.message, /re-pin with `portcullis pin`/);
    return true;
  });
}

describe('TLS key pinning for remote MCP servers', () => {
  let good: Identity;
  let other: Identity;
  let server: https.Server;
  let origin: string;
  before(async () => {
    good = await identity({ cn: 'good', dns: 'localhost', ip: '127.0.0.1' });
    other = await identity({ cn: 'other', dns: 'localhost', ip: '127.0.0.1' });
    ({ server, origin } = await serve(good));
  });
  after(() => stop(server));

  test('fetchSpkiPin returns the SHA-256 of the leaf certificate\'s SubjectPublicKeyInfo', async () => {
    const pin = await fetchSpkiPin(`${origin}/mcp`, { ca: good.cert });
    assert.equal(pin, pinOf(good.cert));
    assert.notEqual(pin, pinOf(other.cert));
  });

  test('fetchSpkiPin will not pin a server whose certificate is not trusted, nor plain HTTP', async () => {
    await assert.rejects(fetchSpkiPin(origin, { ca: other.cert }), /TLS_PIN_FETCH_FAILED: could not read the TLS key of https:\/\/127\.0\.0\.1:\d+ \(self.signed certificate/);
    await assert.rejects(fetchSpkiPin('http://127.0.0.1:1/mcp'), /TLS_PIN_INVALID: .*not an https: URL/);
  });

  test('pinnedFetch talks to a server presenting a pinned key (a backup pin may stand beside it)', async () => {
    const response = await pinnedFetch([pinOf(other.cert), pinOf(good.cert)], { ca: good.cert })(`${origin}/`);
    assert.equal(await response.text(), 'hello');
  });

  test('pinnedFetch refuses a server presenting another key, naming both pins and what to do', async () => {
    await mismatch(pinnedFetch([pinOf(other.cert)], { ca: good.cert })(`${origin}/`), pinOf(other.cert), pinOf(good.cert));
  });

  test('pinnedFetch keeps hostname validation: the right key under the wrong name is refused', async () => {
    const elsewhere = await identity({ cn: 'elsewhere', dns: 'mcp.example.test' });
    const { server: misnamed, origin: misnamedOrigin } = await serve(elsewhere);
    try {
      await assert.rejects(pinnedFetch([pinOf(elsewhere.cert)], { ca: elsewhere.cert })(`${misnamedOrigin}/`), (err: Error) => {
        assert.match(String((err.cause as Error | undefined)?.message), /IP: 127\.0\.0\.1 is not in the cert's list/);
        return true;
      });
    } finally {
      await stop(misnamed);
    }
  });

  test('pinnedFetch checks every connection: a key swapped after the first request is refused, even where a TLS session could resume', async () => {
    const { server: swapping, origin: swappingOrigin } = await serve(good);
    try {
      // Both certificates are trusted by the CA store: only the pin can tell them apart.
      const fetchPinned = pinnedFetch([pinOf(good.cert)], { ca: `${good.cert}\n${other.cert}` });
      assert.equal(await (await fetchPinned(`${swappingOrigin}/`)).text(), 'hello');
      // The swapped-in server keeps the session-ticket keys (as one holding stolen ticket keys would), so a
      // client that resumed sessions would skip the certificate, and its pin, altogether.
      const ticketKeys = swapping.getTicketKeys();
      swapping.setSecureContext(other);
      swapping.setTicketKeys(ticketKeys);
      swapping.closeAllConnections();
      await mismatch(fetchPinned(`${swappingOrigin}/`), pinOf(good.cert), pinOf(other.cert));
    } finally {
      await stop(swapping);
    }
  });

  test('pinnedFetch rejects malformed pins when it is made, not at the first request', () => {
    assert.throws(() => pinnedFetch([]), /TLS_PIN_INVALID: no TLS key pin given/);
    assert.throws(() => pinnedFetch(['sha1/AAAA']), /TLS_PIN_INVALID: "sha1\/AAAA" is not a TLS key pin/);
  });

  describe('as the fetch of the SDK\'s StreamableHTTPClientTransport', () => {
    test('completes initialize and tools/list with the right pin', async () => {
      const client = new Client({ name: 'portcullis-test', version: '0.0.0' });
      const transport = new StreamableHTTPClientTransport(new URL(`${origin}/mcp`), { fetch: pinnedFetch([pinOf(good.cert)], { ca: good.cert }) });
      await client.connect(transport);
      try {
        assert.equal(client.getServerVersion()?.name, 'weather');
        const { tools } = await client.listTools();
        assert.deepEqual(tools.map((tool) => tool.name), ['forecast']);
      } finally {
        await client.close();
      }
    });

    test('refuses to initialize with a server whose key is not pinned', async () => {
      const client = new Client({ name: 'portcullis-test', version: '0.0.0' });
      const transport = new StreamableHTTPClientTransport(new URL(`${origin}/mcp`), { fetch: pinnedFetch([pinOf(other.cert)], { ca: good.cert }) });
      await mismatch(client.connect(transport), pinOf(other.cert), pinOf(good.cert));
      await client.close();
    });
  });
});
