import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import { parseBearerAuthorization } from './bearer.js';
import { SIGNING_ALG, type SigningKey } from './keys.js';
import { ACCESS_TOKEN_TYPE, ISSUE_TOKEN_COMMAND, MAX_TOKEN_TTL_SECONDS } from './tokens.js';
import type { AuthFailure, AuthRequest, AuthResult, Authenticator } from './types.js';
import { DEFAULT_REALM, invalidRequest, invalidToken, missingCredentials } from './www-authenticate.js';

export interface LocalJwtAuthenticatorOptions {
  key: SigningKey;
  /** Expected `aud`. */
  audience: string;
  /** Expected `iss`. */
  issuer: string;
  /** Whether `name` is an identity in the current configuration (consulted on every request). */
  isKnownIdentity: (name: string) => boolean;
  /** Allowed clock skew for `exp`/`nbf`/`iat`, in seconds (0..300). Default 5. */
  clockToleranceSeconds?: number;
  /** Realm for challenges. Default `portcullis`. */
  realm?: string;
  /** Clock (epoch ms). For tests. */
  now?: () => number;
}

const IDENTITY_IN_HINT = /^[A-Za-z0-9._:@-]{1,128}$/;

/**
 * Accepts bearer tokens issued by this gateway (`issueToken`): EdDSA only,
 * signed by the gateway key, with matching `aud`/`iss`, unexpired, and a
 * `sub` naming a configured identity.
 */
export class LocalJwtAuthenticator implements Authenticator {
  readonly #key: SigningKey;
  readonly #audience: string;
  readonly #issuer: string;
  readonly #isKnownIdentity: (name: string) => boolean;
  readonly #tolerance: number;
  readonly #realm: string;
  readonly #now: () => number;

  constructor(options: LocalJwtAuthenticatorOptions) {
    const tolerance = options.clockToleranceSeconds ?? 5;
    if (!Number.isFinite(tolerance) || tolerance < 0 || tolerance > 300) {
      throw new RangeError('LocalJwtAuthenticator: clockToleranceSeconds must be between 0 and 300');
    }
    if (!options.audience) throw new TypeError('LocalJwtAuthenticator: audience is required');
    if (!options.issuer) throw new TypeError('LocalJwtAuthenticator: issuer is required');
    if (typeof options.isKnownIdentity !== 'function') throw new TypeError('LocalJwtAuthenticator: isKnownIdentity is required');
    this.#key = options.key;
    this.#audience = options.audience;
    this.#issuer = options.issuer;
    this.#isKnownIdentity = options.isKnownIdentity;
    this.#tolerance = tolerance;
    this.#realm = options.realm ?? DEFAULT_REALM;
    this.#now = options.now ?? Date.now;
  }

