import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { SIGNING_ALG, type SigningKey } from './keys.js';

/** Longest lifetime a gateway-issued token may have. */
export const MAX_TOKEN_TTL_SECONDS = 86_400;

/** JWS `typ` of gateway-issued tokens (RFC 9068 access-token type), checked on verification. */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

/** CLI command that issues a token; quoted in error messages. */
export const ISSUE_TOKEN_COMMAND = 'portcullis token issue';

export interface IssueTokenOptions {
  /** Configured agent identity the token acts as (becomes `sub`). */
  identity: string;
  /** Lifetime in whole seconds, 1..86400. */
  ttlSeconds: number;
  /** The gateway's audience (`aud`). */
  audience: string;
  /** The gateway's issuer (`iss`). */
  issuer: string;
  /** Issue time (epoch ms); defaults to now. For tests and tooling. */
  now?: number;
}

/**
 * Issues a compact EdDSA JWT: header `{alg: EdDSA, kid, typ: at+jwt}`,
 * claims `sub`, `aud`, `iss`, `iat`, `exp`, `jti` (128 random bits).
 */
export async function issueToken(key: SigningKey, options: IssueTokenOptions): Promise<string> {
  const { identity, ttlSeconds, audience, issuer } = options;
  if (typeof identity !== 'string' || identity.trim() === '') throw new TypeError('issueToken: identity must be a non-empty string');
  if (typeof audience !== 'string' || audience === '') throw new TypeError('issueToken: audience must be a non-empty string');
  if (typeof issuer !== 'string' || issuer === '') throw new TypeError('issueToken: issuer must be a non-empty string');
  if (typeof ttlSeconds !== 'number' || !Number.isInteger(ttlSeconds) || ttlSeconds <= 0 || ttlSeconds > MAX_TOKEN_TTL_SECONDS) {
    throw new RangeError(
      `issueToken: ttlSeconds must be a whole number of seconds from 1 to ${MAX_TOKEN_TTL_SECONDS} (24 hours); got ${String(ttlSeconds)}. ` +
        'Tokens are deliberately short-lived: issue a new one when it expires.',
    );
  }
  const now = options.now ?? Date.now();
  if (!Number.isFinite(now)) throw new TypeError('issueToken: now must be a finite epoch-millisecond timestamp');
  const iat = Math.floor(now / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: SIGNING_ALG, kid: key.kid, typ: ACCESS_TOKEN_TYPE })
    .setSubject(identity)
    .setAudience(audience)
    .setIssuer(issuer)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttlSeconds)
    .setJti(randomBytes(16).toString('base64url'))
    .sign(key.privateKey);
}
