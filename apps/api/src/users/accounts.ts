import { ErrorCode } from '@tierbase/contracts';
import { createEmailVerificationToken, isAPIError } from 'better-auth/api';
import { eq, sql } from 'drizzle-orm';
import type { Config } from '../config.ts';
import type { Database } from '../db/client.ts';
import { users } from '../db/schema/index.ts';
import type { Mailer } from '../email/mailer.ts';
import { AppError, validationError } from '../errors.ts';
import type { JobQueue } from '../jobs/queue.ts';
import {
  ACCOUNT_DEACTIVATED,
  type Auth,
  linkWithToken,
  twoFactorCookieName,
  VERIFY_EMAIL_TTL_SECONDS,
} from './auth.ts';
import type { AuthUser } from './auth-context.ts';
import { assertPasswordPolicy } from './password-policy.ts';
import { deleteOtherSessions, deleteSession } from './sessions.ts';

/**
 * Account operations (register, login, logout, password reset and change, email verification),
 * each a thin layer over Better Auth that enforces our policy first and answers with our error
 * codes. Operations that start a session return the Set-Cookie values Better Auth produced, for
 * the route to forward.
 */

export const INVALID_CREDENTIALS_MESSAGE = 'Invalid email or password.';
export const PASSWORD_RESET_MESSAGE =
  'If an account exists for this email address, we have sent a link to reset its password.';

const invalidCredentials = () =>
  new AppError({ status: 401, code: ErrorCode.INVALID_CREDENTIALS, message: INVALID_CREDENTIALS_MESSAGE });
export const accountDeactivated = () =>
  new AppError({
    status: 403,
    code: ErrorCode.ACCOUNT_DEACTIVATED,
    message: 'This account has been deactivated. Contact support if you think this is a mistake.',
  });
const invalidToken = () =>
  new AppError({
    status: 400,
    code: ErrorCode.INVALID_TOKEN,
    message: 'This link is invalid or has expired. Request a new one.',
  });

/** Better Auth's machine code on an APIError (e.g. "INVALID_EMAIL_OR_PASSWORD"), if any. */
function authErrorCode(error: unknown): string | undefined {
  if (!isAPIError(error)) return undefined;
  const body = error.body as { code?: unknown } | undefined;
  return typeof body?.code === 'string' ? body.code : undefined;
}

export interface SessionStarted {
  userId: string;
  /** Set-Cookie header values to forward as they are. */
  cookies: string[];
}

/** The password was right; the session waits for the second factor (POST /api/login/two-factor/). */
export interface TwoFactorPending {
  twoFactorRequired: true;
  /** The pending sign-in's cookie, to forward. */
  cookies: string[];
}

/** The queue of password reset requests (see `requestPasswordReset`). */
export const PASSWORD_RESET_QUEUE = 'users.password-reset';
/** A reset request: the account's id, or null for an address with no account. */
export interface PasswordResetJob {
  userId: string | null;
}

export interface AccountDependencies {
  auth: Auth;
  db: Database;
  config: Config;
  mailer: Mailer;
  jobs: Pick<JobQueue, 'send'>;
}

