import { createHash } from 'node:crypto';
import { betterAuth } from 'better-auth';
import { drizzleAdapter } from 'better-auth/adapters/drizzle';
import { APIError } from 'better-auth/api';
import { createCookieGetter, getCookies } from 'better-auth/cookies';
import { genericOAuth } from 'better-auth/plugins/generic-oauth';
import { twoFactor } from 'better-auth/plugins/two-factor';
import { and, eq, like } from 'drizzle-orm';
import type { Config } from '../config.ts';
import type { Database } from '../db/client.ts';
import { accounts, profiles, sessions, twoFactors, users, verifications } from '../db/schema/index.ts';
import type { Mailer } from '../email/mailer.ts';
import { scrubPersonalData } from '../logger.ts';
import { ensurePersonalWorkspace } from '../organizations/workspaces.ts';
import { oauthProviderConfigs } from './oauth.ts';
import { passwordHasher } from './password-hasher.ts';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from './password-policy.ts';

/** How long a session lives without use, and how often its expiry slides forward when used. */
export const SESSION_TTL_SECONDS = 7 * 24 * 3600;
export const SESSION_REFRESH_AFTER_SECONDS = 24 * 3600;
/** Reset links are single use and expire after an hour; verification links after a day. */
export const PASSWORD_RESET_TTL_SECONDS = 3600;
export const VERIFY_EMAIL_TTL_SECONDS = 24 * 3600;

/** The few log calls Better Auth makes, routed into the app's pino logger. */
export interface AuthLogger {
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
  info(object: object, message: string): void;
  debug(object: object, message: string): void;
}

/** How a stored reset token's identifier starts (the rest is a SHA-256 hash of the token). */
export const RESET_TOKEN_PREFIX = 'reset-password:';

/**
 * Links carry their token in the fragment (`#token=…`): browsers never send a fragment to a server
 * or put it in a Referer, so the token reaches no access log, proxy or third party. The SPA reads it.
 */
export function linkWithToken(
  appUrl: string,
  path: '/reset-password' | '/verify-email' | '/invitations',
  token: string,
): string {
  return `${appUrl}${path}#token=${encodeURIComponent(token)}`;
}

/**
 * How verification rows are keyed: the SHA-256 of the identifier (a leaked row cannot be used),
 * behind the identifier's purpose (`reset-password:`), so that every reset token of a user can be
 * found and deleted together.
 */
async function storedIdentifier(identifier: string): Promise<string> {
  const colon = identifier.indexOf(':');
  const purpose = colon > 0 ? identifier.slice(0, colon + 1) : '';
  return purpose + createHash('sha256').update(identifier).digest('base64url');
}

/** Deletes every outstanding reset token of the user. */
export async function deleteResetTokens(db: Database, userId: string): Promise<number> {
  const deleted = await db
    .delete(verifications)
    .where(and(eq(verifications.value, userId), like(verifications.identifier, `${RESET_TOKEN_PREFIX}%`)))
    .returning({ id: verifications.id });
  return deleted.length;
}

/** Better Auth's error code when a deactivated account asks for a session. */
export const ACCOUNT_DEACTIVATED = 'ACCOUNT_DEACTIVATED';

/** The request header through which routes hand Better Auth the caller's resolved IP. */
export const CLIENT_IP_HEADER = 'x-tierbase-client-ip';

/** Cookie settings shared by Better Auth and our own reading of its session cookie. */
function cookieOptions(config: Config) {
  return {
    // Secure (and the __Secure- prefix) in production; plain HTTP works on a laptop.
    useSecureCookies: config.isProduction,
    cookiePrefix: 'tierbase',
    defaultCookieAttributes: { httpOnly: true, sameSite: 'lax', path: '/' } as const,
  };
}

export interface AuthDependencies {
  config: Config;
  db: Database;
  mailer: Mailer;
  logger: AuthLogger;
}

/**
 * Better Auth, configured as the identity engine behind the seed's own /api/* endpoints. Its HTTP
 * handler is never mounted: routes call `auth.api.*` server-side and forward the cookies it sets.
 * Passwords are hashed with Better Auth's default, scrypt (N=16384, r=16, p=1: 32 MiB per hash),
 * which is memory-hard (through `passwordHasher`).
 *
 * Sign-up never reveals whether an address has an account (decision 9): it starts no session, a
 * taken address gets the same answer after the same password hash, and its owner is emailed
 * instead; the new user is signed in by the verification link.
 */
