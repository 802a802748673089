import type { AuthFailure, AuthRequest, AuthResult, Authenticator } from './types.js';

/**
 * Tries authenticators in order and accepts the first success.
 *
 * A bad credential never falls back to anonymous access: anonymous
 * authenticators refuse any request that carries an Authorization header, so
 * when a header is present only token authenticators can succeed. When all
 * fail, the first `invalid_token` failure is returned (a credential was
 * presented and rejected — the most specific reason), else the first failure.
 * An authenticator that throws aborts the chain (the caller fails closed).
 */
export function chainAuthenticators(...authenticators: Authenticator[]): Authenticator {
  if (authenticators.length === 0) throw new TypeError('chainAuthenticators: at least one authenticator is required');
  const list = [...authenticators];
  return {
    async authenticate(req: AuthRequest): Promise<AuthResult> {
      const failures: AuthFailure[] = [];
      for (const authenticator of list) {
        const result = await authenticator.authenticate(req);
        if (result.ok) return result;
        failures.push(result);
      }
      return failures.find((f) => f.error === 'invalid_token') ?? failures[0];
    },
  };
}
