import {
  type AiGenerateRequest,
  type AiGenerateResponse,
  type AiStatusResponse,
  type AiStreamDoneEvent,
  type AiStreamErrorEvent,
  type AiUsage,
  ErrorCode,
} from '@tierbase/contracts';
import { findPlan, type Plan } from '../billing/plans.ts';
import type { SubscriptionRow } from '../billing/subscriptions.ts';
import type { Config } from '../config.ts';
import type { Database } from '../db/client.ts';
import { AppError } from '../errors.ts';
import { aiTokens } from '../metrics.ts';
import {
  checkBounds,
  promptTokenEstimate,
  type Reservation,
  reserve,
  type Settlement,
  settle,
  usageReport,
} from './ledger.ts';
import { billingPeriod } from './period.ts';
import {
  type AiProvider,
  aiConfigured,
  aiNotConfigured,
  createAiProvider,
  describeFailure,
  providerFailure,
  type StreamPart,
  type TokenUsage,
} from './provider.ts';

export type AiLog = (
  level: 'info' | 'warn' | 'error',
  details: Record<string, unknown>,
  message: string,
) => void;

export interface AiContext {
  db: Database;
  /** Absent when neither OPENAI_API_KEY nor OPENAI_BASE_URL is set. */
  provider: AiProvider | undefined;
  model: string;
  log: AiLog;
}

export function createAiContext(config: Config['ai'], db: Database, log: AiLog): AiContext {
  return {
    db,
    provider: aiConfigured(config) ? createAiProvider(config) : undefined,
    model: config.model,
    log,
  };
}

/** The signed-in caller, as the routes know them (the Pro gate has already run). */
export interface Caller {
  userId: string;
  /** The active workspace: its plan sets the limits, and its members share the quota. */
  organizationId: string;
  isPro: boolean;
  /** The active workspace's subscription row, read with the session (null before any checkout). */
  subscription: SubscriptionRow | null;
}

/**
 * The plan whose AI limits apply: the subscription's plan while it grants Pro, else Free. A Pro
 * subscription naming a plan this build does not declare gets Pro's limits.
 */
function planOf(row: SubscriptionRow | undefined, isPro: boolean): Plan {
  const free = findPlan('free')!;
  if (!isPro) return free;
  const named = row?.plan ? findPlan(row.plan) : undefined;
  return named && named.id !== 'free' ? named : findPlan('pro')!;
}

function entitlement(caller: Caller, now: Date) {
  const row = caller.subscription ?? undefined;
  const plan = planOf(row, caller.isPro);
  return { limits: plan.limits, period: billingPeriod(row, now) };
}

/**
 * The caller's AI usage in the current period, for GET /api/billing/status/; null when their plan
 * has no AI. Takes the subscription row when the caller has already read it.
 */
export async function aiUsageFor(
  db: Database,
  caller: Pick<Caller, 'organizationId' | 'isPro'>,
  row: SubscriptionRow | undefined,
  now: Date = new Date(),
): Promise<AiUsage | null> {
  const plan = planOf(row, caller.isPro);
  if (plan.limits.aiRequestsPerPeriod === 0) return null;
  return usageReport(db, caller.organizationId, plan.limits, billingPeriod(row, now), now);
}

export async function aiStatus(ctx: AiContext, caller: Caller): Promise<AiStatusResponse> {
  const now = new Date();
  const { limits, period } = entitlement(caller, now);
  return {
    configured: Boolean(ctx.provider),
    model: ctx.model,
    limits: { maxPromptChars: limits.aiMaxPromptChars, maxOutputTokens: limits.aiMaxOutputTokens },
    usage: await usageReport(ctx.db, caller.organizationId, limits, period, now),
  };
}

interface Prepared {
  provider: AiProvider;
  reservation: Reservation;
  maxTokens: number;
  startedAt: number;
}

