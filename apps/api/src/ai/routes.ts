import type { OutgoingHttpHeaders } from 'node:http';
import {
  aiGenerateRequest,
  aiGenerateResponse,
  aiHistoryQuery,
  aiHistoryResponse,
  aiStatusResponse,
  successEnvelope,
} from '@tierbase/contracts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { requirePro } from '../billing/guard.ts';
import { errorResponses, ok } from '../http/envelope.ts';
import type { AuthContext } from '../users/auth-context.ts';
import { history } from './ledger.ts';
import { type AiContext, aiStatus, type Caller, generate, type StreamEvent, startStream } from './service.ts';

const tags = ['ai'];
const errors = errorResponses(400, 401, 403, 429, 502, 503);

/** Aborts when the client goes away before the response has been sent in full. */
function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}

export async function registerAiRoutes(app: FastifyInstance, shared: AiContext) {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  // The service logs through the request it serves, so each line carries that request's id.
  // The active workspace's plan and quota apply; the call is recorded as the user's.
  const callerOf = (auth: AuthContext): Caller => ({
    userId: auth.user.id,
    organizationId: auth.workspace.id,
    isPro: auth.isPro,
    subscription: auth.subscription,
  });
  const contextOf = (request: FastifyRequest): AiContext => ({
    ...shared,
    log: (level, details, message) => request.log[level](details, message),
  });

  routes.get(
    '/api/ai/status',
    {
      schema: {
        tags,
        summary: 'Whether the AI is configured, the plan bounds and the usage this period (Pro)',
        response: { 200: successEnvelope(aiStatusResponse), ...errors },
      },
    },
    async (request) => {
      const auth = requirePro(request);
      return ok(await aiStatus(contextOf(request), callerOf(auth)));
    },
  );

  routes.post(
    '/api/ai/generate',
    {
      schema: {
        tags,
        summary:
          'Generate a completion (Pro). With `stream: true` the answer is text/event-stream: start, delta…, done | error',
        body: aiGenerateRequest,
        response: { 200: successEnvelope(aiGenerateResponse), ...errors },
      },
    },
    async (request, reply) => {
      const auth = requirePro(request);
      const caller = callerOf(auth);
      const signal = clientGone(reply);
      const ctx = contextOf(request);
      if (!request.body.stream) return ok(await generate(ctx, caller, request.body, signal));

      // Refusals and a provider failing before its first token still answer with a status code.
      const started = await startStream(ctx, caller, request.body, signal);
      reply.hijack();
      const raw = reply.raw;
      // Hijacked: the headers the hooks set (security, CORS, request id, cookies) are ours to send.
      const headers: OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(reply.getHeaders())) {
        if (value !== undefined) headers[name] = value;
      }
      raw.writeHead(200, {
        ...headers,
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        'x-accel-buffering': 'no',
      });
      const send = (event: string, data: unknown) => {
        if (!raw.destroyed && !raw.writableEnded)
          raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      };
      send('start', { id: started.id, model: started.model });
      try {
        // Drained to the end even after a disconnect: the last step records the outcome.
        for await (const event of started.events as AsyncIterable<StreamEvent>) send(event.event, event.data);
      } catch (error) {
        request.log.error({ err: error, aiRequestId: started.id }, 'ai stream failed');
        send('error', { code: 'INTERNAL_ERROR', error: 'Something went wrong on our side.' });
      } finally {
        if (!raw.writableEnded) raw.end();
      }
      return reply;
    },
  );

  routes.get(
    '/api/ai/history',
    {
      schema: {
        tags,
        summary:
          "The caller's own AI requests in the active workspace, newest first (cursor pagination; Pro)",
        querystring: aiHistoryQuery,
        response: { 200: successEnvelope(aiHistoryResponse), ...errors },
      },
    },
    async (request) => {
      const { user, workspace } = requirePro(request);
      return ok(await history(shared.db, { userId: user.id, organizationId: workspace.id }, request.query));
    },
  );
}
