import { createHmac, timingSafeEqual } from 'node:crypto';
import { and, asc, count, eq, gt, isNull, lt, ne, type SQL, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Database } from '../db/client.ts';
import {
  organizationMembers,
  organizations,
  passkeyChallenges,
  profiles,
  sessions,
  subscriptions,
  users,
  verifications,
} from '../db/schema/index.ts';
import { deleteExpiredInvitations } from '../organizations/members.ts';
import { ensurePersonalWorkspace, toWorkspace } from '../organizations/workspaces.ts';
import { SESSION_REFRESH_AFTER_SECONDS, SESSION_TTL_SECONDS } from './auth.ts';
import type { AuthContext } from './auth-context.ts';

/**
 * The session token inside Better Auth's signed cookie, or null when the signature is wrong.
 *
 * Better Auth (through better-call) signs the cookie as `token + "." + base64(HMAC-SHA256(token,
 * secret))`. We check it here rather than through `auth.api.getSession`, because getSession costs
 * two queries per request (session, then user), builds a Web Request and may rewrite cookies;
 * the authentication hook runs on every request and must cost one indexed query at most.
 */
export function tokenFromSignedCookie(value: string, secret: string): string | null {
  const dot = value.lastIndexOf('.');
  if (dot < 1) return null;
  const token = value.slice(0, dot);
  const signature = Buffer.from(value.slice(dot + 1), 'base64');
  const expected = createHmac('sha256', secret).update(token).digest();
  if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) return null;
  return token;
}

/**
 * The session cookie's value for a token, signed as Better Auth signs it (see above), for a session
 * we start ourselves (passkey sign-in).
 */
export function signedCookieValue(token: string, secret: string): string {
  return `${token}.${createHmac('sha256', secret).update(token).digest('base64')}`;
}

/** The columns of `AuthUser`: what every request knows of its caller. */
export const authUserColumns = {
  id: users.id,
  email: users.email,
  name: users.name,
  emailVerified: users.emailVerified,
  isStaff: users.isStaff,
  createdAt: users.createdAt,
  twoFactorEnabled: users.twoFactorEnabled,
};

export interface ResolvedSession extends Omit<AuthContext, 'isPro'> {
  expiresAt: Date;
}

const activeMember = alias(organizationMembers, 'active_member');
const activeOrganization = alias(organizations, 'active_organization');
const personalOrganization = alias(organizations, 'personal_organization');

/**
 * Resolves a session token to its user, active workspace (with the caller's role) and that
 * workspace's subscription with one query on the unique token index, ignoring expired sessions.
 * The active workspace is the session's organization while the user is a member of it, else their
 * personal one: a removed member's sessions fall back by themselves. Prepared once per database
 * handle, so PostgreSQL plans it once per connection.
 */
