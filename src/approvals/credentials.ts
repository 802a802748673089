/**
 * Approver credentials, kept apart from agent credentials.
 *
 * An approver token is signed by the gateway key like an agent token, but its
 * audience is `<tokens.audience>:approver`, it carries `role: "approver"` and
 * its subject must be a name in approvals.approvers (which the config loader
 * keeps disjoint from identity names). So an agent token is refused by the
 * admin API (wrong audience: 403, it is an agent's), and an approver token is
 * refused by the MCP endpoint (wrong audience: 401).
 */
import { randomBytes } from 'node:crypto';
import { SignJWT, errors, jwtVerify } from 'jose';
import {
  ACCESS_TOKEN_TYPE,
  MAX_TOKEN_TTL_SECONDS,
  SIGNING_ALG,
  invalidToken,
  missingCredentials,
  parseBearerAuthorization,
  invalidRequest,
  type Authenticator,
  type AuthRequest,
  type SigningKey,
} from '../auth/index.js';

export const APPROVER_ROLE = 'approver';

/** CLI command that issues an approver token; quoted in error messages. */
export const ISSUE_APPROVER_TOKEN_COMMAND = 'portcullis approvals token --as';

export function approverAudience(audience: string): string {
  return `${audience}:approver`;
}

export interface IssueApproverTokenOptions {
  /** A name in approvals.approvers (becomes `sub`). */
  approver: string;
  ttlSeconds: number;
  /** The gateway's tokens.audience; the token's `aud` is `<audience>:approver`. */
  audience: string;
  issuer: string;
  now?: number;
}

export async function issueApproverToken(key: SigningKey, options: IssueApproverTokenOptions): Promise<string> {
  const { approver, ttlSeconds, audience, issuer } = options;
  if (typeof approver !== 'string' || approver.trim() === '') throw new TypeError('issueApproverToken: approver must be a non-empty string');
  if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0 || ttlSeconds > MAX_TOKEN_TTL_SECONDS) {
    throw new RangeError(`issueApproverToken: ttlSeconds must be a whole number from 1 to ${MAX_TOKEN_TTL_SECONDS}; got ${String(ttlSeconds)}`);
  }
  const iat = Math.floor((options.now ?? Date.now()) / 1000);
  return new SignJWT({ role: APPROVER_ROLE })
    .setProtectedHeader({ alg: SIGNING_ALG, kid: key.kid, typ: ACCESS_TOKEN_TYPE })
    .setSubject(approver)
    .setAudience(approverAudience(audience))
    .setIssuer(issuer)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttlSeconds)
    .setJti(randomBytes(16).toString('base64url'))
    .sign(key.privateKey);
}

export type ApproverAuthResult =
  | { ok: true; approver: string; tokenId: string; expiresAt: number }
  | { ok: false; status: 401 | 403; description: string; wwwAuthenticate?: string };

export interface ApproverAuthenticatorOptions {
  key: SigningKey;
  /** The gateway's tokens.audience (not the approver audience). */
  audience: string;
  issuer: string;
  /** Whether `name` is a configured approver (consulted on every request). */
  isApprover: (name: string) => boolean;
  /** Whether `name` is a configured agent identity; such a subject never approves. */
  isIdentity: (name: string) => boolean;
  /** The MCP endpoint's authenticator: a credential it accepts is an agent's and gets 403. */
  agentAuthenticator?: Authenticator;
  now?: () => number;
}

/** Authenticates approvers on the HTTP admin API. */
export class ApproverAuthenticator {
  constructor(private readonly options: ApproverAuthenticatorOptions) {}

  async authenticate(req: AuthRequest): Promise<ApproverAuthResult> {
    const parsed = parseBearerAuthorization(req.authorization);
    if (parsed.kind === 'missing') {
      return missingCredentials(`no Authorization header; the admin API needs an approver token ("${ISSUE_APPROVER_TOKEN_COMMAND} <approver>")`);
    }
    if (parsed.kind === 'malformed') return invalidRequest(parsed.description);
    const { key, audience, issuer } = this.options;
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(parsed.token, key.publicKey, {
        algorithms: [SIGNING_ALG],
        audience: approverAudience(audience),
        issuer,
        typ: ACCESS_TOKEN_TYPE,
        requiredClaims: ['exp', 'iat', 'sub', 'jti'],
        maxTokenAge: MAX_TOKEN_TTL_SECONDS,
        clockTolerance: 5,
        currentDate: new Date((this.options.now ?? Date.now)()),
      }));
    } catch (error) {
      // An agent's own credential is recognised and refused as such.
      const agent = await this.options.agentAuthenticator?.authenticate(req).catch(() => undefined);
      if (agent?.ok) {
        return {
          ok: false,
          status: 403,
          description: `this is an agent credential (identity "${agent.principal.identity}"); an agent's credential can never approve. Use an approver token ("${ISSUE_APPROVER_TOKEN_COMMAND} <approver>")`,
        };
      }
      return invalidToken(`not a valid approver token: ${describe(error)}; issue one with "${ISSUE_APPROVER_TOKEN_COMMAND} <approver>"`);
    }
    const sub = payload.sub as string;
    if (payload.role !== APPROVER_ROLE) return { ok: false, status: 403, description: 'the token does not carry role "approver"' };
    if (this.options.isIdentity(sub)) return { ok: false, status: 403, description: `"${sub}" is an agent identity; an agent's credential can never approve` };
    if (!this.options.isApprover(sub)) return { ok: false, status: 403, description: `"${sub}" is not in approvals.approvers` };
    return { ok: true, approver: sub, tokenId: String(payload.jti), expiresAt: Number(payload.exp) * 1000 };
  }
}

function describe(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'it has expired';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'its signature does not verify (not issued by this gateway, or altered)';
  if (error instanceof errors.JWTClaimValidationFailed) return `claim "${error.claim}" is not acceptable (${error.reason})`;
  if (error instanceof errors.JOSEAlgNotAllowed) return `only ${SIGNING_ALG} tokens are accepted`;
  if (error instanceof errors.JOSEError) return error.message;
  return (error as Error).message;
}
