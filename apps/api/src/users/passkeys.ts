import { randomUUID } from 'node:crypto';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { isoBase64URL } from '@simplewebauthn/server/helpers';
import {
  ErrorCode,
  type Passkey,
  type PasskeyRegisterRequest,
  type PasskeySignInRequest,
} from '@tierbase/contracts';
import { isAPIError } from 'better-auth/api';
import { and, asc, eq } from 'drizzle-orm';
import type { Config } from '../config.ts';
import type { Database } from '../db/client.ts';
import { passkeyChallenges, passkeys } from '../db/schema/index.ts';
import { AppError, notFound, validationError } from '../errors.ts';
import { accountDeactivated } from './accounts.ts';
import { ACCOUNT_DEACTIVATED, type Auth } from './auth.ts';
import type { AuthUser } from './auth-context.ts';

/**
 * Passkeys (WebAuthn, decision 23): a signed-in user registers them, and anyone signs in with one
 * without typing an email (discoverable credentials). The ceremonies are checked by
 * @simplewebauthn/server against the relying party derived from APP_URL; each challenge is stored
 * here, used once and expires.
 */

/** How long the browser (and the user) has to answer a challenge. */
export const PASSKEY_CHALLENGE_TTL_MS = 5 * 60_000;

const RP_NAME = 'Tierbase';

type PasskeyRow = typeof passkeys.$inferSelect;

const challengeExpired = () =>
  new AppError({
    status: 400,
    code: ErrorCode.INVALID_TOKEN,
    message: 'This passkey request has expired or was already used. Please try again.',
  });
const passkeyRejected = () =>
  new AppError({
    status: 401,
    code: ErrorCode.INVALID_CREDENTIALS,
    message: 'This passkey could not be verified.',
  });

function view(row: PasskeyRow): Passkey {
  return {
    id: row.id,
    name: row.name,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    backedUp: row.backedUp,
  };
}

/** Who asks for the session: recorded on it, as a password sign-in records them. */
export interface SignInClient {
  ipAddress: string;
  userAgent: string;
}

export interface PasskeyDependencies {
  auth: Auth;
  db: Database;
  config: Config;
}