export function createSessionResolver(db: Database) {
  const statement = db
    .select({
      sessionId: sessions.id,
      expiresAt: sessions.expiresAt,
      user: authUserColumns,
      active: {
        id: activeOrganization.id,
        name: activeOrganization.name,
        personalUserId: activeOrganization.personalUserId,
        role: activeMember.role,
      },
      personal: { id: personalOrganization.id, name: personalOrganization.name },
      // What the Pro gate and the profile are derived from, in the same query (the seed's
      // ProMiddleware), so GET /api/profile/ and every Pro route cost no second query.
      subscription: subscriptions,
      trialEnd: profiles.trialEnd,
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .leftJoin(
      activeMember,
      and(
        eq(activeMember.userId, sessions.userId),
        eq(activeMember.organizationId, sessions.activeOrganizationId),
      ),
    )
    .leftJoin(activeOrganization, eq(activeOrganization.id, activeMember.organizationId))
    .leftJoin(personalOrganization, eq(personalOrganization.personalUserId, sessions.userId))
    .leftJoin(
      subscriptions,
      eq(
        subscriptions.organizationId,
        sql`coalesce(${activeMember.organizationId}, ${personalOrganization.id})`,
      ),
    )
    .leftJoin(profiles, eq(profiles.userId, sessions.userId))
    .where(
      and(
        eq(sessions.token, sql.placeholder('token')),
        gt(sessions.expiresAt, sql`now()`),
        // Deactivation deletes the sessions; this also stops one created in a race with it.
        isNull(users.deactivatedAt),
      ),
    )
    .limit(1)
    .prepare('tierbase_session_by_token');

  const resolve = async (token: string, healed = false): Promise<ResolvedSession | null> => {
    const [row] = await statement.execute({ token });
    if (!row) return null;
    const { active, personal, ...rest } = row;
    if (active?.id && active.name !== null && active.role) {
      const { id, name, personalUserId, role } = active;
      return { ...rest, workspace: toWorkspace({ id, name, personalUserId, role }) };
    }
    if (personal?.id && personal.name !== null) {
      return { ...rest, workspace: { id: personal.id, name: personal.name, personal: true, role: 'owner' } };
    }
    // Every user gets a personal workspace when the account is made (the user hook in auth.ts,
    // which runs after the user's transaction commits); a crash in between leaves none. Make it now.
    if (healed) throw new Error('personal workspace missing after creating it');
    await ensurePersonalWorkspace(db, row.user);
    return resolve(token, true);
  };
  return (token: string) => resolve(token);
}

/** True once a day per session: its expiry then slides forward (as Better Auth's updateAge does). */
export function sessionNeedsRefresh(expiresAt: Date, now = Date.now()): boolean {
  return expiresAt.getTime() - SESSION_TTL_SECONDS * 1000 + SESSION_REFRESH_AFTER_SECONDS * 1000 <= now;
}

export async function extendSession(db: Database, sessionId: string): Promise<void> {
  const now = new Date();
  await db
    .update(sessions)
    .set({ expiresAt: new Date(now.getTime() + SESSION_TTL_SECONDS * 1000), updatedAt: now })
    .where(eq(sessions.id, sessionId));
}

export async function deleteSession(db: Database, sessionId: string): Promise<void> {
  await db.delete(sessions).where(eq(sessions.id, sessionId));
}

/** Ends every session of the user but the one given, in one statement. */
export async function deleteOtherSessions(
  db: Database,
  userId: string,
  keepSessionId: string,
): Promise<number> {
  const deleted = await db
    .delete(sessions)
    .where(and(eq(sessions.userId, userId), ne(sessions.id, keepSessionId)))
    .returning({ id: sessions.id });
  return deleted.length;
}

/**
 * Better Auth ends the caller's session and starts a new one when two-factor is turned on or off
 * and when the password changes; the new session would open in the personal workspace. This gives
 * it the workspace the old one had active. `setCookies` are the Set-Cookie headers Better Auth
 * answered with; the new session is the one their signed session cookie names.
 */
export async function carryActiveWorkspace(
  db: Database,
  setCookies: string[],
  cookie: { name: string; secret: string },
  organizationId: string,
): Promise<void> {
  for (const header of setCookies) {
    const pair = header.split(';', 1)[0] ?? '';
    const equals = pair.indexOf('=');
    if (pair.slice(0, equals).trim() !== cookie.name) continue;
    const token = tokenFromSignedCookie(decodeURIComponent(pair.slice(equals + 1)), cookie.secret);
    if (token) await activate(db, eq(sessions.token, token), organizationId);
  }
}

/** Makes the organization the session's active workspace (membership is the caller's check). */
export async function setActiveOrganization(
  db: Database,
  sessionId: string,
  organizationId: string,
): Promise<void> {
  await activate(db, eq(sessions.id, sessionId), organizationId);
}

async function activate(db: Database, session: SQL, organizationId: string): Promise<void> {
  await db
    .update(sessions)
    .set({ activeOrganizationId: organizationId, updatedAt: new Date() })
    .where(session);
}

/** The user's sessions that had the organization active fall back to the personal workspace. */
export async function leaveOrganizationInSessions(
  db: Database,
  userId: string,
  organizationId: string,
): Promise<void> {
  await db
    .update(sessions)
    .set({ activeOrganizationId: null })
    .where(and(eq(sessions.userId, userId), eq(sessions.activeOrganizationId, organizationId)));
}

/** Sessions of the user that have not expired. */
export async function countActiveSessions(db: Database, userId: string): Promise<number> {
  const [row] = await db
    .select({ count: count() })
    .from(sessions)
    .where(and(eq(sessions.userId, userId), gt(sessions.expiresAt, sql`now()`)));
  return row?.count ?? 0;
}

/** Ends every session of the user; returns how many there were. */
export async function deleteUserSessions(db: Database, userId: string): Promise<number> {
  const deleted = await db.delete(sessions).where(eq(sessions.userId, userId)).returning({ id: sessions.id });
  return deleted.length;
}

/** The user's sessions, oldest first, for their data export. */
export async function exportSessionsFor(db: Database, userId: string) {
  return db
    .select({
      createdAt: sessions.createdAt,
      expiresAt: sessions.expiresAt,
      ipAddress: sessions.ipAddress,
      userAgent: sessions.userAgent,
    })
    .from(sessions)
    .where(eq(sessions.userId, userId))
    .orderBy(asc(sessions.createdAt));
}

/**
 * Deletes expired sessions, verification rows (reset tokens), passkey challenges and organization
 * invitations. Lookups already ignore them; this keeps the tables from growing without bound. Run
 * on a schedule.
 */
export async function deleteExpired(
  db: Database,
  now = new Date(),
): Promise<{
  sessions: number;
  verifications: number;
  passkeyChallenges: number;
  organizationInvitations: number;
}> {
  const expiredSessions = await db
    .delete(sessions)
    .where(lt(sessions.expiresAt, now))
    .returning({ id: sessions.id });
  const expiredVerifications = await db
    .delete(verifications)
    .where(lt(verifications.expiresAt, now))
    .returning({ id: verifications.id });
  const expiredChallenges = await db
    .delete(passkeyChallenges)
    .where(lt(passkeyChallenges.expiresAt, now))
    .returning({ id: passkeyChallenges.id });
  const expiredInvitations = await deleteExpiredInvitations(db, now);
  return {
    sessions: expiredSessions.length,
    verifications: expiredVerifications.length,
    passkeyChallenges: expiredChallenges.length,
    organizationInvitations: expiredInvitations,
  };
}
