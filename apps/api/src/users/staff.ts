import { emailSchema } from '@tierbase/contracts';
import { eq, sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { users } from '../db/schema/index.ts';
import { validationError } from '../errors.ts';
import type { Auth } from './auth.ts';
import { assertPasswordPolicy } from './password-policy.ts';

export type StaffOutcome = 'created' | 'promoted' | 'already-staff';

/**
 * Makes `email` a staff account: promotes the existing user, or creates one with the password
 * (policy applies) and the email marked verified, since the operator running the command vouches
 * for it. An existing user's password is left as it is. `readPassword` is only called to create.
 */
export async function createOrPromoteStaff(
  auth: Auth,
  db: Database,
  email: string,
  readPassword: () => Promise<string>,
): Promise<StaffOutcome> {
  const parsed = emailSchema.safeParse(email);
  if (!parsed.success) throw validationError({ email: ['Enter a valid email address.'] });
  const normalized = parsed.data;
  const [existing] = await db
    .select({ id: users.id, isStaff: users.isStaff })
    .from(users)
    .where(eq(sql`lower(${users.email})`, normalized))
    .limit(1);
  if (existing) {
    if (existing.isStaff) return 'already-staff';
    await db.update(users).set({ isStaff: true, updatedAt: new Date() }).where(eq(users.id, existing.id));
    return 'promoted';
  }

  const password = await readPassword();
  assertPasswordPolicy(password, { email: normalized });
  const context = await auth.$context;
  const hash = await context.password.hash(password);
  const user = await context.internalAdapter.createUser(
    {
      email: normalized,
      name: '',
      emailVerified: true,
      isStaff: true,
    },
    { method: 'email-password' },
  );
  try {
    await context.internalAdapter.linkAccount({
      userId: user.id,
      providerId: 'credential',
      accountId: user.id,
      password: hash,
    });
  } catch (error) {
    // No half-made admin without a password: remove the user (cascades to the profile).
    await db.delete(users).where(eq(users.id, user.id));
    throw error;
  }
  return 'created';
}
