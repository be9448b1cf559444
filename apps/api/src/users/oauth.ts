import {
  OAUTH_PROVIDER_NAMES,
  OAUTH_PROVIDERS,
  type OAuthErrorCode,
  type OAuthProvider,
} from '@tierbase/contracts';
import type { GenericOAuthConfig, GenericOAuthUserInfo } from 'better-auth/plugins/generic-oauth';
import { eq } from 'drizzle-orm';
import type { Config } from '../config.ts';
import type { Database } from '../db/client.ts';
import { accounts } from '../db/schema/index.ts';

/**
 * Sign-in with GitHub and Google through Better Auth's generic OAuth plugin, whose endpoints are
 * configurable (the built-in social providers hard-code github.com and google.com, which tests
 * cannot reach). Google is OpenID Connect: endpoints from discovery, identity from the ID token,
 * verified against the issuer's keys. GitHub is plain OAuth 2.0: its user and emails API.
 *
 * Only a provider-verified email address is accepted (an unverified one is dropped, and Better
 * Auth then refuses the sign-in): an account is never created for, or linked to, an address its
 * owner has not proven at the provider.
 */

/** Where the provider sends the browser back; register it with the provider. */
export function oauthCallbackUrl(config: Config, provider: OAuthProvider): string {
  return `${config.appUrl}/api/auth/oauth/${provider}/callback`;
}

/** The configured providers, in display order. */
export function configuredProviders(config: Config): { id: OAuthProvider; name: string }[] {
  return OAUTH_PROVIDERS.filter((id) => config.oauth[id] !== undefined).map((id) => ({
    id,
    name: OAUTH_PROVIDER_NAMES[id],
  }));
}

/** How a user can sign in: a password, and which providers are linked. */
export async function signInMethods(db: Database, userId: string) {
  const rows = await db
    .select({ providerId: accounts.providerId })
    .from(accounts)
    .where(eq(accounts.userId, userId));
  const linked = new Set(rows.map((row) => row.providerId));
  return {
    password: linked.has('credential'),
    providers: OAUTH_PROVIDERS.filter((id) => linked.has(id)).map((id) => ({
      id,
      name: OAUTH_PROVIDER_NAMES[id],
    })),
  };
}

interface GitHubUser {
  id: number;
  login: string;
  name: string | null;
  avatar_url?: string;
}
interface GitHubEmail {
  email: string;
  primary: boolean;
  verified: boolean;
}

async function gitHubGet<T>(url: string, accessToken: string): Promise<T | null> {
  const response = await fetch(url, {
    headers: {
      authorization: `Bearer ${accessToken}`,
      accept: 'application/vnd.github+json',
      'user-agent': 'Tierbase',
    },
    redirect: 'error',
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) return null;
  return (await response.json()) as T;
}

export function oauthProviderConfigs(config: Config): GenericOAuthConfig[] {
  const providers: GenericOAuthConfig[] = [];
  const { github, google } = config.oauth;
  if (github) {
    providers.push({
      providerId: 'github',
      name: 'GitHub',
      clientId: github.clientId,
      clientSecret: github.clientSecret,
      authorizationUrl: `${github.url}/login/oauth/authorize`,
      tokenUrl: `${github.url}/login/oauth/access_token`,
      redirectURI: oauthCallbackUrl(config, 'github'),
      scopes: ['read:user', 'user:email'],
      // The account is keyed by GitHub's numeric user id, which never changes (a login can).
      async getUserInfo(tokens): Promise<GenericOAuthUserInfo | null> {
        if (!tokens.accessToken) return null;
        const user = await gitHubGet<GitHubUser>(`${github.apiUrl}/user`, tokens.accessToken);
        if (!user) return null;
        const emails =
          (await gitHubGet<GitHubEmail[]>(`${github.apiUrl}/user/emails`, tokens.accessToken)) ?? [];
        // The primary address, and only if GitHub has verified it.
        const primary = emails.find((entry) => entry.primary && entry.verified);
        return {
          id: String(user.id),
          name: user.name || user.login,
          email: primary?.email,
          emailVerified: primary !== undefined,
          image: user.avatar_url,
        };
      },
    });
  }
  if (google) {
    providers.push({
      providerId: 'google',
      name: 'Google',
      clientId: google.clientId,
      clientSecret: google.clientSecret,
      discoveryUrl: `${google.issuerUrl}/.well-known/openid-configuration`,
      // Identity comes from the ID token's claims: never accept one that was not verified.
      requireIdTokenVerification: true,
      redirectURI: oauthCallbackUrl(config, 'google'),
      scopes: ['openid', 'email', 'profile'],
      // An address Google has not verified is dropped (see above).
      mapProfileToUser: (profile) => (profile.emailVerified === true ? {} : { email: undefined }),
    });
  }
  return providers;
}

/**
 * Better Auth's redirect error codes (and a provider's own `error`), as the codes the SPA shows on
 * /login?error=…. Anything unknown is a generic failure.
 */
export function oauthErrorCode(betterAuthCode: string | null): OAuthErrorCode {
  switch (betterAuthCode) {
    case 'access_denied':
      return 'oauth_denied';
    case 'state_not_found':
    case 'state_mismatch':
    case 'state_invalid':
    case 'state_security_mismatch':
    case 'no_code':
      return 'oauth_state';
    case 'invalid_code':
    case 'unable_to_get_user_info':
    case 'issuer_missing':
    case 'issuer_mismatch':
    case 'oauth_provider_not_found':
    case 'temporarily_unavailable':
    case 'server_error':
      return 'oauth_provider';
    case 'email_not_found':
    case 'email_not_verified':
      return 'oauth_email_unverified';
    case 'account_not_linked':
      return 'oauth_account_not_linked';
    case 'ACCOUNT_DEACTIVATED':
      return 'oauth_account_deactivated';
    default:
      return 'oauth_failed';
  }
}