export function createAuth({ config, db, mailer, logger }: AuthDependencies) {
  const auth = betterAuth({
    appName: 'Tierbase',
    secret: config.secretKey,
    baseURL: config.appUrl,
    database: drizzleAdapter(db, {
      provider: 'pg',
      schema: {
        user: users,
        session: sessions,
        account: accounts,
        verification: verifications,
        twoFactor: twoFactors,
      },
      // Sign-up writes the user, the credential account and the session in one transaction.
      transaction: true,
    }),
    user: {
      additionalFields: {
        // Only the create-admin command (or an admin) sets it; request bodies cannot.
        isStaff: { type: 'boolean', required: false, defaultValue: false, input: false },
        // Set and cleared only by staff (admin/actions.ts); read by the session hook below.
        deactivatedAt: { type: 'date', required: false, input: false },
      },
    },
    emailAndPassword: {
      enabled: true,
      minPasswordLength: MIN_PASSWORD_LENGTH,
      maxPasswordLength: MAX_PASSWORD_LENGTH,
      password: {
        hash: (password) => passwordHasher.hash(password),
        verify: (data) => passwordHasher.verify(data),
      },
      // Sign-up starts no session: a cookie for a new account and none for a taken address would
      // tell the two apart. With this off, Better Auth answers a taken address like a new one
      // (a synthetic user, after hashing the password all the same) and calls onExistingUserSignUp.
      // Signing in with the password before verifying is still allowed.
      autoSignIn: false,
      requireEmailVerification: false,
      async onExistingUserSignUp({ user }) {
        await mailer.send({
          to: user.email,
          template: 'account-exists',
          data: {
            name: user.name,
            signInUrl: `${config.appUrl}/login`,
            resetUrl: `${config.appUrl}/forgot-password`,
          },
        });
      },
      resetPasswordTokenExpiresIn: PASSWORD_RESET_TTL_SECONDS,
      revokeSessionsOnPasswordReset: true,
      async sendResetPassword({ user, token }) {
        await mailer.send({
          to: user.email,
          template: 'password-reset',
          data: { name: user.name, url: linkWithToken(config.appUrl, '/reset-password', token) },
        });
      },
      // One reset link used ends them all: an older (or newer) link left in a mailbox must not
      // be able to change the password again.
      async onPasswordReset({ user }) {
        await deleteResetTokens(db, user.id);
      },
    },
    emailVerification: {
      sendOnSignUp: true,
      expiresIn: VERIFY_EMAIL_TTL_SECONDS,
      // The link signs the new user in, the first time only (an already verified address is not
      // signed in again by it).
      autoSignInAfterVerification: true,
      async sendVerificationEmail({ user, token }) {
        await mailer.send({
          to: user.email,
          template: 'verify-email',
          data: { name: user.name, url: linkWithToken(config.appUrl, '/verify-email', token) },
        });
      },
    },
    session: {
      expiresIn: SESSION_TTL_SECONDS,
      updateAge: SESSION_REFRESH_AFTER_SECONDS,
      cookieCache: { enabled: false },
    },
    verification: {
      // Reset tokens are stored as SHA-256 hashes: a leaked table row cannot reset a password.
      storeIdentifier: { hash: storedIdentifier },
    },
    databaseHooks: {
      user: {
        create: {
          // Every user has a profile and a personal workspace (decision 24), however it was created
          // (sign-up, OAuth, create-admin). Better Auth runs this once the user's transaction has
          // committed; if it fails, the session hook makes the workspace on first use.
          async after(user) {
            await db.insert(profiles).values({ userId: user.id }).onConflictDoNothing();
            await ensurePersonalWorkspace(db, user);
          },
        },
      },
      session: {
        create: {
          // A deactivated account gets no session, whichever way it asks (sign-in, sign-up, a
          // password change); the password was checked first, so this reveals nothing to a guesser.
          // Read through Better Auth's adapter, which joins the transaction a sign-up runs in (on
          // PGlite's one connection, a query beside that transaction would wait for it forever).
          async before(session, context) {
            const adapter = context?.context.internalAdapter ?? (await auth.$context).internalAdapter;
            // The additional field is returned, but not in findUserById's declared type.
            const user = (await adapter.findUserById(session.userId)) as {
              deactivatedAt?: Date | null;
            } | null;
            if (user?.deactivatedAt) {
              throw APIError.from('FORBIDDEN', {
                code: ACCOUNT_DEACTIVATED,
                message: 'This account has been deactivated.',
              });
            }
          },
        },
      },
    },
    // OAuth sign-in (users/oauth.ts, decision 22). A provider address links to an existing account
    // only when the provider has verified it AND the account's own address is verified: an
    // unverified account may have been registered by someone else ahead of its owner, and linking
    // would leave them a way in (their password).
    account: {
      accountLinking: {
        enabled: true,
        requireLocalEmailVerified: true,
        trustedProviders: [],
        allowDifferentEmails: false,
      },
    },
    // Where an OAuth callback that cannot be tied to a sign-in sends the browser.
    onAPIError: { errorURL: `${config.appUrl}/login` },
    // Our own limits (per IP, per email, per user) run in front; Better Auth's would only apply to
    // its HTTP handler, which is not mounted.
    rateLimit: { enabled: false },
    advanced: {
      ...cookieOptions(config),
      // Only the address Fastify resolved (honouring TRUSTED_PROXIES) is recorded on a session;
      // the routes pass it in this header, which callers cannot set through us.
      ipAddress: { ipAddressHeaders: [CLIENT_IP_HEADER] },
    },
    plugins: [genericOAuth({ config: oauthProviderConfigs(config) }), twoFactorPlugin()],
    telemetry: { enabled: false },
    logger: {
      level: 'warn',
      // Better Auth's messages can name the email ("Sign-up attempt for existing email: …"), and
      // its extra arguments can hold request data: only the scrubbed message and errors go out.
      log(level, message, ...args) {
        const error = args.find((arg): arg is Error => arg instanceof Error);
        const fields = error ? { err: error } : {};
        const text = scrubPersonalData(message);
        if (level === 'error') logger.error(fields, text);
        else if (level === 'warn') logger.warn(fields, text);
        else if (level === 'info') logger.info(fields, text);
        else logger.debug(fields, text);
      },
    },
  });
  return auth;
}

