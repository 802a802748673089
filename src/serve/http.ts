import type { Logger } from 'pino';
import { AnonymousLoopbackAuthenticator, LocalJwtAuthenticator, chainAuthenticators, loadOrCreateSigningKey, type Authenticator } from '../auth/index.js';
import type { LoadedConfig } from '../config/load.js';
import type { Gateway } from '../gateway/gateway.js';
import { HttpEndpoint } from '../transports/http-server.js';
import { approvalsAdmin } from '../approvals/serve.js';

export interface HttpGatewayOptions {
  gateway: Gateway;
  loaded: LoadedConfig;
  dataDir: string;
  host: string;
  port: number;
  log?: Logger;
}

export interface RunningHttpGateway {
  url: URL;
  endpoint: HttpEndpoint;
  close(): Promise<void>;
}

/**
 * Wires the HTTP endpoint to the gateway: tokens signed by this gateway's key
 * (and, in development, anonymous loopback clients) map to configured identities.
 * An OAuth resource server adds one more Authenticator to the chain here.
 */
export async function startHttpGateway(options: HttpGatewayOptions): Promise<RunningHttpGateway> {
  const { gateway, loaded } = options;
  const key = await loadOrCreateSigningKey(options.dataDir);
  const authenticators: Authenticator[] = [
    new LocalJwtAuthenticator({
      key,
      audience: loaded.config.tokens.audience,
      issuer: loaded.config.tokens.issuer,
      isKnownIdentity: (name) => loaded.identities.has(name),
    }),
  ];
  if (loaded.config.anonymous_identity && loaded.config.mode !== 'production') {
    authenticators.push(new AnonymousLoopbackAuthenticator(loaded.config.anonymous_identity));
    options.log?.warn({ identity: loaded.config.anonymous_identity }, 'anonymous_identity is set: loopback clients without a token act as this identity (development only)');
  }
  // Approvers use /admin/ with their own tokens; the agent authenticator is passed only to recognise (and refuse) agent tokens there.
  const admin = approvalsAdmin(gateway, { key, tokens: loaded.config.tokens, isIdentity: (name) => loaded.identities.has(name), agentAuthenticator: authenticators[0] });
  const endpoint = new HttpEndpoint({
    host: options.host,
    port: options.port,
    maxMessageBytes: loaded.config.limits.max_message_bytes,
    authenticator: chainAuthenticators(...authenticators),
    adminHandler: admin?.handler,
    openSession: async (transport, principal, sessionId) => {
      const identity = loaded.identities.get(principal.identity);
      if (!identity) throw new Error(`identity ${principal.identity} is not configured`);
      const session = await gateway.openSession(transport, { identity, method: principal.method, expiresAt: principal.expiresAt }, sessionId);
      return { identityName: identity.name, get expired() { return session.expired; }, close: (reason) => session.close(reason) };
    },
  });
  const url = await endpoint.listen();
  admin?.desk.setPublicUrl(url);
  return { url, endpoint, close: () => endpoint.close() };
}
