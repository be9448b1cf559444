import { z } from 'zod';
import { pageCursorSchema } from './cursor.ts';
import { errorCodeSchema } from './errors.ts';

/*
 * The Pro AI feature: POST /api/ai/generate/, GET /api/ai/history/, GET /api/ai/status/, and the
 * `aiUsage` part of GET /api/billing/status/.
 *
 * Errors a client should expect (all in the usual error envelope):
 * - 401 AUTHENTICATION_REQUIRED, 403 SUBSCRIPTION_INACTIVE (not Pro; `links.pricing`).
 * - 503 AI_NOT_CONFIGURED: the server has neither OPENAI_API_KEY nor OPENAI_BASE_URL.
 * - 400 VALIDATION_ERROR: prompt (+ system) longer than the plan allows (`details.prompt`), or
 *   maxTokens above the plan's bound (`details.maxTokens`).
 * - 429 AI_QUOTA_EXCEEDED: the plan's requests or tokens for the billing period are used up; the
 *   message says when the quota resets and `links.resetsAt` holds that instant (ISO 8601).
 * - 502 AI_PROVIDER_ERROR: the provider answered with an error (after bounded retries).
 * - 503 AI_PROVIDER_UNAVAILABLE: the provider timed out, was unreachable or rate-limited us
 *   (after bounded retries). A failed call never counts against the quota.
 */

/** Hard bounds of the wire format; the plan's own bounds (smaller) are checked by the server. */
export const AI_MAX_PROMPT_CHARS_HARD = 100_000;
export const AI_MAX_TOKENS_HARD = 100_000;

export const aiGenerateRequest = z.strictObject({
  prompt: z
    .string()
    .max(AI_MAX_PROMPT_CHARS_HARD)
    .refine((value) => value.trim().length > 0, 'Enter a prompt.'),
  /** An optional system message; its length counts towards the plan's prompt bound. */
  system: z.string().max(AI_MAX_PROMPT_CHARS_HARD).optional(),
  /** Upper bound on the completion's tokens; defaults to the plan's maximum. */
  maxTokens: z.number().int().min(1).max(AI_MAX_TOKENS_HARD).optional(),
  /** true: the answer arrives as server-sent events (see the stream events below). */
  stream: z.boolean().optional(),
});
export type AiGenerateRequest = z.infer<typeof aiGenerateRequest>;

export const aiTokenUsageSchema = z.object({
  promptTokens: z.number().int(),
  completionTokens: z.number().int(),
  totalTokens: z.number().int(),
});
export type AiTokenUsage = z.infer<typeof aiTokenUsageSchema>;

/** The non-streamed answer (`stream` absent or false), inside the usual `{ success, data }`. */
export const aiGenerateResponse = z.object({
  id: z.string(),
  output: z.string(),
  model: z.string(),
  usage: aiTokenUsageSchema,
  /** The provider's reason: 'stop', 'length' (maxTokens reached), 'content_filter', … */
  finishReason: z.string().nullable(),
  latencyMs: z.number().int(),
});
export type AiGenerateResponse = z.infer<typeof aiGenerateResponse>;

/*
 * Streaming (`stream: true`). Send the POST with fetch (EventSource cannot POST) and read the body
 * as `text/event-stream`. Everything that can be refused (auth, plan, validation, quota,
 * configuration, a provider that fails before its first token) is refused before the stream
 * starts, as a normal JSON error response with its status. Once the response is 200
 * text/event-stream, the events are, in order:
 *   event: start  data: AiStreamStartEvent      (once)
 *   event: delta  data: AiStreamDeltaEvent      (zero or more, token by token)
 *   event: done   data: AiStreamDoneEvent       (once, on success)
 *   or event: error data: AiStreamErrorEvent    (once, if the provider fails midway; the partial
 *                                                 output is kept in history as 'failed')
 * Closing the connection cancels the provider's request; the partial output is kept in history as
 * 'cancelled' and the tokens the provider reported (or, lacking them, estimated) are counted.
 */
export const aiStreamStartEvent = z.object({ id: z.string(), model: z.string() });
export type AiStreamStartEvent = z.infer<typeof aiStreamStartEvent>;

export const aiStreamDeltaEvent = z.object({ text: z.string() });
export type AiStreamDeltaEvent = z.infer<typeof aiStreamDeltaEvent>;

export const aiStreamDoneEvent = z.object({
  id: z.string(),
  model: z.string(),
  usage: aiTokenUsageSchema,
  finishReason: z.string().nullable(),
  latencyMs: z.number().int(),
});
export type AiStreamDoneEvent = z.infer<typeof aiStreamDoneEvent>;

export const aiStreamErrorEvent = z.object({ code: errorCodeSchema, error: z.string() });
export type AiStreamErrorEvent = z.infer<typeof aiStreamErrorEvent>;

export const aiRequestStatusSchema = z.enum(['completed', 'cancelled', 'failed']);
export type AiRequestStatus = z.infer<typeof aiRequestStatusSchema>;

/** One finished request of the caller's (requests still running are not listed). */
export const aiHistoryItemSchema = z.object({
  id: z.string(),
  prompt: z.string(),
  system: z.string().nullable(),
  /** What was generated; partial when cancelled or failed midway. */
  output: z.string(),
  model: z.string(),
  status: aiRequestStatusSchema,
  /** Zeros for a failed request (it counts nothing). */
  usage: aiTokenUsageSchema,
  finishReason: z.string().nullable(),
  /** The error code of a failed request. */
  errorCode: errorCodeSchema.nullable(),
  latencyMs: z.number().int().nullable(),
  createdAt: z.iso.datetime(),
});
export type AiHistoryItem = z.infer<typeof aiHistoryItemSchema>;

export const aiHistoryQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  /** `nextCursor` of the previous page; opaque. */
  cursor: pageCursorSchema.optional(),
});
export type AiHistoryQuery = z.input<typeof aiHistoryQuery>;

/** Newest first. `nextCursor` is null on the last page. */
export const aiHistoryResponse = z.object({
  items: z.array(aiHistoryItemSchema),
  nextCursor: z.string().nullable(),
});
export type AiHistoryResponse = z.infer<typeof aiHistoryResponse>;

/**
 * Use of the plan's AI quota in the current billing period. `used` includes requests still
 * running (at what they reserved); the quota resets at `period.end`.
 */
export const aiUsageSchema = z.object({
  period: z.object({ start: z.iso.datetime(), end: z.iso.datetime() }),
  requests: z.object({ used: z.number().int(), limit: z.number().int() }),
  tokens: z.object({ used: z.number().int(), limit: z.number().int() }),
});
export type AiUsage = z.infer<typeof aiUsageSchema>;

/** GET /api/ai/status/ (Pro only): what the Pro page needs before the first prompt. */
export const aiStatusResponse = z.object({
  /** false: the server has no provider configured; generating answers 503 AI_NOT_CONFIGURED. */
  configured: z.boolean(),
  model: z.string(),
  limits: z.object({ maxPromptChars: z.number().int(), maxOutputTokens: z.number().int() }),
  usage: aiUsageSchema,
});
export type AiStatusResponse = z.infer<typeof aiStatusResponse>;
