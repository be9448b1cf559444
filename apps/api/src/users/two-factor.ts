import { ErrorCode, isTotpCode, type TwoFactorSetup } from '@tierbase/contracts';
import { isAPIError } from 'better-auth/api';
import QRCode from 'qrcode';
import type { Database } from '../db/client.ts';
import { AppError, validationError } from '../errors.ts';
import { ACCOUNT_DEACTIVATED, type Auth } from './auth.ts';
import type { AuthUser } from './auth-context.ts';
import { deleteSession } from './sessions.ts';

/**
 * TOTP two-factor with backup codes (decision 21), over Better Auth's two-factor plugin. Set-up
 * and changes run on the caller's session; the second step of a sign-in runs on the pending
 * cookie POST /api/login/ set. Codes and secrets pass through here and are never logged.
 */

const wrongPassword = () => validationError({ password: ['The password is incorrect.'] });
const wrongCode = (field = 'code') =>
  validationError({ [field]: ['That code is not valid. Check the time on your device and try again.'] });
const alreadyEnabled = () =>
  new AppError({
    status: 409,
    code: ErrorCode.CONFLICT,
    message: 'Two-factor authentication is already on.',
  });
const notEnabled = () =>
  new AppError({ status: 409, code: ErrorCode.CONFLICT, message: 'Two-factor authentication is off.' });
const notStarted = () =>
  new AppError({
    status: 409,
    code: ErrorCode.CONFLICT,
    message: 'Start setting up two-factor authentication first.',
  });
const invalidSignInCode = () =>
  new AppError({ status: 401, code: ErrorCode.INVALID_TWO_FACTOR_CODE, message: 'That code is not valid.' });
const signInExpired = (message = 'Your sign-in has expired. Enter your email and password again.') =>
  new AppError({ status: 401, code: ErrorCode.TWO_FACTOR_EXPIRED, message });

/** Better Auth's machine code on an APIError, if any. */
function authErrorCode(error: unknown): string | undefined {
  if (!isAPIError(error)) return undefined;
  const body = error.body as { code?: unknown } | undefined;
  return typeof body?.code === 'string' ? body.code : undefined;
}

/** Runs a Better Auth call, turning the codes it answers with into ours. */
async function mapped<T>(call: () => Promise<T>, map: Record<string, () => AppError>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const code = authErrorCode(error);
    const replacement = code ? map[code] : undefined;
    if (replacement) throw replacement();
    throw error;
  }
}

export interface TwoFactorDependencies {
  auth: Auth;
  db: Database;
}

