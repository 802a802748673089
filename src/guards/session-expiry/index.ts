import { allow, deny, type Guard } from '../../pipeline/types.js';

/**
 * Short-lived sessions: a session ends session_ttl_seconds after it starts,
 * whatever the client does, so a stolen or long-lived session cannot outlast
 * the credential policy. The client must re-authenticate and start again.
 */
export function sessionExpiry(): Guard {
  return {
    name: 'session-expiry',
    onRequest(ctx) {
      if (ctx.now < ctx.session.expiresAt) return allow();
      return deny(
        'SESSION_EXPIRED',
        `session expired at ${new Date(ctx.session.expiresAt).toISOString()} (identity ${ctx.session.identity.name}, ttl ${ctx.session.identity.sessionTtlSeconds}s); re-authenticate and start a new session`,
      );
    },
  };
}