export type Auth = ReturnType<typeof createAuth>;

/** How long a password-checked sign-in waits for its second factor (the pending cookie's life). */
export const TWO_FACTOR_PENDING_SECONDS = 5 * 60;
/** Wrong codes allowed per pending sign-in; after them the password must be entered again. */
export const TWO_FACTOR_ATTEMPTS_PER_SIGN_IN = 5;

/**
 * TOTP two-factor with backup codes (decision 21). Enabling stores an unverified secret; the first
 * code confirms it. Sign-in with the password then starts no session, only a signed pending cookie
 * that the code exchanges for one. Secret and backup codes are stored encrypted with SECRET_KEY.
 * The plugin allows 5 wrong codes per pending sign-in (fixed in Better Auth) and locks the second
 * step for 15 minutes after 10 wrong codes in a row across sign-ins. No "trust this device".
 */
function twoFactorPlugin() {
  return twoFactor({
    issuer: 'Tierbase',
    twoFactorCookieMaxAge: TWO_FACTOR_PENDING_SECONDS,
    backupCodeOptions: { amount: 10, length: 10, storeBackupCodes: 'encrypted' },
    accountLockout: { enabled: true, maxFailedAttempts: 10, durationSeconds: 15 * 60 },
  });
}

/** The session cookie as Better Auth names it for this configuration, and its attributes. */
export interface SessionCookie {
  name: string;
  /** For @fastify/cookie, when we re-set (sliding expiry) or clear it ourselves. */
  options: { path: string; httpOnly: true; sameSite: 'lax'; secure: boolean };
}

export function sessionCookie(config: Config): SessionCookie {
  const { sessionToken } = getCookies({
    baseURL: config.appUrl,
    session: { expiresIn: SESSION_TTL_SECONDS },
    advanced: cookieOptions(config),
  });
  return {
    name: sessionToken.name,
    options: { path: '/', httpOnly: true, sameSite: 'lax', secure: sessionToken.attributes.secure === true },
  };
}

/** The signed cookie that holds a sign-in waiting for its second factor (Better Auth's name). */
export function twoFactorCookieName(config: Config): string {
  return createCookieGetter({ baseURL: config.appUrl, advanced: cookieOptions(config) })('two_factor').name;
}
