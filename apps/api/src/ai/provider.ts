import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode } from '@tierbase/contracts';
import OpenAI from 'openai';
import type { Stream } from 'openai/streaming';
import type { Config } from '../config.ts';
import { AppError } from '../errors.ts';

/*
 * The AI provider behind the official `openai` SDK: OpenAI itself, or any OpenAI-compatible server
 * (Ollama, vLLM, LM Studio) through OPENAI_BASE_URL. The only module that imports `openai`.
 *
 * Retries are ours, not the SDK's: the SDK would sleep for whatever Retry-After the provider sends
 * (minutes, for a rate limit), while a request here must end within a known bound.
 */

export interface ChatInput {
  prompt: string;
  system: string | undefined;
  maxTokens: number;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export interface Completion {
  output: string;
  model: string;
  usage: TokenUsage | null;
  finishReason: string | null;
}

/** One piece of a streamed answer: text, and at the end the finish reason and usage. */
export interface StreamPart {
  text: string;
  finishReason: string | null;
  usage: TokenUsage | null;
  model: string | null;
}

export interface AiProvider {
  readonly model: string;
  complete(input: ChatInput, signal: AbortSignal): Promise<Completion>;
  /**
   * Starts a streamed answer; resolves once the provider has accepted the request (so an error
   * before the first token still rejects, and is retried). Iterating yields the parts; a chunk
   * that does not arrive within the timeout, or an abort, ends the iteration with an error.
   */
  stream(input: ChatInput, signal: AbortSignal): Promise<AsyncIterable<StreamPart>>;
}

export interface ProviderOptions {
  apiKey: string | undefined;
  baseUrl: string | undefined;
  model: string;
  timeoutMs: number;
  maxRetries: number;
  retryBaseDelayMs: number;
}

/** The longest a streamed answer may run, whatever its pace (well below ABANDONED_AFTER_MS). */
export const MAX_STREAM_MS = 10 * 60 * 1000;

/** True when the server has somewhere to send prompts to. */
export function aiConfigured(config: Config['ai']): boolean {
  return Boolean(config.apiKey || config.baseUrl);
}

export function aiNotConfigured(): AppError {
  return new AppError({
    status: 503,
    code: ErrorCode.AI_NOT_CONFIGURED,
    message:
      'The AI assistant is not configured on this server. Set OPENAI_API_KEY (and OPENAI_BASE_URL for an OpenAI-compatible server such as Ollama), then restart.',
  });
}

/** Raised by a stream whose provider went quiet for longer than the timeout. */
export class ProviderTimeoutError extends Error {
  constructor() {
    super('The AI provider did not answer in time.');
    this.name = 'ProviderTimeoutError';
  }
}

export function createAiProvider(options: ProviderOptions): AiProvider {
  const client = new OpenAI({
    // Local servers (Ollama, vLLM) take any key; the SDK insists on one.
    apiKey: options.apiKey ?? 'not-needed',
    ...(options.baseUrl ? { baseURL: options.baseUrl } : {}),
    timeout: options.timeoutMs,
    maxRetries: 0,
  });

  const messages = (input: ChatInput) => [
    ...(input.system ? [{ role: 'system' as const, content: input.system }] : []),
    { role: 'user' as const, content: input.prompt },
  ];

  return {
    model: options.model,

    async complete(input, signal) {
      const response = await withRetries(options, signal, () =>
        client.chat.completions.create(
          { model: options.model, messages: messages(input), max_tokens: input.maxTokens },
          { signal },
        ),
      );
      const choice = response.choices[0];
      return {
        output: choice?.message.content ?? '',
        model: response.model || options.model,
        usage: response.usage ? usageOf(response.usage) : null,
        finishReason: choice?.finish_reason ?? null,
      };
    },

    async stream(input, signal) {
      // The SDK's timeout covers the wait for the response to start; between chunks we watch
      // ourselves, aborting the upstream request through a controller of our own.
      const upstream = new AbortController();
      const onAbort = () => upstream.abort(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      let stream: Stream<OpenAI.Chat.Completions.ChatCompletionChunk>;
      try {
        stream = await withRetries(options, upstream.signal, () =>
          client.chat.completions.create(
            {
              model: options.model,
              messages: messages(input),
              max_tokens: input.maxTokens,
              stream: true,
              stream_options: { include_usage: true },
            },
            { signal: upstream.signal },
          ),
        );
      } catch (error) {
        signal.removeEventListener('abort', onAbort);
        throw error;
      }
      return (async function* () {
        let timedOut = false;
        let timer: NodeJS.Timeout | undefined;
        const arm = () => {
          clearTimeout(timer);
          timer = setTimeout(() => {
            timedOut = true;
            upstream.abort();
          }, options.timeoutMs);
        };
        arm();
        // However lively, a stream ends within a bound: the quota ledger relies on it.
        const deadline = setTimeout(() => {
          timedOut = true;
          upstream.abort();
        }, MAX_STREAM_MS);
        try {
          for await (const chunk of stream) {
            arm();
            const choice = chunk.choices[0];
            yield {
              text: choice?.delta?.content ?? '',
              finishReason: choice?.finish_reason ?? null,
              usage: chunk.usage ? usageOf(chunk.usage) : null,
              model: chunk.model || null,
            };
          }
          // The SDK ends an aborted stream quietly, as if it were complete: say why it ended.
          if (timedOut) throw new ProviderTimeoutError();
          if (upstream.signal.aborted) throw new OpenAI.APIUserAbortError();
        } catch (error) {
          if (timedOut) throw new ProviderTimeoutError();
          throw error;
        } finally {
          clearTimeout(timer);
          clearTimeout(deadline);
          signal.removeEventListener('abort', onAbort);
          // Leaving the loop early (the caller stopped reading) must close the upstream request.
          if (!upstream.signal.aborted) upstream.abort();
        }
      })();
    },
  };
}

function usageOf(usage: OpenAI.CompletionUsage): TokenUsage {
  return {
    promptTokens: usage.prompt_tokens ?? 0,
    completionTokens: usage.completion_tokens ?? 0,
    totalTokens: usage.total_tokens ?? (usage.prompt_tokens ?? 0) + (usage.completion_tokens ?? 0),
  };
}

/** Whether a failed attempt may succeed if repeated: timeouts, connection errors, 408/409/429/5xx. */
function isRetryable(error: unknown): boolean {
  if (error instanceof OpenAI.APIUserAbortError) return false;
  if (error instanceof OpenAI.APIConnectionError) return true; // includes APIConnectionTimeoutError
  if (error instanceof OpenAI.APIError && typeof error.status === 'number') {
    return error.status === 408 || error.status === 409 || error.status === 429 || error.status >= 500;
  }
  return false;
}

/** The provider's hint (Retry-After-Ms, Retry-After in seconds), if it gave one. */
function retryAfterMs(error: unknown): number | undefined {
  if (!(error instanceof OpenAI.APIError) || !error.headers) return undefined;
  const ms = Number.parseFloat(error.headers.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const seconds = Number.parseFloat(error.headers.get('retry-after') ?? '');
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  return undefined;
}

async function withRetries<T>(options: ProviderOptions, signal: AbortSignal, attempt: () => Promise<T>) {
  const longestWait = options.retryBaseDelayMs * 8;
  for (let retry = 0; ; retry++) {
    try {
      return await attempt();
    } catch (error) {
      if (signal.aborted || retry >= options.maxRetries || !isRetryable(error)) throw error;
      const backoff = options.retryBaseDelayMs * 2 ** retry * (1 - Math.random() * 0.25);
      const hint = retryAfterMs(error);
      // A provider asking for a longer pause than we can afford is answered now, not waited on.
      if (hint !== undefined && hint > longestWait) throw error;
      await sleep(Math.min(hint ?? backoff, longestWait), undefined, { signal }).catch(() => {
        throw error;
      });
    }
  }
}

/**
 * The error to answer with for a provider failure: 503 when the provider is unreachable, slow or
 * rate-limiting us (worth trying again later), 502 when it answered with an error. The message is
 * ours; the provider's own text (which may echo the prompt or a key prefix) is never passed on.
 */
export function providerFailure(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof ProviderTimeoutError || error instanceof OpenAI.APIConnectionTimeoutError) {
    return new AppError({
      status: 503,
      code: ErrorCode.AI_PROVIDER_UNAVAILABLE,
      message: 'The AI provider did not answer in time. Try again in a moment.',
    });
  }
  if (error instanceof OpenAI.APIConnectionError) {
    return new AppError({
      status: 503,
      code: ErrorCode.AI_PROVIDER_UNAVAILABLE,
      message: 'The AI provider cannot be reached right now. Try again in a moment.',
    });
  }
  if (error instanceof OpenAI.APIError && error.status === 429) {
    return new AppError({
      status: 503,
      code: ErrorCode.AI_PROVIDER_UNAVAILABLE,
      message: 'The AI provider is busy right now. Try again in a moment.',
    });
  }
  return new AppError({
    status: 502,
    code: ErrorCode.AI_PROVIDER_ERROR,
    message: 'The AI provider answered with an error.',
  });
}

/** A description of a provider failure that is safe to log: kind and status, no provider text. */
export function describeFailure(error: unknown): Record<string, unknown> {
  if (error instanceof OpenAI.APIError) {
    return { kind: error.constructor.name, status: error.status ?? null, requestId: error.requestID ?? null };
  }
  if (error instanceof Error) return { kind: error.name };
  return { kind: typeof error };
}

export function isAbort(error: unknown): boolean {
  return (
    error instanceof OpenAI.APIUserAbortError ||
    (error instanceof Error && (error.name === 'AbortError' || error.name === 'APIUserAbortError'))
  );
}
