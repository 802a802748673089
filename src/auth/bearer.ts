/** Longest bearer token accepted before any parsing (bounds work done on hostile input). */
export const MAX_BEARER_TOKEN_LENGTH = 8192;

export type ParsedAuthorization =
  | { kind: 'missing' }
  | { kind: 'malformed'; description: string }
  | { kind: 'bearer'; token: string };

/** RFC 6750 section 2.1 b64token. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * Splits an `Authorization` header value into a bearer token (RFC 6750
 * section 2.1). The scheme name is case-insensitive (RFC 9110 section 11.1).
 */
export function parseBearerAuthorization(authorization: string | undefined): ParsedAuthorization {
  if (authorization === undefined) return { kind: 'missing' };
  const value = authorization.trim();
  if (value === '') {
    return { kind: 'malformed', description: 'Authorization header is empty; send "Authorization: Bearer <token>"' };
  }
  const space = value.search(/\s/);
  const scheme = space === -1 ? value : value.slice(0, space);
  if (scheme.toLowerCase() !== 'bearer') {
    const shown = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,32}$/.test(scheme) ? ` (it uses the "${scheme}" scheme)` : '';
    return {
      kind: 'malformed',
      description: `Authorization header is not a Bearer token${shown}; send "Authorization: Bearer <token>"`,
    };
  }
  const token = space === -1 ? '' : value.slice(space).trim();
  if (token === '') {
    return { kind: 'malformed', description: 'Authorization header uses the Bearer scheme but carries no token' };
  }
  if (token.length > MAX_BEARER_TOKEN_LENGTH) {
    return { kind: 'malformed', description: `bearer token is longer than ${MAX_BEARER_TOKEN_LENGTH} characters` };
  }
  if (!B64TOKEN.test(token)) {
    return {
      kind: 'malformed',
      description: 'bearer token contains characters a token cannot contain (spaces, quotes or non-ASCII); send the token exactly as issued',
    };
  }
  return { kind: 'bearer', token };
}