export function createAccounts({ auth, db, config, mailer, jobs }: AccountDependencies) {
  const pendingCookie = twoFactorCookieName(config);
  return {
    /**
     * Creates the user (+ profile, + verification email) without signing them in. A taken address
     * gets the same answer after the same work (Better Auth hashes the password anyway) and its
     * owner is emailed instead, so the answer never tells whether an account exists.
     */
    async register(
      input: { email: string; password: string; name?: string | undefined },
      headers: Headers,
    ): Promise<void> {
      assertPasswordPolicy(input.password, input);
      try {
        await auth.api.signUpEmail({
          body: { email: input.email, password: input.password, name: input.name ?? '' },
          headers,
        });
      } catch (error) {
        // Two sign-ups racing for one address: the unique index stops the second, which Better
        // Auth reports as a failure to create. It gets the answer every taken address gets.
        if (authErrorCode(error) === 'FAILED_TO_CREATE_USER' && (await emailExists(db, input.email))) return;
        throw error;
      }
    },

    /**
     * Checks the credentials and starts a new session. The caller's previous session, if any, is
     * deleted only once the new one exists (a failed attempt signs no one out).
     */
    async login(
      input: { email: string; password: string },
      headers: Headers,
      previousSessionId: string | undefined,
    ): Promise<SessionStarted | TwoFactorPending> {
      let result: Awaited<ReturnType<typeof signIn>>;
      try {
        result = await signIn(auth, input, headers);
      } catch (error) {
        // Unknown email and wrong password are one answer; Better Auth also hashes the password
        // for an unknown email, so both take as long.
        if (isAPIError(error) && error.statusCode === 401) throw invalidCredentials();
        // Only after the password matched (the session hook in auth.ts).
        if (authErrorCode(error) === ACCOUNT_DEACTIVATED) throw accountDeactivated();
        throw error;
      }
      if ('twoFactorRedirect' in result.response && result.response.twoFactorRedirect) {
        // The password was right but a second factor is on: no session, only the pending cookie
        // (Better Auth also expires the session cookie; the caller's current session is kept
        // until the code is given, as a failed attempt signs no one out).
        const pending = result.headers
          .getSetCookie()
          .filter((cookie) => cookie.startsWith(`${pendingCookie}=`));
        return { twoFactorRequired: true, cookies: pending };
      }
      if (previousSessionId) await deleteSession(db, previousSessionId);
      return { userId: result.response.user.id, cookies: result.headers.getSetCookie() };
    },

    async logout(sessionId: string): Promise<void> {
      // Not auth.api.signOut: it logs and swallows a failed delete, and a logout that did not
      // happen must not answer 200.
      await deleteSession(db, sessionId);
    },

    /**
     * Queues the reset email. The request does the same work whether or not the account exists
     * (one indexed lookup, one job), so neither its answer nor its timing tells them apart; the
     * job makes the token and sends the mail, or does nothing for an unknown address.
     */
    async requestPasswordReset(email: string): Promise<void> {
      const userId = await userIdByEmail(db, email);
      await jobs.send<PasswordResetJob>(PASSWORD_RESET_QUEUE, { userId });
    },

    /** The job behind `requestPasswordReset`. */
    async sendPasswordReset({ userId }: PasswordResetJob): Promise<void> {
      if (!userId) return;
      const [user] = await db.select({ email: users.email }).from(users).where(eq(users.id, userId)).limit(1);
      // Deleted since the request.
      if (!user) return;
      await auth.api.requestPasswordReset({ body: { email: user.email } });
    },

    /** Sets the new password from a reset token and ends every session of the user. */
    async confirmPasswordReset(token: string, password: string): Promise<void> {
      const context = await auth.$context;
      const verification = await context.internalAdapter.findVerificationValue(`reset-password:${token}`);
      if (!verification || verification.expiresAt < new Date()) throw invalidToken();
      const user = await context.internalAdapter.findUserById(verification.value);
      if (!user) throw invalidToken();
      assertPasswordPolicy(password, user);
      try {
        await auth.api.resetPassword({ body: { token, newPassword: password } });
      } catch (error) {
        // Used (or expired) between our check and Better Auth's atomic consumption.
        if (authErrorCode(error) === 'INVALID_TOKEN') throw invalidToken();
        throw error;
      }
    },

    /**
     * Marks the address verified. The first use of a link also signs its user in with a new
     * session (that is how a new account gets its first one): the cookies to forward are returned,
     * and a session the request carried is then ended, as on login. Later uses only confirm.
     */
    async verifyEmail(
      token: string,
      headers: Headers,
      previousSessionId: string | undefined,
    ): Promise<string[]> {
      // Without the caller's cookie Better Auth never reuses the session the request carried.
      const withoutSession = new Headers(headers);
      withoutSession.delete('cookie');
      let cookies: string[];
      try {
        const result = await auth.api.verifyEmail({
          query: { token },
          headers: withoutSession,
          returnHeaders: true,
        });
        cookies = result.headers.getSetCookie();
      } catch (error) {
        // Bad signature, expired, or for a user that no longer exists.
        if (isAPIError(error)) throw invalidToken();
        throw error;
      }
      if (previousSessionId && cookies.length > 0) await deleteSession(db, previousSessionId);
      return cookies;
    },

    /** Sends a fresh verification link; false when the address is already verified. */
    async resendVerification(user: AuthUser): Promise<boolean> {
      if (user.emailVerified) return false;
      // The same signed token Better Auth mints on sign-up, so its verifyEmail accepts it.
      const token = await createEmailVerificationToken(
        config.secretKey,
        user.email,
        undefined,
        VERIFY_EMAIL_TTL_SECONDS,
        { userId: user.id },
      );
      await mailer.send({
        to: user.email,
        template: 'verify-email',
        data: { name: user.name, url: linkWithToken(config.appUrl, '/verify-email', token) },
      });
      return true;
    },

    /**
     * Changes the password after checking the current one, ends every other session and rotates
     * the caller's own (Better Auth issues a new session cookie). A wrong current password answers
     * 400 VALIDATION_ERROR on `currentPassword`, so the form shows it beside that field.
     */
    async changePassword(
      user: AuthUser,
      input: { currentPassword: string; newPassword: string },
      headers: Headers,
    ): Promise<string[]> {
      assertPasswordPolicy(input.newPassword, user, 'newPassword');
      try {
        const result = await auth.api.changePassword({
          body: {
            currentPassword: input.currentPassword,
            newPassword: input.newPassword,
            revokeOtherSessions: true,
          },
          headers,
          returnHeaders: true,
        });
        return result.headers.getSetCookie();
      } catch (error) {
        if (authErrorCode(error) === 'INVALID_PASSWORD') {
          throw validationError({ currentPassword: ['The current password is incorrect.'] });
        }
        throw error;
      }
    },

    async revokeOtherSessions(userId: string, currentSessionId: string): Promise<number> {
      return deleteOtherSessions(db, userId, currentSessionId);
    },
  };
}

export type Accounts = ReturnType<typeof createAccounts>;

function signIn(auth: Auth, input: { email: string; password: string }, headers: Headers) {
  return auth.api.signInEmail({
    body: { email: input.email, password: input.password },
    headers,
    returnHeaders: true,
  });
}

async function userIdByEmail(db: Database, email: string): Promise<string | null> {
  const [row] = await db
    .select({ id: users.id })
    .from(users)
    .where(eq(sql`lower(${users.email})`, email.toLowerCase()))
    .limit(1);
  return row?.id ?? null;
}

async function emailExists(db: Database, email: string): Promise<boolean> {
  return (await userIdByEmail(db, email)) !== null;
}
