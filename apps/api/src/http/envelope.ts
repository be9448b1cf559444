import {
  type ErrorCode,
  type ErrorEnvelope,
  errorEnvelopeSchema,
  type FieldErrors,
} from '@tierbase/contracts';
import type { FastifyReply } from 'fastify';

/** A route schema's error answers: the envelope, under each status the route can answer with. */
export function errorResponses<S extends number>(...statuses: S[]): Record<S, typeof errorEnvelopeSchema> {
  return Object.fromEntries(statuses.map((status) => [status, errorEnvelopeSchema])) as Record<
    S,
    typeof errorEnvelopeSchema
  >;
}

export function ok<T>(data: T): { success: true; data: T } {
  return { success: true, data };
}

export function errorBody(
  status: number,
  code: ErrorCode,
  error: string,
  details?: FieldErrors,
  links?: Record<string, string>,
): ErrorEnvelope {
  return {
    success: false,
    error,
    code,
    status,
    ...(details ? { details } : {}),
    ...(links ? { links } : {}),
  };
}

export function sendError(
  reply: FastifyReply,
  status: number,
  code: ErrorCode,
  message: string,
  details?: FieldErrors,
  links?: Record<string, string>,
): FastifyReply {
  return reply
    .code(status)
    .type('application/json; charset=utf-8')
    .send(errorBody(status, code, message, details, links));
}
