import { randomUUID } from 'node:crypto';
import {
  type AiHistoryItem,
  type AiUsage,
  ErrorCode,
  encodeCursor,
  type PageCursor,
} from '@tierbase/contracts';
import { and, asc, desc, eq, gt, gte, lt, ne, or, sql } from 'drizzle-orm';
import type { PlanLimits } from '../billing/plans.ts';
import type { Database } from '../db/client.ts';
import { aiRequests } from '../db/schema/ai.ts';
import { AppError, validationError } from '../errors.ts';
import type { Period } from './period.ts';
import type { TokenUsage } from './provider.ts';

/*
 * `ai_requests` as the quota's ledger. A call is reserved before it reaches the provider (a
 * `pending` row holding an upper bound of its tokens), then settled with what it really used.
 */

/**
 * A pending row older than this belongs to a process that died mid-call (the longest call is
 * bounded far below it: see MAX_STREAM_MS and the provider timeout); it stops reserving quota.
 */
export const ABANDONED_AFTER_MS = 60 * 60 * 1000;

/** Chat framing (role markers, priming) on top of the messages' own tokens. */
const MESSAGE_OVERHEAD_TOKENS = 16;

/**
 * An upper bound of the prompt's tokens: a token is at least one UTF-8 byte in every tokenizer
 * the OpenAI-compatible servers use, so bytes (plus the framing) can only over-estimate. The
 * reservation must never be below the real cost, or parallel calls could overshoot the quota.
 */
export function promptTokenBound(prompt: string, system: string | undefined): number {
  return Buffer.byteLength(prompt) + Buffer.byteLength(system ?? '') + MESSAGE_OVERHEAD_TOKENS;
}

/** A plausible prompt size (about four characters a token), for a cancelled call with no usage. */
export function promptTokenEstimate(prompt: string, system: string | undefined): number {
  return Math.ceil((prompt.length + (system?.length ?? 0)) / 4) + MESSAGE_OVERHEAD_TOKENS;
}

/** The plan's bounds on one call; answers 400 with the field at fault. */
export function checkBounds(
  limits: PlanLimits,
  input: { prompt: string; system?: string | undefined; maxTokens?: number | undefined },
): number {
  const chars = input.prompt.length + (input.system?.length ?? 0);
  if (chars > limits.aiMaxPromptChars) {
    throw validationError({
      prompt: [
        `Your plan accepts up to ${limits.aiMaxPromptChars} characters of prompt (system message included); this one has ${chars}.`,
      ],
    });
  }
  const maxTokens = input.maxTokens ?? limits.aiMaxOutputTokens;
  if (maxTokens > limits.aiMaxOutputTokens) {
    throw validationError({
      maxTokens: [`Your plan allows at most ${limits.aiMaxOutputTokens} output tokens per request.`],
    });
  }
  return maxTokens;
}

interface Used {
  requests: number;
  tokens: number;
}

/**
 * Requests and tokens the organization's members used in the period: settled calls at their cost,
 * running ones at their bound.
 */
async function usedInPeriod(
  db: Pick<Database, 'select'>,
  organizationId: string,
  period: Period,
  now: Date,
): Promise<Used> {
  const abandonedBefore = new Date(now.getTime() - ABANDONED_AFTER_MS);
  const [row] = await db
    .select({
      requests: sql<number>`count(*)`.mapWith(Number),
      tokens: sql<number>`coalesce(sum(case when ${aiRequests.status} = 'pending'
        then ${aiRequests.reservedTokens} else ${aiRequests.totalTokens} end), 0)`.mapWith(Number),
    })
    .from(aiRequests)
    .where(
      and(
        eq(aiRequests.organizationId, organizationId),
        gte(aiRequests.createdAt, period.start),
        lt(aiRequests.createdAt, period.end),
        ne(aiRequests.status, 'failed'),
        or(ne(aiRequests.status, 'pending'), gt(aiRequests.createdAt, abandonedBefore)),
      ),
    );
  return { requests: row?.requests ?? 0, tokens: row?.tokens ?? 0 };
}

