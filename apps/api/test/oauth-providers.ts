import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Events, OAuth2Server } from 'oauth2-mock-server';

/** Who signs in at a local provider: the claims it vouches for. */
export interface Identity {
  sub: string;
  email: string;
  emailVerified: boolean;
  name: string;
}

/**
 * A local OpenID Connect provider standing in for Google (oauth2-mock-server: discovery, JWKS,
 * authorize with PKCE, token, userinfo). It approves every authorization at once, as a user who
 * already consented would; the ID token carries `identity`.
 */
export async function startOidcProvider() {
  const server = new OAuth2Server();
  await server.issuer.keys.generate('RS256');
  const state: { identity: Identity } = {
    identity: { sub: 'google-1', email: 'someone@example.com', emailVerified: true, name: 'Someone' },
  };
  server.service.on(Events.BeforeTokenSigning, (token) => {
    Object.assign(token.payload, {
      sub: state.identity.sub,
      email: state.identity.email,
      email_verified: state.identity.emailVerified,
      name: state.identity.name,
    });
  });
  await server.start(0, '127.0.0.1');
  const issuerUrl = (server.issuer.url ?? '').replace(/\/$/, '');
  return {
    issuerUrl,
    server,
    state,
    stop: () => server.stop(),
  };
}

/**
 * A GitHub-shaped OAuth 2.0 server: /login/oauth/authorize (approves at once),
 * /login/oauth/access_token, and the API's /user and /user/emails. No library models GitHub's
 * user and emails endpoints, so this one is small and written here.
 */
export async function startGitHubProvider() {
  const state: { identity: Identity; failTokens: boolean } = {
    identity: { sub: '1001', email: 'octo@example.com', emailVerified: true, name: 'Octo' },
    failTokens: false,
  };
  const codes = new Map<string, Identity>();
  const tokens = new Map<string, Identity>();
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const json = (status: number, body: unknown) =>
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (url.pathname === '/login/oauth/authorize') {
      const redirect = new URL(url.searchParams.get('redirect_uri') ?? '');
      const code = randomUUID();
      codes.set(code, { ...state.identity });
      redirect.searchParams.set('code', code);
      redirect.searchParams.set('state', url.searchParams.get('state') ?? '');
      response.writeHead(302, { location: redirect.toString() }).end();
      return;
    }
    if (url.pathname === '/login/oauth/access_token' && request.method === 'POST') {
      let raw = '';
      request.on('data', (chunk) => {
        raw += chunk;
      });
      request.on('end', () => {
        if (state.failTokens) return json(500, { error: 'server_error' });
        const code = new URLSearchParams(raw).get('code') ?? '';
        const identity = codes.get(code);
        codes.delete(code);
        if (!identity) return json(200, { error: 'bad_verification_code' });
        const token = randomUUID();
        tokens.set(token, identity);
        return json(200, { access_token: token, token_type: 'bearer', scope: 'read:user,user:email' });
      });
      return;
    }
    const identity = tokens.get((request.headers.authorization ?? '').replace(/^Bearer /, ''));
    if (!identity) return json(401, { message: 'Bad credentials' });
    if (url.pathname === '/user') {
      return json(200, { id: Number(identity.sub), login: 'octo', name: identity.name, email: null });
    }
    if (url.pathname === '/user/emails') {
      return json(200, [
        { email: `other-${identity.sub}@example.com`, primary: false, verified: true },
        { email: identity.email, primary: true, verified: identity.emailVerified },
      ]);
    }
    return json(404, { message: 'Not Found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    state,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A browser's cookie jar over fetch, following redirects by hand so each hop can be checked. */
export class Browser {
  readonly cookies = new Map<string, Map<string, string>>();

  cookieHeader(url: string): string {
    const jar = this.cookies.get(new URL(url).host);
    return jar ? [...jar].map(([name, value]) => `${name}=${value}`).join('; ') : '';
  }

  async get(url: string): Promise<Response> {
    const cookie = this.cookieHeader(url);
    const response = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
    const host = new URL(url).host;
    const jar = this.cookies.get(host) ?? new Map<string, string>();
    this.cookies.set(host, jar);
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === '';
      if (expired) jar.delete(name);
      else jar.set(name, value);
    }
    return response;
  }

  /**
   * Follows redirects from `url`, through the provider and back, until the browser lands on one
   * of the app's pages (its origin, outside /api/); returns that page's URL.
   */
  async signIn(url: string, appOrigin: string, maxHops = 6): Promise<URL> {
    let current = url;
    for (let hop = 0; hop < maxHops; hop++) {
      const response = await this.get(current);
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) {
        throw new Error(`${current} answered ${response.status}, not a redirect: ${await response.text()}`);
      }
      const next = new URL(location, current);
      if (next.origin === appOrigin && !next.pathname.startsWith('/api/')) return next;
      current = next.toString();
    }
    throw new Error('too many redirects');
  }
}
