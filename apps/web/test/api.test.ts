import { describe, expect, test, vi } from 'vitest';
import { type AiStreamEvent, ApiError, api, readAiStream, setApiEvents } from '../src/api.ts';
import { errorMessage, fieldErrors, retryIn } from '../src/lib/errors.ts';
import { fail, fakeApi, ok, profile } from './fake-api.ts';

describe('the API client', () => {
  test('sends the CSRF token from /api/csrf/ on unsafe methods, and none on reads', async () => {
    const { calls } = fakeApi({
      'GET /api/profile/': ok(profile()),
      'PATCH /api/profile/': ok(profile({ name: 'Ada King' })),
    });
    await api.profile();
    await api.updateProfile('Ada King');
    expect(calls.map((call) => `${call.method} ${call.path}`)).toEqual([
      'GET /api/profile/',
      'GET /api/csrf/',
      'PATCH /api/profile/',
    ]);
    expect(calls[0]?.headers.get('X-CSRFToken')).toBeNull();
    expect(calls[2]?.headers.get('X-CSRFToken')).toBe('csrf-token-from-server');
    expect(calls[2]?.body).toEqual({ name: 'Ada King' });
  });

  test('on CSRF_FAILED it takes a fresh token and retries once', async () => {
    let attempts = 0;
    const { calls } = fakeApi({
      'POST /api/logout/': () =>
        ++attempts === 1
          ? fail(403, 'CSRF_FAILED', 'CSRF token missing or incorrect.')
          : ok({ message: 'Signed out.' }),
    });
    await expect(api.logout()).resolves.toEqual({ message: 'Signed out.' });
    expect(calls.filter((call) => call.path === '/api/csrf/')).toHaveLength(2);
    expect(attempts).toBe(2);
  });

  test('turns the error envelope into an ApiError with code, status, details and Retry-After', async () => {
    fakeApi({
      'POST /api/login/': fail(429, 'RATE_LIMITED', 'Too many requests.', {}, { 'Retry-After': '120' }),
    });
    const error = await api
      .login({ email: 'a@example.com', password: 'x' })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: 'RATE_LIMITED', status: 429, retryAfterSeconds: 120 });
    expect(errorMessage(error)).toBe('Too many attempts. Try again in 2 minutes.');
  });

  test('a 401 tells the app the session is gone; SUBSCRIPTION_INACTIVE tells it to show pricing', async () => {
    const onUnauthorized = vi.fn();
    const onSubscriptionInactive = vi.fn();
    const remove = setApiEvents({ onUnauthorized, onSubscriptionInactive });
    fakeApi({
      'GET /api/billing/status/': fail(401, 'AUTHENTICATION_REQUIRED', 'Authentication required.'),
      'GET /api/ai/status/': fail(403, 'SUBSCRIPTION_INACTIVE', 'Pro required.', {
        links: { pricing: '/pricing' },
      }),
    });
    await expect(api.billingStatus()).rejects.toMatchObject({ code: 'AUTHENTICATION_REQUIRED' });
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
    await expect(api.aiStatus()).rejects.toMatchObject({
      code: 'SUBSCRIPTION_INACTIVE',
      links: { pricing: '/pricing' },
    });
    expect(onSubscriptionInactive).toHaveBeenCalledTimes(1);
    remove();
  });

  test('a wrong password on login is not a lost session', async () => {
    const onUnauthorized = vi.fn();
    const remove = setApiEvents({ onUnauthorized });
    fakeApi({ 'POST /api/login/': fail(401, 'INVALID_CREDENTIALS', 'Invalid email or password.') });
    const error = await api
      .login({ email: 'a@example.com', password: 'x' })
      .catch((caught: unknown) => caught);
    expect(errorMessage(error)).toBe('Invalid email or password.');
    expect(onUnauthorized).not.toHaveBeenCalled();
    remove();
  });

  test('an unreachable server becomes NETWORK_ERROR with a sentence a person can act on', async () => {
    vi.stubGlobal('fetch', vi.fn().mockRejectedValue(new TypeError('Failed to fetch')));
    const error = await api.profile().catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'NETWORK_ERROR', status: 0 });
    expect(errorMessage(error)).toMatch(/could not reach the server/);
  });

  test('a non-JSON failure (a proxy error page) still becomes an ApiError', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn().mockResolvedValue(new Response('<html>Bad gateway</html>', { status: 502 })),
    );
    const error = await api.profile().catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'INTERNAL_ERROR', status: 502 });
    expect(errorMessage(error)).toBe('Something went wrong on our side. Please try again.');
  });
});

describe('error messages', () => {
  test('validation details become one message per field', () => {
    const error = new ApiError('VALIDATION_ERROR', 400, 'Some fields are invalid.', {
      details: { password: ['This password is entirely numeric.', 'Too easy.'], 'name.first': ['Too long.'] },
    });
    expect(fieldErrors(error)).toEqual({ password: 'This password is entirely numeric.', name: 'Too long.' });
    expect(errorMessage(error)).toBe('Please correct the highlighted fields.');
  });

  test('retry times read naturally', () => {
    expect(retryIn(1)).toBe('in 1 second');
    expect(retryIn(45)).toBe('in 45 seconds');
    expect(retryIn(61)).toBe('in 2 minutes');
    expect(retryIn(900)).toBe('in 15 minutes');
    expect(retryIn(3600)).toBe('in about an hour');
  });
});

describe('server-sent events', () => {
  test('reads the AI stream events however the chunks split them, skipping comments and others', async () => {
    const wire = [
      ': keep-alive\n\n',
      'event: start\ndata: {"requestId":"r1"}\n\nevent: del',
      'ta\ndata: {"text":"Hel"}\r\n\r',
      '\nevent: ping\ndata: {}\n\n',
      'event: done\ndata: {"usage":\ndata: 3}\n\n',
    ];
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array<ArrayBuffer>>({
      start(controller) {
        for (const chunk of wire) controller.enqueue(encoder.encode(chunk));
        controller.close();
      },
    });
    const events: AiStreamEvent[] = [];
    await readAiStream(body, (event) => events.push(event));
    expect(events).toEqual([
      { event: 'start', data: { requestId: 'r1' } },
      { event: 'delta', data: { text: 'Hel' } },
      { event: 'done', data: { usage: 3 } },
    ]);
  });
});
