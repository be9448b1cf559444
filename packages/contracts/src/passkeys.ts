import { z } from 'zod';

/** base64url, as WebAuthn's JSON encodings use it; bounded so no field can be huge. */
const base64url = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[A-Za-z0-9_-]+$/, 'Expected base64url.');

export const passkeyNameSchema = z.string().trim().min(1, 'Enter a name.').max(64);

/** One of the signed-in user's passkeys, as Settings lists it. */
export const passkeySchema = z.object({
  id: z.string(),
  name: z.string(),
  createdAt: z.iso.datetime(),
  lastUsedAt: z.iso.datetime().nullable(),
  /** True for a synced passkey (e.g. in a password manager or a platform account). */
  backedUp: z.boolean(),
});
export type Passkey = z.infer<typeof passkeySchema>;

export const passkeyListResponse = z.object({ passkeys: z.array(passkeySchema) });
export type PasskeyListResponse = z.infer<typeof passkeyListResponse>;

/**
 * The options to hand to `navigator.credentials.create()` / `.get()` (WebAuthn's
 * PublicKeyCredentialCreationOptionsJSON / RequestOptionsJSON), and the id of the single-use
 * challenge they carry, to send back with the result. The challenge expires after five minutes.
 */
export const passkeyOptionsResponse = z.object({
  challengeId: z.string(),
  options: z.record(z.string(), z.unknown()),
});
export type PasskeyOptionsResponse = z.infer<typeof passkeyOptionsResponse>;

const transportsSchema = z.array(z.string().max(32)).max(8).optional();

/** RegistrationResponseJSON, as `navigator.credentials.create()` gives it (through a JSON encoder). */
export const registrationCredentialSchema = z.object({
  id: base64url(1366),
  rawId: base64url(1366),
  type: z.literal('public-key'),
  response: z.object({
    clientDataJSON: base64url(4096),
    attestationObject: base64url(65536),
    authenticatorData: base64url(65536).optional(),
    transports: transportsSchema,
    publicKeyAlgorithm: z.number().int().optional(),
    publicKey: base64url(4096).optional(),
  }),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  clientExtensionResults: z.record(z.string(), z.unknown()),
});

/** AuthenticationResponseJSON, as `navigator.credentials.get()` gives it. */
export const authenticationCredentialSchema = z.object({
  id: base64url(1366),
  rawId: base64url(1366),
  type: z.literal('public-key'),
  response: z.object({
    clientDataJSON: base64url(4096),
    authenticatorData: base64url(65536),
    signature: base64url(4096),
    userHandle: base64url(128).optional(),
  }),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  clientExtensionResults: z.record(z.string(), z.unknown()),
});

export const passkeyRegisterRequest = z.strictObject({
  challengeId: z.string().min(1).max(64),
  name: passkeyNameSchema,
  credential: registrationCredentialSchema,
});
export type PasskeyRegisterRequest = z.infer<typeof passkeyRegisterRequest>;

export const passkeySignInRequest = z.strictObject({
  challengeId: z.string().min(1).max(64),
  credential: authenticationCredentialSchema,
});
export type PasskeySignInRequest = z.infer<typeof passkeySignInRequest>;

export const passkeyRenameRequest = z.strictObject({ name: passkeyNameSchema });
export type PasskeyRenameRequest = z.infer<typeof passkeyRenameRequest>;