/** Everything that can refuse a call, in order: configuration, plan bounds, quota. */
async function prepare(ctx: AiContext, caller: Caller, input: AiGenerateRequest): Promise<Prepared> {
  if (!ctx.provider) throw aiNotConfigured();
  const now = new Date();
  const { limits, period } = entitlement(caller, now);
  const maxTokens = checkBounds(limits, input);
  const reservation = await reserve(
    ctx.db,
    {
      userId: caller.userId,
      organizationId: caller.organizationId,
      limits,
      period,
      model: ctx.provider.model,
      prompt: input.prompt,
      system: input.system,
      maxTokens,
      stream: input.stream === true,
    },
    now,
  );
  return { provider: ctx.provider, reservation, maxTokens, startedAt: performance.now() };
}

const elapsed = (prepared: Prepared) => Math.round(performance.now() - prepared.startedAt);

/** What a call that ended without the provider's usage is counted at. */
function estimatedUsage(input: AiGenerateRequest, completionTokens: number, maxTokens: number): TokenUsage {
  const promptTokens = promptTokenEstimate(input.prompt, input.system);
  const completion = Math.min(completionTokens, maxTokens);
  return { promptTokens, completionTokens: completion, totalTokens: promptTokens + completion };
}

async function record(ctx: AiContext, prepared: Prepared, settlement: Settlement): Promise<void> {
  await settle(ctx.db, prepared.reservation.id, settlement);
  if (settlement.status !== 'failed') {
    aiTokens.inc({ model: settlement.model, kind: 'prompt' }, settlement.usage.promptTokens);
    aiTokens.inc({ model: settlement.model, kind: 'completion' }, settlement.usage.completionTokens);
  }
  ctx.log(
    settlement.status === 'failed' ? 'warn' : 'info',
    {
      aiRequestId: prepared.reservation.id,
      status: settlement.status,
      model: settlement.model,
      totalTokens: settlement.status === 'failed' ? 0 : settlement.usage.totalTokens,
      latencyMs: settlement.latencyMs,
      ...(settlement.errorCode ? { code: settlement.errorCode } : {}),
    },
    'ai request finished',
  );
}

/** A call the provider failed: recorded as failed (counting nothing), answered with our error. */
async function recordFailure(
  ctx: AiContext,
  prepared: Prepared,
  error: unknown,
  output: string,
  model: string,
) {
  const failure = providerFailure(error);
  ctx.log('warn', { aiRequestId: prepared.reservation.id, ...describeFailure(error) }, 'ai provider failed');
  await record(ctx, prepared, {
    status: 'failed',
    output,
    model,
    usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0 },
    finishReason: null,
    errorCode: failure.code,
    latencyMs: elapsed(prepared),
  });
  return failure;
}

/**
 * The client went away before any answer: the provider's request is cancelled, and the call is
 * recorded as cancelled with its prompt (estimated) counted, since the provider may have read it.
 * The error is for the logs only; nobody is left to receive it (499: client closed request).
 */
async function recordCancelledBeforeAnswer(ctx: AiContext, prepared: Prepared, input: AiGenerateRequest) {
  await record(ctx, prepared, {
    status: 'cancelled',
    output: '',
    model: prepared.provider.model,
    usage: estimatedUsage(input, 0, prepared.maxTokens),
    finishReason: null,
    errorCode: null,
    latencyMs: elapsed(prepared),
  });
  return new AppError({
    status: 499,
    code: ErrorCode.SERVICE_UNAVAILABLE,
    message: 'The client closed the request.',
  });
}

/**
 * One non-streamed generation. `signal` aborts when the client goes away: the provider's request
 * is cancelled and the call recorded as cancelled (its prompt estimated as used).
 */
