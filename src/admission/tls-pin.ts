/**
 * TLS public-key pinning for remote (Streamable HTTP) MCP servers: `portcullis pin` records the SPKI pin of
 * the server's leaf certificate, and production mode connects only to a server that still presents that key.
 *
 * HTTP client: undici 7.x. undici 8 requires Node 22; 7.x declares `node: >=20.18.1` and is the newest
 * major that runs on Node 20. Its Agent hands `connect` options to `tls.connect`, so the pin is checked in
 * `checkServerIdentity` during the handshake of every connection, after the usual CA and hostname checks.
 */
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { checkServerIdentity, connect, type PeerCertificate } from 'node:tls';
import { Agent, fetch as undiciFetch } from 'undici';
import { spkiPin } from './spki.js';

function spkiPinOfCertificate(der: Uint8Array): string {
  return spkiPin(new X509Certificate(der).publicKey);
}

export class TlsPinError extends Error {
  override readonly name = 'TlsPinError';
  constructor(
    readonly code: 'TLS_PIN_MISMATCH' | 'TLS_PIN_INVALID' | 'TLS_PIN_FETCH_FAILED',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
  }
}

/**
 * Connects to the server of an `https:` URL, validates its certificate as any client would (CA, hostname,
 * validity), and returns the SPKI pin of its leaf certificate. Only a TLS handshake is made: no HTTP request
 * reaches the server, so pinning has no side effect on it.
 */
export async function fetchSpkiPin(url: string | URL, opts: { ca?: string; timeoutMs?: number } = {}): Promise<string> {
  const target = httpsTarget(url);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const socket = connect({ host: target.host, port: target.port, servername: target.servername, ca: opts.ca });
    const fail = (err: Error) => {
      socket.destroy();
      reject(new TlsPinError('TLS_PIN_FETCH_FAILED', `could not read the TLS key of ${target.origin} (${err.message}). Check that the URL is right, the server is up, and its certificate is trusted (give its CA with \`ca\` for a private CA).`, { cause: err }));
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`no TLS handshake within ${timeoutMs} ms`)));
    socket.once('error', fail);
    socket.once('secureConnect', () => {
      const pin = spkiPinOfCertificate(socket.getPeerCertificate().raw);
      socket.end();
      resolve(pin);
    });
  });
}

/**
 * A `fetch` (usable as the `fetch` option of the SDK's StreamableHTTPClientTransport) that completes a TLS
 * connection only when the leaf certificate's SPKI pin is one of `pins`. Every new connection is checked,
 * including redirects to other hosts; CA and hostname validation stay in force.
 */
export function pinnedFetch(pins: readonly string[], opts: { ca?: string } = {}): typeof fetch {
  const allowed = new Set(pins.map(checkPinSyntax));
  if (allowed.size === 0) {
    throw new TlsPinError('TLS_PIN_INVALID', 'no TLS key pin given. Record one with `portcullis pin`.');
  }
  const dispatcher = new Agent({
    connect: {
      ca: opts.ca,
      // Node skips checkServerIdentity when a TLS session resumes, and resuming needs only the server's
      // session-ticket keys, not its private key. Resumption is off so every connection shows its key.
      maxCachedSessions: 0,
      checkServerIdentity(host: string, cert: PeerCertificate): Error | undefined {
        const invalid = checkServerIdentity(host, cert);
        if (invalid) return invalid;
        const actual = spkiPinOfCertificate(cert.raw);
        if (allowed.has(actual)) return undefined;
        return new TlsPinError(
          'TLS_PIN_MISMATCH',
          `${host} presented TLS key ${actual}, but the lock pins ${[...allowed].join(' or ')}. ` +
            'If the server operator rotated the key as planned, review the new key and re-pin with `portcullis pin`; otherwise treat it as an interception attempt and do not connect.',
        );
      },
    },
  });
  const fetchPinned = async (input: Parameters<typeof undiciFetch>[0], init?: Parameters<typeof undiciFetch>[1]) => {
    try {
      return await undiciFetch(input, { ...init, dispatcher });
    } catch (err) {
      // undici reports a refused handshake as "fetch failed" with the reason as the cause; the reason is the news.
      const cause = (err as { cause?: unknown }).cause;
      throw cause instanceof TlsPinError ? cause : err;
    }
  };
  // undici's fetch is the implementation behind Node's global fetch; only the declared types differ.
  return fetchPinned as unknown as typeof fetch;
}

/** A fetch that trusts only this private CA (PEM) for its server, with no key pin: for pinning such a server. */
export function privateCaFetch(ca: string): typeof fetch {
  const dispatcher = new Agent({ connect: { ca } });
  return ((input: Parameters<typeof undiciFetch>[0], init?: Parameters<typeof undiciFetch>[1]) => undiciFetch(input, { ...init, dispatcher })) as unknown as typeof fetch;
}

function checkPinSyntax(pin: string): string {
  const match = /^sha256\/([A-Za-z0-9+/]{43}=)$/.exec(pin);
  if (!match || Buffer.from(match[1]!, 'base64').length !== 32) {
    throw new TlsPinError('TLS_PIN_INVALID', `"${pin}" is not a TLS key pin: expected sha256/ and the base64 SHA-256 of the key (44 characters), as \`portcullis pin\` writes it.`);
  }
  return pin;
}

function httpsTarget(url: string | URL): { host: string; port: number; servername?: string; origin: string } {
  const parsed = new URL(url);
  if (parsed.protocol !== 'https:') {
    throw new TlsPinError('TLS_PIN_INVALID', `${parsed.origin} is not an https: URL, so it has no TLS key to pin. Serve the MCP endpoint over HTTPS.`);
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  // SNI carries host names only (RFC 6066); for an IP address the certificate is matched against its IP SANs.
  return { host, port: Number(parsed.port || 443), servername: isIP(host) ? undefined : host, origin: parsed.origin };
}
