import { z } from 'zod';
import { subscriptionSchema } from './subscription.ts';

export const emailSchema = z
  .string()
  .trim()
  .min(3)
  .max(254)
  .pipe(z.email({ message: 'Enter a valid email address.' }))
  .transform((email) => email.toLowerCase());

/**
 * Length bounds only; strength (length 8+, not all digits, not close to the email, zxcvbn score)
 * is judged on the server, which knows the email and name, and answered as a VALIDATION_ERROR
 * with `details.password` (or `details.newPassword`).
 */
export const passwordSchema = z.string().min(1, 'Enter a password.').max(128);

/** A person's or a team's name. The SPA's forms check it before sending: its messages are read by people. */
export const nameSchema = z.string().trim().min(1).max(100, 'Use at most 100 characters.');

export const registerRequest = z.strictObject({
  email: emailSchema,
  password: passwordSchema,
  name: nameSchema.optional(),
});
export type RegisterRequest = z.infer<typeof registerRequest>;

/**
 * Sign-up answers 202 with this, and nothing else (no session cookie), whether the address is new
 * or already has an account: the response never tells which. The new user is signed in by the
 * link in the verification email; the owner of a taken address is emailed instead.
 */
export const REGISTER_MESSAGE =
  'Check your email: we have sent a link to finish signing up. If you already have an account, the email says how to sign in.';
export const registerResponse = z.object({ message: z.string() });
export type RegisterResponse = z.infer<typeof registerResponse>;

export const loginRequest = z.strictObject({
  email: emailSchema,
  password: passwordSchema,
});
export type LoginRequest = z.infer<typeof loginRequest>;

export const profileUpdateRequest = z.strictObject({
  name: nameSchema,
});
export type ProfileUpdateRequest = z.infer<typeof profileUpdateRequest>;

export const passwordResetRequest = z.strictObject({ email: emailSchema });
export type PasswordResetRequest = z.infer<typeof passwordResetRequest>;

export const passwordResetConfirmRequest = z.strictObject({
  token: z.string().min(1).max(512),
  password: passwordSchema,
});
export type PasswordResetConfirmRequest = z.infer<typeof passwordResetConfirmRequest>;

export const verifyEmailRequest = z.strictObject({ token: z.string().min(1).max(2048) });
export type VerifyEmailRequest = z.infer<typeof verifyEmailRequest>;

/** A wrong current password answers 400 VALIDATION_ERROR with `details.currentPassword`. */
export const passwordChangeRequest = z.strictObject({
  currentPassword: passwordSchema,
  newPassword: passwordSchema,
});
export type PasswordChangeRequest = z.infer<typeof passwordChangeRequest>;

export const userSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  emailVerified: z.boolean(),
  isStaff: z.boolean(),
  createdAt: z.iso.datetime(),
  /** Sign-in asks for a code from an authenticator app after the password. */
  twoFactorEnabled: z.boolean(),
});
export type User = z.infer<typeof userSchema>;

/** A member's role in an organization: exactly one owner; admins manage members and billing. */
export const organizationRoleSchema = z.enum(['owner', 'admin', 'member']);
export type OrganizationRole = z.infer<typeof organizationRoleSchema>;

/**
 * The session's active workspace: the organization whose subscription, Pro gate and AI quota apply.
 * Every user has one personal workspace (`personal: true`), the default.
 */
export const activeWorkspaceSchema = z.object({
  id: z.string(),
  name: z.string(),
  personal: z.boolean(),
  role: organizationRoleSchema,
});
export type ActiveWorkspace = z.infer<typeof activeWorkspaceSchema>;

export const profileSchema = z.object({
  user: userSchema,
  /** The active workspace; `isPro` and `subscription` describe it, not the user. */
  workspace: activeWorkspaceSchema,
  isPro: z.boolean(),
  /** Null until the user has had a subscription; the same shape as in GET /api/billing/status/. */
  subscription: subscriptionSchema.nullable(),
  trialEnd: z.iso.datetime().nullable(),
});
export type Profile = z.infer<typeof profileSchema>;

export const csrfResponse = z.object({ csrfToken: z.string() });
export const messageResponse = z.object({ message: z.string() });
