export type { AuthFailure, AuthRequest, AuthResult, Authenticator, Principal } from './types.js';
export {
  DEFAULT_REALM,
  bearerChallenge,
  invalidRequest,
  invalidToken,
  missingCredentials,
  quoteHeaderValue,
  type BearerChallenge,
} from './www-authenticate.js';
export { MAX_BEARER_TOKEN_LENGTH, parseBearerAuthorization, type ParsedAuthorization } from './bearer.js';
export { SIGNING_ALG, SIGNING_KEY_FILE, SigningKeyError, loadOrCreateSigningKey, signingKeyPath, type SigningKey } from './keys.js';
export { ACCESS_TOKEN_TYPE, ISSUE_TOKEN_COMMAND, MAX_TOKEN_TTL_SECONDS, issueToken, type IssueTokenOptions } from './tokens.js';
export { LocalJwtAuthenticator, type LocalJwtAuthenticatorOptions } from './local-jwt.js';
export { AnonymousLoopbackAuthenticator, isLoopbackAddress } from './anonymous.js';
export { chainAuthenticators } from './chain.js';
