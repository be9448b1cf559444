import { index, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { users } from './auth.ts';

/**
 * Every action a staff member took in the admin console: who, what, on what, when. Written in the
 * transaction of the change it records (or, for an action whose effect lives in Stripe or a job
 * queue, right after it with its outcome). Rows are only ever inserted.
 */
export const adminAuditLog = pgTable(
  'admin_audit_log',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** Null once the staff member's account is deleted: the entry itself stays. */
    staffUserId: text('staff_user_id').references(() => users.id, { onDelete: 'set null' }),
    /** e.g. "user.deactivate", "user.make_staff", "subscription.sync", "webhook_event.replay". */
    action: text('action').notNull(),
    targetType: text('target_type').notNull(),
    targetId: text('target_id').notNull(),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    // The log is read newest first, a page at a time (keyset on created_at, id).
    index('admin_audit_log_created_idx').on(table.createdAt.desc(), table.id.desc()),
    index('admin_audit_log_target_idx').on(table.targetType, table.targetId),
  ],
);
