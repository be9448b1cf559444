import { Events, OAuth2Server } from 'oauth2-mock-server';

/** Who the local provider says signs in: one person for the whole run. */
export const OIDC_IDENTITY = {
  sub: 'e2e-google-user',
  email: `grace-${Date.now().toString(36)}@example.com`,
  name: 'Grace Hopper',
};

/**
 * A local OpenID Connect provider (oauth2-mock-server) the server's "Continue with Google" points
 * at: discovery, authorize (approving at once, as after an earlier consent), token, JWKS. Its ID
 * tokens carry OIDC_IDENTITY with a verified address.
 */
export async function startOidcProvider(): Promise<{ issuerUrl: string; stop(): Promise<void> }> {
  const server = new OAuth2Server();
  await server.issuer.keys.generate('RS256');
  server.service.on(Events.BeforeTokenSigning, (token) => {
    Object.assign(token.payload, { ...OIDC_IDENTITY, email_verified: true });
  });
  await server.start(0, '127.0.0.1');
  return {
    issuerUrl: (server.issuer.url ?? '').replace(/\/$/, ''),
    stop: () => server.stop(),
  };
}
