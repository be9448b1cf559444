import { boolean, index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { users } from './auth.ts';
import { organizations } from './organizations.ts';

export const aiRequestStatuses = ['pending', 'completed', 'cancelled', 'failed'] as const;

/**
 * One generation asked of the AI provider: what was asked, what came back, what it cost and how it
 * ended. It is also the quota's ledger: a `pending` row reserves `reserved_tokens` while the call
 * runs; `completed` and `cancelled` rows count their tokens; `failed` rows count nothing.
 */
export const aiRequests = pgTable(
  'ai_requests',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** The workspace whose quota the call counts against (the caller's active one). */
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    status: text('status', { enum: aiRequestStatuses }).notNull(),
    model: text('model').notNull(),
    prompt: text('prompt').notNull(),
    system: text('system'),
    /** What was generated; partial when the call was cancelled or failed midway. */
    output: text('output').notNull().default(''),
    stream: boolean('stream').notNull(),
    maxTokens: integer('max_tokens').notNull(),
    /** Upper bound of the call's tokens (prompt bound + maxTokens), counted while pending. */
    reservedTokens: integer('reserved_tokens').notNull(),
    promptTokens: integer('prompt_tokens').notNull().default(0),
    completionTokens: integer('completion_tokens').notNull().default(0),
    totalTokens: integer('total_tokens').notNull().default(0),
    finishReason: text('finish_reason'),
    errorCode: text('error_code'),
    latencyMs: integer('latency_ms'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (table) => [
    // History (newest first, keyset) walks this index.
    index('ai_requests_user_created_idx').on(table.userId, table.createdAt.desc(), table.id.desc()),
    // The quota's per-period sums are per organization.
    index('ai_requests_organization_created_idx').on(table.organizationId, table.createdAt),
  ],
);