/** The organization's usage against its plan's quota (shared by all its members). */
export async function usageReport(
  db: Database,
  organizationId: string,
  limits: PlanLimits,
  period: Period,
  now: Date = new Date(),
): Promise<AiUsage> {
  const used = await usedInPeriod(db, organizationId, period, now);
  return {
    period: { start: period.start.toISOString(), end: period.end.toISOString() },
    requests: { used: used.requests, limit: limits.aiRequestsPerPeriod },
    tokens: { used: used.tokens, limit: limits.aiTokensPerPeriod },
  };
}

export interface ReservationInput {
  /** Who makes the call (their history shows it). */
  userId: string;
  /** Whose quota it counts against: the caller's active workspace. */
  organizationId: string;
  limits: PlanLimits;
  period: Period;
  model: string;
  prompt: string;
  system: string | undefined;
  maxTokens: number;
  stream: boolean;
}

export interface Reservation {
  id: string;
  createdAt: Date;
  reservedTokens: number;
}

function quotaExceeded(what: 'requests' | 'tokens', limits: PlanLimits, period: Period): AppError {
  const resetsAt = period.end.toISOString();
  const detail =
    what === 'requests'
      ? `all ${limits.aiRequestsPerPeriod} AI requests of this billing period are used`
      : `this request could take more of the ${limits.aiTokensPerPeriod} AI tokens of this billing period than are left (lower maxTokens or shorten the prompt)`;
  return new AppError({
    status: 429,
    code: ErrorCode.AI_QUOTA_EXCEEDED,
    message: `Your AI quota is used up: ${detail}. It resets at ${resetsAt}.`,
    links: { resetsAt, billing: '/billing' },
  });
}

/**
 * Reserves one call against the organization's quota, atomically: the per-organization lock makes
 * concurrent reservations (by any member, on any instance) take turns between reading the usage
 * and writing the row.
 * On PostgreSQL that is a transaction-scoped advisory lock; on PGlite (one connection)
 * transactions already run one at a time, and the lock is simply granted.
 */
