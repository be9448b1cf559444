import { sql } from 'drizzle-orm';
import { index, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { users } from './auth.ts';

export const organizationRoles = ['owner', 'admin', 'member'] as const;
export const invitationRoles = ['admin', 'member'] as const;

/**
 * Workspaces: the unit that owns a subscription and an AI quota (decision 24). Every user has
 * exactly one personal organization (`personal_user_id` = the user: made with the user, deleted
 * with them, never shared); a team organization has `personal_user_id` null and any number of
 * members.
 */
export const organizations = pgTable('organizations', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  /** Set on a personal workspace only: whose it is. Unique, so a user has one at most. */
  personalUserId: text('personal_user_id')
    .unique()
    .references(() => users.id, { onDelete: 'cascade' }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Who belongs to which organization, and as what. Exactly one owner per organization. */
export const organizationMembers = pgTable(
  'organization_members',
  {
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: text('role', { enum: organizationRoles }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.organizationId, table.userId] }),
    // A user's workspaces (the switcher, the session's active workspace) are read by user.
    index('organization_members_user_id_idx').on(table.userId),
    // A transfer demotes the old owner and promotes the new one in one transaction; never two.
    uniqueIndex('organization_members_one_owner_idx')
      .on(table.organizationId)
      .where(sql`${table.role} = 'owner'`),
  ],
);

/**
 * Pending invitations to a team organization. The link's token is stored only as its SHA-256
 * hash; accepting or revoking deletes the row (single use), and re-inviting an address replaces
 * its pending invitation. Expired rows are ignored, then deleted by the hourly cleanup.
 */
export const organizationInvitations = pgTable(
  'organization_invitations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    /** Lowercased: the account that accepts must have this address, verified. */
    email: text('email').notNull(),
    role: text('role', { enum: invitationRoles }).notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    /** Null once the inviter's account is deleted: the invitation itself stays valid. */
    invitedByUserId: text('invited_by_user_id').references(() => users.id, { onDelete: 'set null' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (table) => [
    uniqueIndex('organization_invitations_org_email_key').on(table.organizationId, table.email),
    index('organization_invitations_expires_at_idx').on(table.expiresAt),
  ],
);
