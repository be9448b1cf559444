import type { PageCursor } from '@tierbase/contracts';
import { and, asc, desc, eq, ilike, inArray, or, type SQL, sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { before } from '../db/pagination.ts';
import { accounts, users, verifications } from '../db/schema/index.ts';

/*
 * What other modules (admin, organizations, billing, privacy) read and change of users and their
 * sign-in rows. Each function takes the database handle it is given, so a caller's transaction
 * stays one.
 */

export type UserRow = typeof users.$inferSelect;

export async function findUser(db: Database, userId: string): Promise<UserRow | undefined> {
  const [user] = await db.select().from(users).where(eq(users.id, userId));
  return user;
}

/** The user with this email (any case). */
export async function findUserIdByEmail(db: Database, email: string): Promise<string | undefined> {
  const [user] = await db
    .select({ id: users.id })
    .from(users)
    .where(sql`lower(${users.email}) = lower(${email})`);
  return user?.id;
}

/** Name and address of each of these users that exists: user id → contact. */
export async function contactsOf(
  db: Database,
  userIds: string[],
): Promise<Map<string, { name: string; email: string }>> {
  const ids = [...new Set(userIds)];
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({ id: users.id, name: users.name, email: users.email })
    .from(users)
    .where(inArray(users.id, ids));
  return new Map(rows.map(({ id, name, email }) => [id, { name, email }]));
}

/**
 * The user's name and address, their row share-locked until the caller's transaction ends: an
 * account deletion (which locks the row for update) waits for that transaction, or has already
 * committed and the user is gone.
 */
export async function lockContact(
  db: Database,
  userId: string,
): Promise<{ name: string; email: string } | undefined> {
  const [user] = await db
    .select({ name: users.name, email: users.email })
    .from(users)
    .where(eq(users.id, userId))
    .for('share');
  return user;
}

/** Escapes LIKE's wildcards so a search for "a_b" matches only "a_b". */
const likePrefix = (text: string) => `${text.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;

/**
 * Users newest first, searchable by email or name prefix, one more than `limit` (which tells that
 * a next page exists).
 */
export async function listUsersPage(
  db: Database,
  query: { search?: string | undefined; limit: number; cursor?: PageCursor | undefined },
): Promise<UserRow[]> {
  const conditions: (SQL | undefined)[] = [before(users.createdAt, users.id, query.cursor)];
  if (query.search) {
    const pattern = likePrefix(query.search);
    conditions.push(or(ilike(users.email, pattern), ilike(users.name, pattern)));
  }
  return db
    .select()
    .from(users)
    .where(and(...conditions))
    .orderBy(desc(users.createdAt), desc(users.id))
    .limit(query.limit + 1);
}

/**
 * Marks the user deactivated, keeping the first date when they already were; undefined when there
 * is no such user. Locks the user's row until the caller's transaction ends.
 */
export async function markDeactivated(
  db: Database,
  userId: string,
): Promise<{ wasDeactivated: boolean } | undefined> {
  const [user] = await db
    .select({ deactivatedAt: users.deactivatedAt })
    .from(users)
    .where(eq(users.id, userId))
    .for('update');
  if (!user) return undefined;
  if (!user.deactivatedAt) {
    const now = new Date();
    await db.update(users).set({ deactivatedAt: now, updatedAt: now }).where(eq(users.id, userId));
  }
  return { wasDeactivated: user.deactivatedAt !== null };
}

/** False when there is no such user. */
export async function clearDeactivated(db: Database, userId: string): Promise<boolean> {
  const [user] = await db
    .update(users)
    .set({ deactivatedAt: null, updatedAt: new Date() })
    .where(eq(users.id, userId))
    .returning({ id: users.id });
  return user !== undefined;
}

/** False when there is no such user. */
export async function setIsStaff(db: Database, userId: string, isStaff: boolean): Promise<boolean> {
  const [user] = await db
    .update(users)
    .set({ isStaff, updatedAt: new Date() })
    .where(eq(users.id, userId))
    .returning({ id: users.id });
  return user !== undefined;
}

/** The user's row locked until the caller's transaction ends (an erasure); undefined when gone. */
export async function lockUser(
  db: Database,
  userId: string,
): Promise<{ id: string; email: string } | undefined> {
  const [user] = await db
    .select({ id: users.id, email: users.email })
    .from(users)
    .where(eq(users.id, userId))
    .for('update');
  return user;
}

/** The password hash of the user's credential account, if they have one. */
export async function passwordHashOf(db: Database, userId: string): Promise<string | null> {
  const [credential] = await db
    .select({ hash: accounts.password })
    .from(accounts)
    .where(and(eq(accounts.userId, userId), eq(accounts.providerId, 'credential')));
  return credential?.hash ?? null;
}

/** How the user signs in (password, OAuth providers), oldest first, for their data export. */
export async function exportSignInMethodsFor(db: Database, userId: string) {
  return db
    .select({ provider: accounts.providerId, createdAt: accounts.createdAt })
    .from(accounts)
    .where(eq(accounts.userId, userId))
    .orderBy(asc(accounts.createdAt));
}

/** Deletes the user's reset tokens (they name the user in `value`) and anything keyed by the address. */
export async function eraseVerificationsFor(
  db: Database,
  user: { id: string; email: string },
): Promise<void> {
  await db
    .delete(verifications)
    .where(
      or(eq(verifications.value, user.id), sql`lower(${verifications.identifier}) = lower(${user.email})`),
    );
}

/** Deletes the user's sign-in accounts, the password hash with them. */
export async function eraseSignInMethodsFor(db: Database, userId: string): Promise<void> {
  await db.delete(accounts).where(eq(accounts.userId, userId));
}

/** Deletes the user row (what references it with a cascade goes with it). */
export async function deleteUser(db: Database, userId: string): Promise<void> {
  await db.delete(users).where(eq(users.id, userId));
}
