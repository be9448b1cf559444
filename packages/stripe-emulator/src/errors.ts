/** An error that is answered with Stripe's envelope: `{ error: { type, code, message, param } }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly code?: string,
    readonly param?: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }

  toBody(requestId: string): { error: Record<string, unknown> } {
    const error: Record<string, unknown> = { type: this.type, message: this.message, ...this.extra };
    if (this.code) error.code = this.code;
    if (this.param) error.param = this.param;
    error.request_log_url = `https://dashboard.stripe.com/test/logs/${requestId}`;
    return { error };
  }
}

export function invalidRequest(message: string, param?: string, code?: string): ApiError {
  return new ApiError(
    400,
    'invalid_request_error',
    message,
    code ?? (param ? 'parameter_invalid' : undefined),
    param,
  );
}

export function missingParam(param: string): ApiError {
  return new ApiError(
    400,
    'invalid_request_error',
    `Missing required param: ${param}.`,
    'parameter_missing',
    param,
  );
}

export function noSuch(kind: string, id: string, param = 'id'): ApiError {
  return new ApiError(404, 'invalid_request_error', `No such ${kind}: '${id}'`, 'resource_missing', param);
}

export function cardError(message: string, declineCode: string, code = 'card_declined'): ApiError {
  return new ApiError(402, 'card_error', message, code, undefined, { decline_code: declineCode });
}