export async function reserve(
  db: Database,
  input: ReservationInput,
  now: Date = new Date(),
): Promise<Reservation> {
  const reservedTokens = promptTokenBound(input.prompt, input.system) + input.maxTokens;
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`ai-quota:${input.organizationId}`}))`);
    const used = await usedInPeriod(tx, input.organizationId, input.period, now);
    if (used.requests + 1 > input.limits.aiRequestsPerPeriod) {
      throw quotaExceeded('requests', input.limits, input.period);
    }
    if (used.tokens + reservedTokens > input.limits.aiTokensPerPeriod) {
      throw quotaExceeded('tokens', input.limits, input.period);
    }
    const id = randomUUID();
    await tx.insert(aiRequests).values({
      id,
      userId: input.userId,
      organizationId: input.organizationId,
      status: 'pending',
      model: input.model,
      prompt: input.prompt,
      system: input.system ?? null,
      stream: input.stream,
      maxTokens: input.maxTokens,
      reservedTokens,
      createdAt: now,
    });
    return { id, createdAt: now, reservedTokens };
  });
}

export interface Settlement {
  status: 'completed' | 'cancelled' | 'failed';
  output: string;
  model: string;
  /** Counted for completed and cancelled calls; a failed call counts nothing. */
  usage: TokenUsage;
  finishReason: string | null;
  errorCode: ErrorCode | null;
  latencyMs: number;
}

export async function settle(db: Database, id: string, settlement: Settlement): Promise<void> {
  const usage =
    settlement.status === 'failed'
      ? { promptTokens: 0, completionTokens: 0, totalTokens: 0 }
      : settlement.usage;
  await db
    .update(aiRequests)
    .set({
      status: settlement.status,
      output: settlement.output,
      model: settlement.model,
      promptTokens: usage.promptTokens,
      completionTokens: usage.completionTokens,
      totalTokens: usage.totalTokens,
      finishReason: settlement.finishReason,
      errorCode: settlement.errorCode,
      latencyMs: settlement.latencyMs,
      finishedAt: new Date(),
    })
    .where(and(eq(aiRequests.id, id), eq(aiRequests.status, 'pending')));
}

/**
 * The user's finished calls in one workspace, newest first, a page at a time. Only ever the given
 * user's rows: members share a quota, not their prompts.
 */
export async function history(
  db: Database,
  owner: { userId: string; organizationId: string },
  page: { limit: number; cursor?: PageCursor | undefined },
): Promise<{ items: AiHistoryItem[]; nextCursor: string | null }> {
  const after = page.cursor;
  const rows = await db
    .select()
    .from(aiRequests)
    .where(
      and(
        eq(aiRequests.userId, owner.userId),
        eq(aiRequests.organizationId, owner.organizationId),
        ne(aiRequests.status, 'pending'),
        after
          ? sql`(${aiRequests.createdAt}, ${aiRequests.id}) < (${after.createdAt.toISOString()}::timestamptz, ${after.id})`
          : undefined,
      ),
    )
    .orderBy(desc(aiRequests.createdAt), desc(aiRequests.id))
    .limit(page.limit + 1);
  const items = rows.slice(0, page.limit);
  const last = items.at(-1);
  return {
    items: items.map((row) => ({
      id: row.id,
      prompt: row.prompt,
      system: row.system,
      output: row.output,
      model: row.model,
      status: row.status === 'pending' ? 'failed' : row.status,
      usage: {
        promptTokens: row.promptTokens,
        completionTokens: row.completionTokens,
        totalTokens: row.totalTokens,
      },
      finishReason: row.finishReason,
      errorCode: (row.errorCode as ErrorCode | null) ?? null,
      latencyMs: row.latencyMs,
      createdAt: row.createdAt.toISOString(),
    })),
    nextCursor: rows.length > page.limit && last ? encodeCursor(last.createdAt, last.id) : null,
  };
}

/**
 * AI calls in the period, in total and per user (the heaviest first, 100 at most), for staff.
 * Tokens are what settled calls used; a running call counts as a request with no tokens yet.
 */
export async function usageByUser(db: Database, period: Period) {
  const figures = {
    requests: sql<number>`count(*) filter (where ${aiRequests.status} <> 'failed')`.mapWith(Number),
    failed: sql<number>`count(*) filter (where ${aiRequests.status} = 'failed')`.mapWith(Number),
    promptTokens: sql<number>`coalesce(sum(${aiRequests.promptTokens}), 0)`.mapWith(Number),
    completionTokens: sql<number>`coalesce(sum(${aiRequests.completionTokens}), 0)`.mapWith(Number),
    totalTokens: sql<number>`coalesce(sum(${aiRequests.totalTokens}), 0)`.mapWith(Number),
  };
  const inPeriod = and(gte(aiRequests.createdAt, period.start), lt(aiRequests.createdAt, period.end));
  const [totals] = await db
    .select({ ...figures, users: sql<number>`count(distinct ${aiRequests.userId})`.mapWith(Number) })
    .from(aiRequests)
    .where(inPeriod);
  const perUser = await db
    .select({ userId: aiRequests.userId, ...figures })
    .from(aiRequests)
    .where(inPeriod)
    .groupBy(aiRequests.userId)
    .orderBy(desc(figures.totalTokens), desc(sql`count(*)`), aiRequests.userId)
    .limit(100);
  return { totals, perUser };
}

/** The user's AI calls (prompts and answers included), oldest first, for their data export. */
export async function exportAiRequestsFor(db: Database, userId: string) {
  return db.select().from(aiRequests).where(eq(aiRequests.userId, userId)).orderBy(asc(aiRequests.createdAt));
}

export async function eraseAiRequestsFor(db: Database, userId: string): Promise<void> {
  await db.delete(aiRequests).where(eq(aiRequests.userId, userId));
}