  async authenticate(req: AuthRequest): Promise<AuthResult> {
    const parsed = parseBearerAuthorization(req.authorization);
    if (parsed.kind === 'missing') {
      return missingCredentials(
        `no Authorization header; send "Authorization: Bearer <token>" (issue one with "${ISSUE_TOKEN_COMMAND} --identity <name>")`,
        this.#realm,
      );
    }
    if (parsed.kind === 'malformed') return invalidRequest(parsed.description, this.#realm);
    const token = parsed.token;

    // Unverified header: used only to pick a precise error message. jose enforces everything below again.
    let header: ProtectedHeaderParameters;
    try {
      if (token.split('.').length !== 3) throw new Error('not three parts');
      header = decodeProtectedHeader(token);
    } catch {
      return this.#fail('token is not a well-formed JWT: expected three base64url parts separated by dots, as issued by this gateway');
    }
    if (header.alg !== SIGNING_ALG) {
      return this.#fail(`token algorithm ${show(header.alg)} is not accepted: this gateway only accepts ${SIGNING_ALG} tokens it issued itself`);
    }

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.#key.publicKey, {
        algorithms: [SIGNING_ALG],
        audience: this.#audience,
        issuer: this.#issuer,
        typ: ACCESS_TOKEN_TYPE,
        requiredClaims: ['exp', 'iat', 'sub', 'jti'],
        maxTokenAge: MAX_TOKEN_TTL_SECONDS,
        clockTolerance: this.#tolerance,
        currentDate: new Date(this.#now()),
      }));
    } catch (err) {
      return this.#describeFailure(err, header);
    }

    const { sub, exp, iat, jti } = payload;
    if (typeof sub !== 'string' || sub === '') return this.#fail('token subject ("sub") must be a non-empty identity name');
    if (typeof jti !== 'string' || jti === '') return this.#fail('token id ("jti") must be a non-empty string');
    if (typeof exp !== 'number' || typeof iat !== 'number' || exp - iat > MAX_TOKEN_TTL_SECONDS) {
      return this.#fail(`token lifetime exceeds ${MAX_TOKEN_TTL_SECONDS} seconds; issue a new one with "${issueHint(sub)}"`);
    }
    if (!this.#isKnownIdentity(sub)) {
      return this.#fail(`identity ${show(sub)} in the token is not configured; add it to the gateway configuration or issue a token for a configured identity`);
    }
    return { ok: true, principal: { identity: sub, method: 'local-jwt', expiresAt: exp * 1000, tokenId: jti } };
  }

  #fail(description: string): AuthFailure {
    return invalidToken(description, this.#realm);
  }

  #describeFailure(err: unknown, header: ProtectedHeaderParameters): AuthFailure {
    if (err instanceof errors.JWSSignatureVerificationFailed) {
      const kidHint =
        typeof header.kid === 'string' && header.kid !== this.#key.kid ? ` (it names signing key ${show(header.kid)}, this gateway's key is "${this.#key.kid}")` : '';
      return this.#fail(`token signature does not verify: it was not issued by this gateway or was altered${kidHint}`);
    }
    if (err instanceof errors.JWTExpired) {
      const claims = err.payload;
      if (err.claim === 'iat') {
        return this.#fail(`token was issued at ${isoTime(claims.iat)}, more than 24 hours ago; issue a new one with "${issueHint(claims.sub)}"`);
      }
      return this.#fail(`token expired at ${isoTime(claims.exp)}; issue a new one with "${issueHint(claims.sub)}"`);
    }
    if (err instanceof errors.JWTClaimValidationFailed) {
      const claims = err.payload;
      const claim = err.claim;
      if (err.reason === 'missing') return this.#fail(`token is missing the required ${show(claim)} claim; issue a new one with "${issueHint(claims.sub)}"`);
      if (err.reason === 'invalid') return this.#fail(`token ${show(claim)} claim must be a number of seconds since the epoch`);
      switch (claim) {
        case 'aud':
          return this.#fail(`token audience ${show(claims.aud)} is not this gateway (expected "${this.#audience}")`);
        case 'iss':
          return this.#fail(`token issuer ${show(claims.iss)} is not this gateway (expected "${this.#issuer}")`);
        case 'nbf':
          return this.#fail(`token is not valid before ${isoTime(claims.nbf)}; check the clocks of the issuer and the gateway`);
        case 'iat':
          return this.#fail(`token issue time ${isoTime(claims.iat)} is in the future; check the clocks of the issuer and the gateway`);
        case 'typ':
          return this.#fail(`token type ${show(header.typ)} is not a Portcullis access token (expected "${ACCESS_TOKEN_TYPE}")`);
        default:
          return this.#fail(`token claim ${show(claim)} is not acceptable`);
      }
    }
    if (err instanceof errors.JOSEAlgNotAllowed) {
      return this.#fail(`token algorithm ${show(header.alg)} is not accepted: this gateway only accepts ${SIGNING_ALG} tokens it issued itself`);
    }
    if (err instanceof errors.JWTInvalid || err instanceof errors.JWSInvalid) {
      return this.#fail(`token is not a well-formed JWT: ${err.message}`);
    }
    if (err instanceof errors.JOSENotSupported) return this.#fail(`token uses an unsupported feature: ${err.message}`);
    if (err instanceof errors.JOSEError) return this.#fail(`token rejected: ${err.message}`);
    throw err;
  }
}

/** Renders a value from a token for an error message: quoted, printable ASCII, bounded length. */
function show(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  text = text.replace(/[^\x20-\x7e]/g, '?');
  if (text.length > 80) text = `${text.slice(0, 77)}...`;
  return typeof value === 'string' ? `"${text}"` : text;
}

function isoTime(seconds: unknown): string {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return show(seconds);
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? show(seconds) : date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function issueHint(identity: unknown): string {
  const name = typeof identity === 'string' && IDENTITY_IN_HINT.test(identity) ? identity : '<name>';
  return `${ISSUE_TOKEN_COMMAND} --identity ${name}`;
}
