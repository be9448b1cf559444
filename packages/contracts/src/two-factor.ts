import { z } from 'zod';
import { profileSchema } from './users.ts';

/** The current password, as the account forms send it (checked by the server, not here). */
const currentPassword = z.string().min(1, 'Enter your password.').max(1024);

/**
 * A code from the authenticator app (6 digits) or a backup code (`xxxxx-xxxxx`). Spaces people
 * type or paste are removed before it is checked.
 */
export const twoFactorCodeSchema = z
  .string()
  .transform((value) => value.replace(/\s+/g, ''))
  .pipe(z.string().min(6, 'Enter the code.').max(32, 'That code is too long.'));

/** A 6-digit code from the authenticator app. */
export const totpCodeSchema = z
  .string()
  .transform((value) => value.replace(/\s+/g, ''))
  .pipe(z.string().regex(/^\d{6}$/, 'Enter the 6-digit code from your authenticator app.'));

/** True when the code has the shape of an authenticator code (otherwise it is a backup code). */
export function isTotpCode(code: string): boolean {
  return /^\d{6}$/.test(code);
}

/** Step 1 of enabling: the password again, as for any change to how the account signs in. */
export const twoFactorEnableRequest = z.strictObject({ password: currentPassword });
export type TwoFactorEnableRequest = z.infer<typeof twoFactorEnableRequest>;

/** Shown once: the key for the authenticator app (as a URI, a QR code and typed) and the backup codes. */
export const twoFactorSetupSchema = z.object({
  /** `otpauth://totp/…` for the authenticator app. */
  totpUri: z.string(),
  /** The same key in base32, for typing into the app by hand. */
  secret: z.string(),
  /** The URI as a QR code, an SVG image in a data URL. */
  qrCode: z.string(),
  backupCodes: z.array(z.string()),
});
export type TwoFactorSetup = z.infer<typeof twoFactorSetupSchema>;

/** Step 2 of enabling: the first code from the app, proving it holds the key. */
export const twoFactorConfirmRequest = z.strictObject({ code: totpCodeSchema });
export type TwoFactorConfirmRequest = z.infer<typeof twoFactorConfirmRequest>;

/** Turning it off: the password and a current code (from the app, or a backup code). */
export const twoFactorDisableRequest = z.strictObject({
  password: currentPassword,
  code: twoFactorCodeSchema,
});
export type TwoFactorDisableRequest = z.infer<typeof twoFactorDisableRequest>;

/** New backup codes (the old ones stop working): the password again. */
export const backupCodesRequest = z.strictObject({ password: currentPassword });
export type BackupCodesRequest = z.infer<typeof backupCodesRequest>;

export const backupCodesResponse = z.object({ backupCodes: z.array(z.string()) });
export type BackupCodesResponse = z.infer<typeof backupCodesResponse>;

/** POST /api/login/ when the password was right and a second factor is on: no session yet. */
export const twoFactorChallengeSchema = z.object({ twoFactorRequired: z.literal(true) });
export type TwoFactorChallenge = z.infer<typeof twoFactorChallengeSchema>;

/** What POST /api/login/ answers: the profile (signed in), or the request for a code. */
export const loginResponse = z.union([profileSchema, twoFactorChallengeSchema]);
export type LoginResponse = z.infer<typeof loginResponse>;

/** The second step of a sign-in: a code from the app, or a backup code (single use). */
export const twoFactorLoginRequest = z.strictObject({ code: twoFactorCodeSchema });
export type TwoFactorLoginRequest = z.infer<typeof twoFactorLoginRequest>;