export async function generate(
  ctx: AiContext,
  caller: Caller,
  input: AiGenerateRequest,
  signal: AbortSignal,
): Promise<AiGenerateResponse> {
  const prepared = await prepare(ctx, caller, input);
  const { provider, reservation, maxTokens } = prepared;
  const chat = { prompt: input.prompt, system: input.system, maxTokens };
  let result: Awaited<ReturnType<AiProvider['complete']>>;
  try {
    result = await provider.complete(chat, signal);
  } catch (error) {
    if (signal.aborted) throw await recordCancelledBeforeAnswer(ctx, prepared, input);
    throw await recordFailure(ctx, prepared, error, '', provider.model);
  }
  const usage = result.usage ?? estimatedUsage(input, Math.ceil(result.output.length / 4), maxTokens);
  const latencyMs = elapsed(prepared);
  await record(ctx, prepared, {
    status: 'completed',
    output: result.output,
    model: result.model,
    usage,
    finishReason: result.finishReason,
    errorCode: null,
    latencyMs,
  });
  return {
    id: reservation.id,
    output: result.output,
    model: result.model,
    usage,
    finishReason: result.finishReason,
    latencyMs,
  };
}

export type StreamEvent =
  | { event: 'delta'; data: { text: string } }
  | { event: 'done'; data: AiStreamDoneEvent }
  | { event: 'error'; data: AiStreamErrorEvent };

export interface StartedStream {
  id: string;
  model: string;
  /**
   * The answer, token by token, ending with `done` or `error`. Draining it settles the call; a
   * caller that stops early (or whose `signal` aborts) leaves it recorded as cancelled.
   */
  events: AsyncGenerator<StreamEvent, void, undefined>;
}

/**
 * Starts a streamed generation. Resolves once the provider has accepted the request: anything that
 * fails before (quota, bounds, a provider down after its retries) rejects, so the route can still
 * answer with a status code.
 */
export async function startStream(
  ctx: AiContext,
  caller: Caller,
  input: AiGenerateRequest,
  signal: AbortSignal,
): Promise<StartedStream> {
  const prepared = await prepare(ctx, caller, input);
  const { provider, reservation, maxTokens } = prepared;
  let parts: AsyncIterable<StreamPart>;
  try {
    parts = await provider.stream({ prompt: input.prompt, system: input.system, maxTokens }, signal);
  } catch (error) {
    if (signal.aborted) throw await recordCancelledBeforeAnswer(ctx, prepared, input);
    throw await recordFailure(ctx, prepared, error, '', provider.model);
  }

  async function* events(): AsyncGenerator<StreamEvent, void, undefined> {
    let output = '';
    let deltas = 0;
    let model = provider.model;
    let usage: TokenUsage | null = null;
    let finishReason: string | null = null;
    let settled = false;
    const cancelled = () =>
      record(ctx, prepared, {
        status: 'cancelled',
        output,
        model,
        usage: usage ?? estimatedUsage(input, deltas, maxTokens),
        finishReason,
        errorCode: null,
        latencyMs: elapsed(prepared),
      });
    try {
      for await (const part of parts) {
        if (part.model) model = part.model;
        if (part.usage) usage = part.usage;
        if (part.finishReason) finishReason = part.finishReason;
        if (part.text) {
          output += part.text;
          deltas += 1;
          yield { event: 'delta', data: { text: part.text } };
        }
      }
      const finalUsage = usage ?? estimatedUsage(input, deltas, maxTokens);
      const latencyMs = elapsed(prepared);
      settled = true;
      await record(ctx, prepared, {
        status: 'completed',
        output,
        model,
        usage: finalUsage,
        finishReason,
        errorCode: null,
        latencyMs,
      });
      yield {
        event: 'done',
        data: { id: reservation.id, model, usage: finalUsage, finishReason, latencyMs },
      };
    } catch (error) {
      if (settled) throw error;
      settled = true;
      if (signal.aborted) {
        await cancelled();
        return;
      }
      const failure = await recordFailure(ctx, prepared, error, output, model);
      yield { event: 'error', data: { code: failure.code, error: failure.message } };
    } finally {
      // The consumer stopped reading before the end (return() on the generator).
      if (!settled) await cancelled();
    }
  }

  return { id: reservation.id, model: provider.model, events: events() };
}