export function createTwoFactor({ auth, db }: TwoFactorDependencies) {
  /** Checks a code on the caller's session: a TOTP code is only checked, a backup code is used up. */
  async function checkCodeOnSession(code: string, headers: Headers): Promise<void> {
    const onWrong = { INVALID_CODE: () => wrongCode(), INVALID_BACKUP_CODE: () => wrongCode() };
    if (isTotpCode(code)) await mapped(() => auth.api.verifyTOTP({ body: { code }, headers }), onWrong);
    else {
      await mapped(
        () => auth.api.verifyBackupCode({ body: { code, disableSession: true }, headers }),
        onWrong,
      );
    }
  }

  return {
    /**
     * Starts the set-up: a new secret (unconfirmed until `confirm`) and backup codes, returned
     * once. Starting again before confirming replaces both.
     */
    async begin(user: AuthUser, password: string, headers: Headers): Promise<TwoFactorSetup> {
      if (user.twoFactorEnabled) throw alreadyEnabled();
      const result = await mapped(() => auth.api.enableTwoFactor({ body: { password }, headers }), {
        INVALID_PASSWORD: wrongPassword,
        TOTP_ALREADY_ENABLED: alreadyEnabled,
      });
      if (!('totpURI' in result) || !result.totpURI || !result.backupCodes) {
        throw new Error('two-factor: the plugin returned no TOTP set-up');
      }
      const secret = new URL(result.totpURI).searchParams.get('secret');
      if (!secret) throw new Error('two-factor: the TOTP URI has no secret');
      const svg = await QRCode.toString(result.totpURI, {
        type: 'svg',
        margin: 2,
        errorCorrectionLevel: 'M',
      });
      return {
        totpUri: result.totpURI,
        secret,
        qrCode: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`,
        backupCodes: result.backupCodes,
      };
    },

    /**
     * Confirms the set-up with the first code from the app, which turns two-factor on. Better Auth
     * rotates the session as it does so: the new cookie is returned, to forward.
     */
    async confirm(user: AuthUser, code: string, headers: Headers): Promise<string[]> {
      if (user.twoFactorEnabled) throw alreadyEnabled();
      const result = await mapped(
        () => auth.api.verifyTOTP({ body: { code }, headers, returnHeaders: true }),
        { INVALID_CODE: () => wrongCode(), TOTP_NOT_ENABLED: notStarted },
      );
      return result.headers.getSetCookie();
    },

    /**
     * Turns two-factor off after the password and a current code (from the app, or a backup code,
     * for someone who lost the device). The password is checked first, so a wrong one uses up no
     * backup code. Better Auth rotates the session: its new cookie is returned.
     */
    async disable(
      user: AuthUser,
      input: { password: string; code: string },
      headers: Headers,
    ): Promise<string[]> {
      if (!user.twoFactorEnabled) throw notEnabled();
      await mapped(() => auth.api.verifyPassword({ body: { password: input.password }, headers }), {
        INVALID_PASSWORD: wrongPassword,
      });
      await checkCodeOnSession(input.code, headers);
      const result = await mapped(
        () => auth.api.disableTwoFactor({ body: { password: input.password }, headers, returnHeaders: true }),
        { INVALID_PASSWORD: wrongPassword },
      );
      return result.headers.getSetCookie();
    },

    /** New backup codes, returned once; the previous ones stop working. */
    async regenerateBackupCodes(user: AuthUser, password: string, headers: Headers): Promise<string[]> {
      if (!user.twoFactorEnabled) throw notEnabled();
      const result = await mapped(() => auth.api.generateBackupCodes({ body: { password }, headers }), {
        INVALID_PASSWORD: wrongPassword,
        TWO_FACTOR_NOT_ENABLED: notEnabled,
      });
      return result.backupCodes;
    },

    /**
     * The second step of a sign-in: `headers` carry only the pending cookie POST /api/login/ set
     * (never a session cookie, which Better Auth would check the code against instead). A right
     * code starts the session (its cookies returned); a backup code is used up. Wrong codes are
     * limited per pending sign-in and per account by Better Auth.
     */
    async completeSignIn(
      code: string,
      headers: Headers,
      previousSessionId: string | undefined,
    ): Promise<{ userId: string; cookies: string[] }> {
      const errors = {
        INVALID_CODE: invalidSignInCode,
        INVALID_BACKUP_CODE: invalidSignInCode,
        INVALID_TWO_FACTOR_COOKIE: () => signInExpired(),
        // The account's secret is gone (turned off meanwhile): the password step decides again.
        TOTP_NOT_ENABLED: () => signInExpired(),
        BACKUP_CODES_NOT_ENABLED: () => signInExpired(),
        TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE: () =>
          signInExpired('Too many wrong codes. Enter your email and password again.'),
        ACCOUNT_TEMPORARILY_LOCKED: () =>
          new AppError({
            status: 429,
            code: ErrorCode.RATE_LIMITED,
            message: 'Too many wrong codes for this account. Try again in 15 minutes.',
            headers: { 'Retry-After': String(15 * 60) },
          }),
        [ACCOUNT_DEACTIVATED]: () =>
          new AppError({
            status: 403,
            code: ErrorCode.ACCOUNT_DEACTIVATED,
            message: 'This account has been deactivated. Contact support if you think this is a mistake.',
          }),
      };
      const result = isTotpCode(code)
        ? await mapped(() => auth.api.verifyTOTP({ body: { code }, headers, returnHeaders: true }), errors)
        : await mapped(
            () => auth.api.verifyBackupCode({ body: { code }, headers, returnHeaders: true }),
            errors,
          );
      if (previousSessionId) await deleteSession(db, previousSessionId);
      return { userId: result.response.user.id, cookies: result.headers.getSetCookie() };
    },
  };
}

export type TwoFactor = ReturnType<typeof createTwoFactor>;