export function createPasskeys({ auth, db, config }: PasskeyDependencies) {
  const appUrl = new URL(config.appUrl);
  const rpID = appUrl.hostname;
  const expectedOrigin = appUrl.origin;

  async function storeChallenge(
    purpose: 'registration' | 'authentication',
    userId: string | null,
    challenge: string,
  ): Promise<string> {
    const id = randomUUID();
    await db.insert(passkeyChallenges).values({
      id,
      purpose,
      userId,
      challenge,
      expiresAt: new Date(Date.now() + PASSKEY_CHALLENGE_TTL_MS),
    });
    return id;
  }

  /** Deletes the challenge as it reads it, so two answers to one challenge cannot both pass. */
  async function consumeChallenge(
    id: string,
    purpose: 'registration' | 'authentication',
    userId: string | null,
  ): Promise<string> {
    const [row] = await db
      .delete(passkeyChallenges)
      .where(and(eq(passkeyChallenges.id, id), eq(passkeyChallenges.purpose, purpose)))
      .returning();
    if (!row || row.expiresAt.getTime() <= Date.now() || row.userId !== userId) throw challengeExpired();
    return row.challenge;
  }

  return {
    async list(userId: string): Promise<Passkey[]> {
      const rows = await db
        .select()
        .from(passkeys)
        .where(eq(passkeys.userId, userId))
        .orderBy(asc(passkeys.createdAt), asc(passkeys.id));
      return rows.map(view);
    },

    async registrationOptions(user: AuthUser) {
      const existing = await db
        .select({ credentialId: passkeys.credentialId, transports: passkeys.transports })
        .from(passkeys)
        .where(eq(passkeys.userId, user.id));
      const options = await generateRegistrationOptions({
        rpName: RP_NAME,
        rpID,
        userName: user.email,
        userDisplayName: user.name || user.email,
        // The user handle the authenticator stores and returns on sign-in: the opaque user id.
        userID: new TextEncoder().encode(user.id),
        timeout: PASSKEY_CHALLENGE_TTL_MS,
        attestationType: 'none',
        // An authenticator that already holds one of the user's passkeys is not offered again.
        excludeCredentials: existing.map((row) => ({ id: row.credentialId, transports: row.transports })),
        // Discoverable (sign-in without an email) and verified (PIN or biometrics): a passkey is
        // then the whole sign-in, two factors in one.
        authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
      });
      const challengeId = await storeChallenge('registration', user.id, options.challenge);
      // A plain copy: the contract types options as an open record (the browser API reads them).
      return { challengeId, options: { ...options } };
    },

    async register(user: AuthUser, input: PasskeyRegisterRequest): Promise<Passkey> {
      const expectedChallenge = await consumeChallenge(input.challengeId, 'registration', user.id);
      let info: Awaited<ReturnType<typeof verifyRegistrationResponse>>['registrationInfo'];
      try {
        const result = await verifyRegistrationResponse({
          response: input.credential,
          expectedChallenge,
          expectedOrigin,
          expectedRPID: rpID,
          requireUserVerification: true,
        });
        info = result.verified ? result.registrationInfo : undefined;
      } catch {
        // The library throws on each failed check (origin, challenge, format…): one answer.
        info = undefined;
      }
      if (!info) throw validationError({ credential: ['This passkey could not be verified.'] });
      const [row] = await db
        .insert(passkeys)
        .values({
          id: randomUUID(),
          userId: user.id,
          name: input.name,
          credentialId: info.credential.id,
          publicKey: isoBase64URL.fromBuffer(info.credential.publicKey),
          counter: info.credential.counter,
          transports: info.credential.transports ?? [],
          deviceType: info.credentialDeviceType,
          backedUp: info.credentialBackedUp,
        })
        .onConflictDoNothing({ target: passkeys.credentialId })
        .returning();
      if (!row)
        throw new AppError({
          status: 409,
          code: ErrorCode.CONFLICT,
          message: 'This passkey is already registered.',
        });
      return view(row);
    },

    async rename(userId: string, id: string, name: string): Promise<Passkey> {
      const [row] = await db
        .update(passkeys)
        .set({ name })
        .where(and(eq(passkeys.id, id), eq(passkeys.userId, userId)))
        .returning();
      if (!row) throw notFound('No such passkey.');
      return view(row);
    },

    async remove(userId: string, id: string): Promise<void> {
      const deleted = await db
        .delete(passkeys)
        .where(and(eq(passkeys.id, id), eq(passkeys.userId, userId)))
        .returning({ id: passkeys.id });
      if (deleted.length === 0) throw notFound('No such passkey.');
    },

    async authenticationOptions() {
      // No allowCredentials: the browser offers whichever passkey for this site the user has.
      const options = await generateAuthenticationOptions({
        rpID,
        timeout: PASSKEY_CHALLENGE_TTL_MS,
        userVerification: 'required',
      });
      const challengeId = await storeChallenge('authentication', null, options.challenge);
      // A plain copy: the contract types options as an open record (the browser API reads them).
      return { challengeId, options: { ...options } };
    },

    /**
     * Checks an assertion and starts a session for the passkey's owner. Returns the new session's
     * token, for the route to set as the signed session cookie.
     */
    async signIn(
      input: PasskeySignInRequest,
      client: SignInClient,
    ): Promise<{ userId: string; sessionToken: string }> {
      const expectedChallenge = await consumeChallenge(input.challengeId, 'authentication', null);
      const [passkey] = await db
        .select()
        .from(passkeys)
        .where(eq(passkeys.credentialId, input.credential.id))
        .limit(1);
      if (!passkey) throw passkeyRejected();
      const userHandle = input.credential.response.userHandle;
      if (userHandle && isoBase64URL.toUTF8String(userHandle) !== passkey.userId) throw passkeyRejected();
      let newCounter: number;
      try {
        const result = await verifyAuthenticationResponse({
          response: input.credential,
          expectedChallenge,
          expectedOrigin,
          expectedRPID: rpID,
          credential: {
            id: passkey.credentialId,
            publicKey: isoBase64URL.toBuffer(passkey.publicKey),
            counter: passkey.counter,
            transports: passkey.transports as never,
          },
          requireUserVerification: true,
        });
        if (!result.verified) throw passkeyRejected();
        newCounter = result.authenticationInfo.newCounter;
      } catch {
        throw passkeyRejected();
      }
      await db
        .update(passkeys)
        .set({ counter: newCounter, lastUsedAt: new Date() })
        .where(eq(passkeys.id, passkey.id));
      const context = await auth.$context;
      try {
        // Through Better Auth, so its session hooks run (a deactivated account gets none).
        const session = await context.internalAdapter.createSession(passkey.userId, false, {
          ipAddress: client.ipAddress,
          userAgent: client.userAgent,
        });
        return { userId: passkey.userId, sessionToken: session.token };
      } catch (error) {
        const code = isAPIError(error) ? (error.body as { code?: unknown } | undefined)?.code : undefined;
        if (code === ACCOUNT_DEACTIVATED) throw accountDeactivated();
        throw error;
      }
    },
  };
}

export type Passkeys = ReturnType<typeof createPasskeys>;

/** The user's passkeys (never their keys), oldest first, for their data export. */
export async function exportPasskeysFor(db: Database, userId: string) {
  return db
    .select({
      name: passkeys.name,
      createdAt: passkeys.createdAt,
      lastUsedAt: passkeys.lastUsedAt,
      backedUp: passkeys.backedUp,
    })
    .from(passkeys)
    .where(eq(passkeys.userId, userId))
    .orderBy(asc(passkeys.createdAt));
}

export async function erasePasskeysFor(db: Database, userId: string): Promise<void> {
  await db.delete(passkeys).where(eq(passkeys.userId, userId));
}
