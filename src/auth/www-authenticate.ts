import type { AuthFailure } from './types.js';

/** Realm used in every `WWW-Authenticate` challenge unless a caller overrides it. */
export const DEFAULT_REALM = 'portcullis';

/** Upper bound for one parameter value inside a challenge header. */
const MAX_PARAM_LENGTH = 400;

export interface BearerChallenge {
  realm?: string;
  error?: 'invalid_request' | 'invalid_token' | 'insufficient_scope';
  errorDescription?: string;
  /** Additional auth-params, e.g. `resource_metadata` (RFC 9728) or `scope`. */
  params?: Record<string, string>;
}

/**
 * Renders a value as an RFC 9110 quoted-string that is always safe to put in a
 * header: characters outside printable ASCII (including CR/LF, which would
 * allow header injection) become `?`, `"` and `\` are backslash-escaped, and
 * over-long values are truncated.
 */
export function quoteHeaderValue(value: string): string {
  let clean = value.replace(/[^\x20-\x7e]/g, '?');
  if (clean.length > MAX_PARAM_LENGTH) clean = `${clean.slice(0, MAX_PARAM_LENGTH - 3)}...`;
  return `"${clean.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * Builds an RFC 6750 section 3 `WWW-Authenticate: Bearer ...` challenge.
 * With no `error` (request carried no credential at all) it is just
 * `Bearer realm="portcullis"`, as RFC 6750 section 3.1 recommends.
 */
export function bearerChallenge(challenge: BearerChallenge = {}): string {
  const parts = [`realm=${quoteHeaderValue(challenge.realm ?? DEFAULT_REALM)}`];
  if (challenge.error) {
    parts.push(`error=${quoteHeaderValue(challenge.error)}`);
    if (challenge.errorDescription) parts.push(`error_description=${quoteHeaderValue(challenge.errorDescription)}`);
  }
  for (const [name, value] of Object.entries(challenge.params ?? {})) {
    if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`invalid WWW-Authenticate parameter name ${JSON.stringify(name)}`);
    parts.push(`${name}=${quoteHeaderValue(value)}`);
  }
  return `Bearer ${parts.join(', ')}`;
}

/** The request carried no credential: 401 with a bare challenge and no error code. */
export function missingCredentials(description: string, realm = DEFAULT_REALM): AuthFailure {
  return { ok: false, status: 401, error: 'invalid_request', description, wwwAuthenticate: bearerChallenge({ realm }) };
}

/** The Authorization header is present but malformed. */
export function invalidRequest(description: string, realm = DEFAULT_REALM): AuthFailure {
  return {
    ok: false,
    status: 401,
    error: 'invalid_request',
    description,
    wwwAuthenticate: bearerChallenge({ realm, error: 'invalid_request', errorDescription: description }),
  };
}

/** A token was presented and it is not acceptable. */
export function invalidToken(description: string, realm = DEFAULT_REALM): AuthFailure {
  return {
    ok: false,
    status: 401,
    error: 'invalid_token',
    description,
    wwwAuthenticate: bearerChallenge({ realm, error: 'invalid_token', errorDescription: description }),
  };
}
