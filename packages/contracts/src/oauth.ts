import { z } from 'zod';

/** The sign-in providers the API knows; each is offered only when configured. */
export const OAUTH_PROVIDERS = ['github', 'google'] as const;
export const oauthProviderSchema = z.enum(OAUTH_PROVIDERS);
export type OAuthProvider = z.infer<typeof oauthProviderSchema>;

export const OAUTH_PROVIDER_NAMES: Record<OAuthProvider, string> = { github: 'GitHub', google: 'Google' };

/** GET /api/auth/providers/: the configured providers, in display order. */
export const oauthProvidersResponse = z.object({
  providers: z.array(z.object({ id: oauthProviderSchema, name: z.string() })),
});
export type OAuthProvidersResponse = z.infer<typeof oauthProvidersResponse>;

/**
 * A path inside the app to land on after signing in: one leading slash, never `//` or `/\`
 * (which browsers read as another host), no control characters.
 */
export const safeNextPath = z
  .string()
  .max(2000)
  .regex(/^\/(?![/\\])[^\s\\]*$/, 'must be a path inside the app');

/** GET /api/auth/oauth/:provider/start?next=/path */
export const oauthStartQuery = z.object({ next: z.string().optional() });

/** What the provider sends back to the callback (OAuth 2.0 §4.1.2 and §4.1.2.1). */
export const oauthCallbackQuery = z.object({
  code: z.string().max(2048).optional(),
  state: z.string().max(512).optional(),
  error: z.string().max(256).optional(),
  error_description: z.string().max(2048).optional(),
  iss: z.string().max(2048).optional(),
});

/**
 * Why an OAuth sign-in ended on /login?error=…: the codes the API redirects with and what the
 * SPA tells the user.
 */
export const OAUTH_ERROR_MESSAGES = {
  oauth_unavailable: 'That sign-in method is not available.',
  oauth_denied: 'Sign-in was cancelled at the provider.',
  oauth_state: 'That sign-in link expired or was already used. Please try again.',
  oauth_provider: 'The sign-in provider could not be reached. Please try again later.',
  oauth_email_unverified:
    'The provider did not confirm an email address for that account, so we cannot sign you in with it.',
  oauth_account_not_linked:
    'An account with this email already exists. Sign in with your password, then try again once your email address is verified.',
  oauth_account_deactivated:
    'This account has been deactivated. Contact support if you think this is a mistake.',
  oauth_failed: 'Sign-in did not complete. Please try again.',
} as const;
export type OAuthErrorCode = keyof typeof OAUTH_ERROR_MESSAGES;

export function isOAuthErrorCode(value: string | null | undefined): value is OAuthErrorCode {
  return typeof value === 'string' && Object.hasOwn(OAUTH_ERROR_MESSAGES, value);
}

/** GET /api/auth/methods/: how the signed-in user can sign in. */
export const signInMethodsResponse = z.object({
  /** Whether the account has a password (an OAuth-only account sets one through "Forgot password"). */
  password: z.boolean(),
  /** The providers linked to the account. */
  providers: z.array(z.object({ id: oauthProviderSchema, name: z.string() })),
});
export type SignInMethodsResponse = z.infer<typeof signInMethodsResponse>;
