import type { Profile } from '@tierbase/contracts';
import { eq } from 'drizzle-orm';
import { isPro } from '../billing/access.ts';
import { subscriptionView } from '../billing/status.ts';
import type { Database } from '../db/client.ts';
import { profiles, subscriptions, users } from '../db/schema/index.ts';
import { unauthenticated } from '../errors.ts';
import type { AuthUser } from './auth-context.ts';
import { authUserColumns } from './sessions.ts';

/** What the profile is made of: the user and their profile row (absent only if never written). */
export interface ProfileSource {
  user: AuthUser;
  trialEnd: Date | null;
  subscription: typeof subscriptions.$inferSelect | null;
}

/**
 * The one place that shapes GET /api/profile/ (and the register/login answers): the user, whether
 * they are Pro (derived from the subscription, as billing defines it) and the subscription, in
 * the shape GET /api/billing/status/ uses too.
 */
export function toProfile({ user, trialEnd, subscription }: ProfileSource, graceDays: number): Profile {
  return {
    user: {
      id: user.id,
      email: user.email,
      name: user.name,
      emailVerified: user.emailVerified,
      isStaff: user.isStaff,
      createdAt: user.createdAt.toISOString(),
      twoFactorEnabled: user.twoFactorEnabled,
    },
    isPro: isPro(
      { status: subscription?.status ?? null, pastDueSince: subscription?.pastDueSince ?? null },
      graceDays,
    ),
    subscription: subscriptionView(subscription ?? undefined, graceDays),
    trialEnd: trialEnd ? trialEnd.toISOString() : null,
  };
}

/** Reads the user, their profile and subscription rows in one query on the primary key. */
export async function loadProfile(db: Database, userId: string, graceDays: number): Promise<Profile> {
  const [row] = await db
    .select({
      user: authUserColumns,
      trialEnd: profiles.trialEnd,
      subscription: subscriptions,
    })
    .from(users)
    .leftJoin(profiles, eq(profiles.userId, users.id))
    .leftJoin(subscriptions, eq(subscriptions.userId, users.id))
    .where(eq(users.id, userId))
    .limit(1);
  // The user was deleted between authentication and this read.
  if (!row) throw unauthenticated();
  return toProfile(row, graceDays);
}

export async function updateName(db: Database, userId: string, name: string): Promise<void> {
  await db.update(users).set({ name, updatedAt: new Date() }).where(eq(users.id, userId));
}
