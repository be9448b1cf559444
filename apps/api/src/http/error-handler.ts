import type { Socket } from 'node:net';
import { ErrorCode, type FieldErrors } from '@tierbase/contracts';
import type { ConnectionError, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import FindMyWay from 'find-my-way';
import { isDatabaseUnavailable } from '../db/client.ts';
import { AppError } from '../errors.ts';
import { errorBody, sendError } from './envelope.ts';

const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** Field errors from the zod validator's issues, keyed by dotted path ("" for the body itself). */
function fieldErrors(
  validation: { instancePath: string; message?: string; keyword: string; params: Record<string, unknown> }[],
  context: string,
): FieldErrors {
  const details: FieldErrors = {};
  const add = (field: string, message: string) => {
    const list = details[field] ?? [];
    list.push(message);
    details[field] = list;
  };
  for (const issue of validation) {
    const field = issue.instancePath.replace(/^\//, '').replaceAll('/', '.');
    if (issue.keyword === 'unrecognized_keys' && Array.isArray(issue.params.keys)) {
      for (const key of issue.params.keys)
        add(field ? `${field}.${String(key)}` : String(key), 'Unknown field.');
      continue;
    }
    add(field || context, issue.message ?? 'Invalid value.');
  }
  return details;
}

/**
 * One place turns every failure into the seed's envelope. Known conditions get their stable code;
 * anything unexpected is logged with its stack and answered with a bare 500.
 */
export function registerErrorHandling(app: FastifyInstance): void {
  // Once close() has begun, a request still arriving (on a connection that was busy when the
  // server stopped accepting) is told to go elsewhere. Fastify's own fast path for this answers
  // outside the envelope, so the app is built with `return503OnClosing: false` and answers here.
  let draining = false;
  app.addHook('preClose', async () => {
    draining = true;
  });
  // Callback hooks, here and below: they run on every request, and an async one costs a promise
  // and a turn of the microtask queue each time.
  app.addHook('onRequest', (request, reply, done) => {
    if (!draining) return done();
    reply.header('X-Request-ID', request.id).header('Retry-After', '5');
    // A reply sent from a callback hook ends the request there: `done` is not called.
    sendError(reply, 503, ErrorCode.SERVICE_UNAVAILABLE, 'The server is shutting down. Try again.');
  });
  // Every answer sent while closing (a request in flight when shutdown began included) asks the
  // client to close the connection: Node would otherwise keep it open and idle for the keep-alive
  // timeout (72 s), close() would wait for it past the drain deadline, and the process would be
  // killed instead of exiting cleanly.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (draining) reply.header('Connection', 'close');
    done(null, payload);
  });

  // A second router that only knows which paths exist, to tell 405 from 404.
  const known = FindMyWay({ ignoreTrailingSlash: true });
  app.addHook('onRoute', (route) => {
    // The SPA's catch-all GET would make every path look known.
    if (route.url === '/*') return;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (!(HTTP_METHODS as readonly string[]).includes(method)) continue;
      if (!known.hasRoute(method as (typeof HTTP_METHODS)[number], route.url)) {
        known.on(method as (typeof HTTP_METHODS)[number], route.url, () => {});
      }
    }
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const allowed = HTTP_METHODS.filter((method) => known.find(method, path) !== null);
    if (allowed.length > 0) {
      reply.header('Allow', allowed.join(', '));
      return sendError(reply, 405, ErrorCode.METHOD_NOT_ALLOWED, `Method "${request.method}" not allowed.`);
    }
    return sendError(reply, 404, ErrorCode.NOT_FOUND, 'Not found.');
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof AppError) {
      if (error.headers) reply.headers(error.headers);
      return sendError(reply, error.status, error.code, error.message, error.details, error.links);
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const details = fieldErrors(error.validation, error.validationContext ?? 'body');
      return sendError(reply, 400, ErrorCode.VALIDATION_ERROR, 'Some fields are invalid.', details);
    }
    switch (error.code) {
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return sendError(reply, 400, ErrorCode.INVALID_JSON, 'The request body is not valid JSON.');
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return sendError(reply, 413, ErrorCode.PAYLOAD_TOO_LARGE, 'The request body is too large.');
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
        return sendError(
          reply,
          415,
          ErrorCode.UNSUPPORTED_MEDIA_TYPE,
          'Send the request body as application/json.',
        );
    }
    if (error instanceof SyntaxError && error.statusCode === 400) {
      return sendError(reply, 400, ErrorCode.INVALID_JSON, 'The request body is not valid JSON.');
    }
    if (error.statusCode === 429) {
      return sendError(reply, 429, ErrorCode.RATE_LIMITED, error.message);
    }
    if (isDatabaseUnavailable(error)) {
      request.log.warn({ err: error }, 'database unavailable');
      reply.header('Retry-After', '5');
      return sendError(reply, 503, ErrorCode.SERVICE_UNAVAILABLE, 'The service is temporarily unavailable.');
    }
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      return sendError(
        reply,
        error.statusCode,
        ErrorCode.VALIDATION_ERROR,
        'The request could not be processed.',
      );
    }
    request.log.error({ err: error }, 'unhandled error');
    app.errorReporter.report(error, {
      requestId: request.id,
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
    });
    return sendError(reply, 500, ErrorCode.INTERNAL_ERROR, 'Something went wrong on our side.');
  });
}

/**
 * Fastify's `frameworkErrors`: what the router refuses before any route or hook runs (a path
 * parameter longer than `maxParamLength`, a URL that does not decode), in the envelope. No hook
 * has run, so the request id is set here.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  reply.header('X-Request-ID', request.id);
  switch (error.code) {
    case 'FST_ERR_MAX_PARAM_LENGTH':
      sendError(reply, 414, ErrorCode.URI_TOO_LONG, 'A part of the URL is too long.');
      return;
    case 'FST_ERR_BAD_URL':
      sendError(reply, 400, ErrorCode.VALIDATION_ERROR, 'The URL is not valid.');
      return;
  }
  request.log.error({ err: error }, 'unhandled framework error');
  sendError(reply, 500, ErrorCode.INTERNAL_ERROR, 'Something went wrong on our side.');
}

/**
 * Fastify's `clientErrorHandler`: what Node's HTTP parser refuses (a malformed request, headers
 * over the size limit, a request that took too long to arrive) never becomes a request; it is
 * answered on the socket, still in the envelope, and the connection closed.
 */
export function clientErrorHandler(error: ConnectionError, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, code, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [
          431,
          'Request Header Fields Too Large',
          ErrorCode.PAYLOAD_TOO_LARGE,
          'The request headers are too large.',
        ]
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', ErrorCode.VALIDATION_ERROR, 'The request took too long to arrive.']
        : [400, 'Bad Request', ErrorCode.VALIDATION_ERROR, 'The request is not valid HTTP.'];
  const body = JSON.stringify(errorBody(status, code, message));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
