import { type FastifyReply, type FastifyRequest, type FastifyServerOptions, LogController } from 'fastify';

const EMAIL = /[A-Z0-9._%+-]+@[A-Z0-9.-]+\.[A-Z]{2,}/gi;
// Drizzle's query errors quote the bound values ("Failed query: …\nparams: a@b.c,token…"), and
// those values are user data: passwords hashes, tokens, addresses. Only the SQL is kept.
const QUERY_PARAMS = /\nparams: [^\n]*/g;

/** Removes query parameters and anything that looks like an email address from text bound for the logs. */
export function scrubPersonalData(text: string): string {
  return text.replace(QUERY_PARAMS, '\nparams: [redacted]').replace(EMAIL, '[email]');
}

/** Paths only: query strings can carry tokens (verification and reset links). */
function pathOnly(url: string | undefined): string | undefined {
  return url?.split('?')[0];
}

/**
 * pino options for the server. Request logs carry method, path, status and timing, never bodies,
 * query strings, cookies or authorization headers; error logs carry the message and stack with
 * email addresses scrubbed.
 */
export function loggerOptions(level: string, stream?: NodeJS.WritableStream): FastifyServerOptions['logger'] {
  return {
    level,
    ...(stream ? { stream } : {}),
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.headers["x-csrftoken"]',
        'res.headers["set-cookie"]',
        '*.password',
        '*.token',
        '*.email',
      ],
      censor: '[redacted]',
    },
    serializers: {
      req(request: { method: string; url?: string; id: string; ip?: string }) {
        return { method: request.method, path: pathOnly(request.url), requestId: request.id };
      },
      res(reply: { statusCode: number }) {
        return { statusCode: reply.statusCode };
      },
      err(error: Error & { code?: unknown; statusCode?: unknown }) {
        return {
          type: error.name,
          code: typeof error.code === 'string' ? error.code : undefined,
          statusCode: typeof error.statusCode === 'number' ? error.statusCode : undefined,
          message: scrubPersonalData(String(error.message)),
          stack: scrubPersonalData(error.stack ?? ''),
        };
      },
    },
  };
}

/**
 * One line per request, when it completes, carrying method, path, status and time, instead of
 * Fastify's two (incoming, completed): half the log volume on the hot path, the same information.
 */
export class OneLinePerRequest extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const line = { req: request, res: reply, responseTime: Math.round(reply.elapsedTime) };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request completed');
  }
}
