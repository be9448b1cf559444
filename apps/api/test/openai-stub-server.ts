import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { vi } from 'vitest';

/**
 * A local OpenAI-compatible server for the AI tests: POST /v1/chat/completions, with and without
 * streaming (including the `stream_options.include_usage` usage chunk), driven by switches a test
 * sets: failures with a status, a delay before answering, a hang, slow tokens, a stall midway.
 * It records every request it received and whether the client went away before the end.
 */

export interface StubRequest {
  body: {
    model: string;
    messages: { role: string; content: string }[];
    max_tokens?: number;
    stream?: boolean;
    stream_options?: { include_usage?: boolean };
  };
  /** The client closed the connection before the response ended. */
  aborted: boolean;
  /** The response was sent in full. */
  finished: boolean;
}

export interface StubBehaviour {
  /** The answer, one token per entry (one streamed chunk each). */
  tokens: string[];
  /** Prompt tokens reported in `usage`. */
  promptTokens: number;
  /** Answer the next N requests with `failStatus` instead. */
  failCount: number;
  failStatus: number;
  /** Headers sent with a failure (e.g. retry-after-ms). */
  failHeaders: Record<string, string>;
  /** Wait before answering at all (slow provider). */
  delayMs: number;
  /** Never answer (until the client gives up). */
  hang: boolean;
  /** Between two streamed chunks. */
  tokenDelayMs: number;
  /** Streaming: after this many tokens, send nothing more but keep the connection open. */
  stallAfterTokens: number | undefined;
  /** Streaming: after this many tokens, cut the connection (a provider dying midway). */
  dropAfterTokens: number | undefined;
  /** Leave `usage` out of answers (some compatible servers do). */
  omitUsage: boolean;
}

const defaults = (): StubBehaviour => ({
  tokens: ['Hello', ',', ' world', '!'],
  promptTokens: 12,
  failCount: 0,
  failStatus: 500,
  failHeaders: { 'retry-after-ms': '1' },
  delayMs: 0,
  hang: false,
  tokenDelayMs: 0,
  stallAfterTokens: undefined,
  dropAfterTokens: undefined,
  omitUsage: false,
});

export interface OpenAiStub {
  /** The OPENAI_BASE_URL to configure (…/v1). */
  baseUrl: string;
  behaviour: StubBehaviour;
  requests: StubRequest[];
  /** Back to the defaults, with no recorded requests. */
  reset(): void;
  /** Resolves when `predicate` holds for the recorded requests (polling; fails after `timeoutMs`). */
  waitFor(predicate: (requests: StubRequest[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startOpenAiStub(): Promise<OpenAiStub> {
  const stub = { behaviour: defaults(), requests: [] as StubRequest[] };
  let sequence = 0;

  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
      return;
    }
    const record: StubRequest = {
      body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as StubRequest['body'],
      aborted: false,
      finished: false,
    };
    stub.requests.push(record);
    res.on('close', () => {
      if (!res.writableFinished) record.aborted = true;
    });
    res.on('finish', () => {
      record.finished = true;
    });

    const b = stub.behaviour;
    if (b.hang) return;
    if (b.delayMs > 0) await sleep(b.delayMs);
    if (res.destroyed) return;
    if (b.failCount > 0) {
      b.failCount -= 1;
      res
        .writeHead(b.failStatus, { 'content-type': 'application/json', ...b.failHeaders })
        .end(JSON.stringify({ error: { message: 'stub failure', type: 'server_error', code: null } }));
      return;
    }

    const id = `chatcmpl-stub-${++sequence}`;
    const created = Math.floor(Date.now() / 1000);
    const model = record.body.model;
    const limit = record.body.max_tokens ?? Number.POSITIVE_INFINITY;
    const tokens = b.tokens.slice(0, limit);
    const finishReason = tokens.length < b.tokens.length ? 'length' : 'stop';
    const usage = {
      prompt_tokens: b.promptTokens,
      completion_tokens: tokens.length,
      total_tokens: b.promptTokens + tokens.length,
    };

    if (!record.body.stream) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id,
          object: 'chat.completion',
          created,
          model,
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: tokens.join('') },
              finish_reason: finishReason,
            },
          ],
          ...(b.omitUsage ? {} : { usage }),
        }),
      );
      return;
    }

    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const send = (payload: unknown) => res.write(`data: ${JSON.stringify(payload)}\n\n`);
    const chunk = (delta: Record<string, string>, finish: string | null) => ({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      choices: [{ index: 0, delta, finish_reason: finish }],
    });
    send(chunk({ role: 'assistant', content: '' }, null));
    for (const [index, token] of tokens.entries()) {
      if (res.destroyed) return;
      if (b.stallAfterTokens !== undefined && index >= b.stallAfterTokens) return;
      if (b.dropAfterTokens !== undefined && index >= b.dropAfterTokens) {
        // Let what was written reach the client first, so the failure is mid-stream.
        await sleep(50);
        res.destroy();
        return;
      }
      if (b.tokenDelayMs > 0) await sleep(b.tokenDelayMs);
      if (res.destroyed) return;
      send(chunk({ content: token }, null));
    }
    send(chunk({}, finishReason));
    if (record.body.stream_options?.include_usage && !b.omitUsage) {
      send({ id, object: 'chat.completion.chunk', created, model, choices: [], usage });
    }
    res.end('data: [DONE]\n\n');
  });
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    get behaviour() {
      return stub.behaviour;
    },
    set behaviour(value) {
      stub.behaviour = value;
    },
    get requests() {
      return stub.requests;
    },
    reset() {
      stub.behaviour = defaults();
      stub.requests = [];
    },
    async waitFor(predicate, timeoutMs = 5000) {
      await vi.waitFor(
        () => {
          if (!predicate(stub.requests)) throw new Error('the stub did not see what was awaited in time');
        },
        { timeout: timeoutMs, interval: 10 },
      );
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
