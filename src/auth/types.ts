/**
 * The authentication seam of the gateway.
 *
 * Every inbound Streamable HTTP request is turned into an {@link AuthRequest}
 * and handed to one {@link Authenticator} (usually a chain, see
 * `chainAuthenticators`). The result either names the agent identity the
 * request acts as, or is a ready-to-send RFC 6750 401 response.
 *
 * Implementations in this folder: `LocalJwtAuthenticator` (tokens issued by
 * this gateway) and `AnonymousLoopbackAuthenticator` (local development).
 * An OAuth 2.1 resource-server authenticator (IdP JWTs via JWKS, mapped to
 * identities by claims) is expected to implement the same interface and
 * report its own `method`.
 */

/** Who a request acts as, after authentication. */
export interface Principal {
  /** A configured agent identity, e.g. `support-agent-v1`. */
  identity: string;
  /** How the identity was established. Future authenticators add their own values. */
  method: 'local-jwt' | 'anonymous-loopback' | (string & {});
  /** When the credential stops being valid (epoch milliseconds), if it expires. */
  expiresAt?: number;
  /** Unique id of the credential (JWT `jti`), for audit and revocation. */
  tokenId?: string;
}

/** A rejected request, already shaped as an RFC 6750 response. */
export interface AuthFailure {
  ok: false;
  status: 401;
  /**
   * `invalid_request`: no credential, or the Authorization header is malformed.
   * `invalid_token`: a credential was presented and it is not acceptable.
   */
  error: 'invalid_request' | 'invalid_token';
  /** Human-readable, actionable reason (safe to return to the client and to log). */
  description: string;
  /** Value for the `WWW-Authenticate` response header. */
  wwwAuthenticate: string;
}

export type AuthResult = { ok: true; principal: Principal } | AuthFailure;

/** The parts of an HTTP request that authentication looks at. */
export interface AuthRequest {
  /** Raw `Authorization` header value; `undefined` when the header is absent. */
  authorization?: string;
  /** Peer address of the TCP connection (`req.socket.remoteAddress`). */
  remoteAddress?: string;
}

export interface Authenticator {
  /**
   * Resolves to a result for every request it can judge; it must not throw
   * for bad credentials. A rejection (thrown error) means an internal fault
   * and must be treated by the caller as a failed authentication (fail closed).
   */
  authenticate(req: AuthRequest): Promise<AuthResult>;
}
