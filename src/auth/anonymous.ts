import { BlockList, isIP } from 'node:net';
import type { AuthFailure, AuthRequest, AuthResult, Authenticator } from './types.js';
import { DEFAULT_REALM, invalidRequest, missingCredentials } from './www-authenticate.js';

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/**
 * True for 127.0.0.0/8, ::1 and IPv4-mapped loopback (::ffff:127.x.x.x), in
 * any valid textual form. Anything that is not an IP address (a missing
 * address, a host name) is not loopback.
 */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (typeof address !== 'string') return false;
  const family = isIP(address);
  if (family === 0) return false;
  return loopback.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * For local development and test harnesses that cannot send a token: treats
 * requests that carry NO Authorization header and come from a loopback
 * address as the given identity.
 *
 * Do not enable it behind a reverse proxy or tunnel on the same host: the
 * proxy's connections are loopback, so every remote client would be accepted.
 */
export class AnonymousLoopbackAuthenticator implements Authenticator {
  readonly identity: string;
  readonly #realm: string;

  constructor(identity: string, options: { realm?: string } = {}) {
    if (typeof identity !== 'string' || identity.trim() === '') {
      throw new TypeError('AnonymousLoopbackAuthenticator: identity must be a non-empty string');
    }
    this.identity = identity;
    this.#realm = options.realm ?? DEFAULT_REALM;
  }

  async authenticate(req: AuthRequest): Promise<AuthResult> {
    if (req.authorization !== undefined) {
      // A presented credential must be judged by a token authenticator; it never downgrades to anonymous.
      return invalidRequest(
        'an Authorization header was sent but this gateway only allows anonymous loopback access; remove the header or configure token authentication',
        this.#realm,
      );
    }
    if (!isLoopbackAddress(req.remoteAddress)) return this.#notLoopback(req.remoteAddress);
    return { ok: true, principal: { identity: this.identity, method: 'anonymous-loopback' } };
  }

  #notLoopback(address: string | undefined): AuthFailure {
    const from = typeof address === 'string' && isIP(address) !== 0 ? ` (this request came from ${address})` : '';
    return missingCredentials(
      `no Authorization header; anonymous access is only allowed from loopback addresses${from}; send "Authorization: Bearer <token>"`,
      this.#realm,
    );
  }
}
