import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, test } from 'vitest';
import { billingStatus, fail, fakeApi, ok, profile, UNAUTHENTICATED } from './fake-api.ts';
import { renderApp } from './render.tsx';

/** A promise the test resolves when it wants the server to answer. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

describe('sign-in form', () => {
  test('disables while submitting, then goes where the visitor was headed', async () => {
    const answer = deferred<ReturnType<typeof ok>>();
    const { calls } = fakeApi({
      'GET /api/profile/': UNAUTHENTICATED,
      'POST /api/login/': () => answer.promise,
      'GET /api/billing/status/': ok(billingStatus()),
      'GET /api/invoices/': ok({ invoices: [], hasMore: false, nextCursor: null }),
    });
    const user = userEvent.setup();
    renderApp('/login?next=%2Fbilling');

    await user.type(await screen.findByLabelText('Email'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), 'Correct-Horse-42');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));

    const button = await screen.findByRole('button', { name: 'Signing in…' });
    expect(button).toBeDisabled();
    expect(calls.find((call) => call.path === '/api/login/')?.body).toEqual({
      email: 'ada@example.com',
      password: 'Correct-Horse-42',
    });

    answer.resolve(ok(profile()));
    expect(await screen.findByRole('heading', { level: 1, name: 'Billing' })).toBeInTheDocument();
    expect(screen.getByTestId('location')).toHaveTextContent('/billing');
    expect(await screen.findByText('No invoices yet')).toBeInTheDocument();
  });

  test('a wrong password shows the server’s message; too many tries say when to retry', async () => {
    const api = fakeApi({
      'GET /api/profile/': UNAUTHENTICATED,
      'POST /api/login/': fail(401, 'INVALID_CREDENTIALS', 'Invalid email or password.'),
    });
    const user = userEvent.setup();
    renderApp('/login');
    await user.type(await screen.findByLabelText('Email'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), 'wrong');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Invalid email or password.');

    api.set(
      'POST /api/login/',
      fail(429, 'RATE_LIMITED', 'Too many requests.', {}, { 'Retry-After': '840' }),
    );
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Too many attempts. Try again in 14 minutes.');
  });

  test('an open redirect in ?next= is ignored', async () => {
    fakeApi({
      'GET /api/profile/': UNAUTHENTICATED,
      'POST /api/login/': ok(profile()),
      'GET /api/billing/status/': ok(billingStatus()),
    });
    const user = userEvent.setup();
    renderApp('/login?next=%2F%2Fevil.example.com');
    await user.type(await screen.findByLabelText('Email'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), 'Correct-Horse-42');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Welcome back, Ada' })).toBeInTheDocument();
    expect(screen.getByTestId('location')).toHaveTextContent(/^\/$/);
  });
});

describe('sign-up form', () => {
  test('validation details from the server land on their fields', async () => {
    fakeApi({
      'GET /api/profile/': UNAUTHENTICATED,
      'POST /api/register/': fail(400, 'VALIDATION_ERROR', 'The password is not strong enough.', {
        details: { password: ['This password is entirely numeric.'] },
      }),
    });
    const user = userEvent.setup();
    renderApp('/register');
    await user.type(await screen.findByLabelText('Email'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), '12345678');
    await user.click(screen.getByRole('button', { name: 'Create account' }));

    const password = screen.getByLabelText('Password');
    await waitFor(() => expect(password).toHaveAttribute('aria-invalid', 'true'));
    expect(password).toHaveAccessibleDescription('This password is entirely numeric.');
    expect(screen.getByLabelText('Email')).not.toHaveAttribute('aria-invalid');
    expect(screen.getByRole('alert')).toHaveTextContent('Please correct the highlighted fields.');
  });

  test('ends on "check your email" with the server’s message, signed out', async () => {
    const { calls } = fakeApi({
      'GET /api/profile/': UNAUTHENTICATED,
      'POST /api/register/': ok(
        { message: 'Check your email: we have sent a link to finish signing up.' },
        202,
      ),
    });
    const user = userEvent.setup();
    renderApp('/register');
    await user.type(await screen.findByLabelText('Email'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), 'Correct-Horse-42');
    await user.click(screen.getByRole('button', { name: 'Create account' }));

    expect(await screen.findByRole('heading', { level: 1, name: 'Check your email' })).toBeInTheDocument();
    expect(screen.getByText('ada@example.com')).toBeInTheDocument();
    expect(screen.getByText(/we have sent a link to finish signing up/)).toBeInTheDocument();
    expect(screen.getByTestId('location')).toHaveTextContent(/^\/register$/);
    expect(calls.find((call) => call.path === '/api/register/')?.body).toEqual({
      email: 'ada@example.com',
      password: 'Correct-Horse-42',
    });
    // Nothing says whether the address already had an account, and no one is signed in.
    expect(screen.queryByRole('link', { name: 'Sign out' })).not.toBeInTheDocument();
  });
});

describe('verify-email link', () => {
  test('reads the token from the fragment, strips it, and lands the signed-in user in the app', async () => {
    let verified = false;
    const { calls } = fakeApi({
      'GET /api/profile/': () => (verified ? ok(profile()) : UNAUTHENTICATED),
      'POST /api/verify-email/': () => {
        verified = true;
        return ok({ message: 'Your email address is verified.' });
      },
      'GET /api/billing/status/': ok(billingStatus()),
    });
    renderApp('/verify-email#token=from-the-fragment');
    expect(await screen.findByRole('heading', { level: 1, name: 'Welcome back, Ada' })).toBeInTheDocument();
    expect(screen.getByTestId('location')).toHaveTextContent(/^\/$/);
    expect(calls.filter((call) => call.path === '/api/verify-email/').map((call) => call.body)).toEqual([
      { token: 'from-the-fragment' },
    ]);
  });
});

describe('reset-password form', () => {
  test('reads the token from the fragment of the emailed link and takes it out of the address bar', async () => {
    const { calls } = fakeApi({
      'GET /api/profile/': UNAUTHENTICATED,
      'POST /api/password-reset/confirm/': ok({ message: 'Your password has been reset.' }),
    });
    const user = userEvent.setup();
    renderApp('/reset-password#token=tok_fragment');
    await waitFor(() => expect(screen.getByTestId('location')).toHaveTextContent(/^\/reset-password$/));
    await user.type(await screen.findByLabelText('New password'), 'Correct-Horse-42');
    await user.type(screen.getByLabelText('Confirm new password'), 'Correct-Horse-42');
    await user.click(screen.getByRole('button', { name: 'Set new password' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Password changed' })).toBeInTheDocument();
    expect(calls.find((call) => call.path === '/api/password-reset/confirm/')?.body).toEqual({
      token: 'tok_fragment',
      password: 'Correct-Horse-42',
    });
  });

  test('two different passwords are caught before anything is sent', async () => {
    const { calls } = fakeApi({ 'GET /api/profile/': UNAUTHENTICATED });
    const user = userEvent.setup();
    renderApp('/reset-password?token=abc');
    await user.type(await screen.findByLabelText('New password'), 'Correct-Horse-42');
    await user.type(screen.getByLabelText('Confirm new password'), 'Correct-Horse-43');
    await user.click(screen.getByRole('button', { name: 'Set new password' }));
    expect(screen.getByLabelText('Confirm new password')).toHaveAccessibleDescription(
      'The two passwords do not match.',
    );
    expect(calls.some((call) => call.path === '/api/password-reset/confirm/')).toBe(false);
  });

  test('an expired token leads to asking for a new link', async () => {
    const { calls } = fakeApi({
      'GET /api/profile/': UNAUTHENTICATED,
      'POST /api/password-reset/confirm/': fail(400, 'INVALID_TOKEN', 'This link is invalid or has expired.'),
    });
    const user = userEvent.setup();
    // A link sent before tokens moved to the fragment still works, and leaves the address bar too.
    renderApp('/reset-password?token=old');
    // The single-use token leaves the address bar at once, but is still what gets sent.
    await waitFor(() => expect(screen.getByTestId('location')).toHaveTextContent(/^\/reset-password$/));
    await user.type(await screen.findByLabelText('New password'), 'Correct-Horse-42');
    await user.type(screen.getByLabelText('Confirm new password'), 'Correct-Horse-42');
    await user.click(screen.getByRole('button', { name: 'Set new password' }));
    expect(
      await screen.findByRole('heading', { level: 1, name: 'This link does not work' }),
    ).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Send a new link' })).toHaveAttribute('href', '/forgot-password');
    expect(calls.find((call) => call.path === '/api/password-reset/confirm/')?.body).toEqual({
      token: 'old',
      password: 'Correct-Horse-42',
    });
  });
});

describe('settings forms', () => {
  test('a wrong current password is shown on that field; success clears the form', async () => {
    const api = fakeApi({
      'GET /api/profile/': ok(profile()),
      'GET /api/billing/status/': ok(billingStatus()),
      'POST /api/password-change/': fail(400, 'VALIDATION_ERROR', 'Some fields are invalid.', {
        details: { currentPassword: ['The current password is wrong.'] },
      }),
    });
    const user = userEvent.setup();
    renderApp('/settings');
    await user.type(await screen.findByLabelText('Current password'), 'nope');
    await user.type(screen.getByLabelText('New password'), 'Another-Strong-77');
    await user.type(screen.getByLabelText('Confirm new password'), 'Another-Strong-77');
    await user.click(screen.getByRole('button', { name: 'Change password' }));
    await waitFor(() =>
      expect(screen.getByLabelText('Current password')).toHaveAccessibleDescription(
        'The current password is wrong.',
      ),
    );

    api.set('POST /api/password-change/', ok({ message: 'Password changed.' }));
    await user.clear(screen.getByLabelText('Current password'));
    await user.type(screen.getByLabelText('Current password'), 'Correct-Horse-42');
    await user.click(screen.getByRole('button', { name: 'Change password' }));
    expect(await screen.findByText('Password changed.')).toBeInTheDocument();
    expect(screen.getByLabelText('Current password')).toHaveValue('');
  });

  test('the name form saves and the navigation shows the new name', async () => {
    fakeApi({
      'GET /api/profile/': ok(profile()),
      'GET /api/billing/status/': ok(billingStatus()),
      'PATCH /api/profile/': ({ body }) => ok(profile({ name: (body as { name: string }).name })),
    });
    const user = userEvent.setup();
    renderApp('/settings');
    const name = await screen.findByLabelText('Name');
    expect(screen.getByRole('button', { name: 'Save name' })).toBeDisabled();
    await user.clear(name);
    await user.type(name, 'Ada King');
    await user.click(screen.getByRole('button', { name: 'Save name' }));
    expect(await screen.findByText('Saved.')).toBeInTheDocument();
    expect(screen.getByRole('navigation', { name: 'Main' })).toHaveTextContent('Ada King');
  });
});

describe('pricing', () => {
  test('the yearly toggle picks the price sent to Checkout; already subscribed leads to the portal', async () => {
    const { calls } = fakeApi({
      'GET /api/profile/': ok(profile()),
      'GET /api/billing/status/': ok(billingStatus()),
      'POST /api/billing/checkout/': fail(409, 'ALREADY_SUBSCRIBED', 'You already have a subscription.', {
        links: { portal: '/api/stripe/portal/' },
      }),
    });
    const user = userEvent.setup();
    renderApp('/pricing');
    await user.click(await screen.findByRole('button', { name: /Yearly/ }));
    expect(screen.getByRole('button', { name: /Yearly/ })).toHaveAttribute('aria-pressed', 'true');
    expect(screen.getByText('$190')).toBeInTheDocument();
    expect(screen.getByText('Current plan')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Start 14-day free trial' }));
    expect(await screen.findByText('You already have a subscription')).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Manage billing' })).toHaveAttribute(
      'href',
      '/api/stripe/portal/',
    );
    expect(calls.find((call) => call.path === '/api/billing/checkout/')?.body).toEqual({
      plan: 'pro',
      interval: 'year',
    });
  });

  test('an account that already had its trial is not promised another', async () => {
    fakeApi({
      'GET /api/profile/': ok({ ...profile(), trialEnd: '2026-01-15T00:00:00.000Z' }),
      'GET /api/billing/status/': ok(billingStatus({ status: 'canceled', plan: 'pro' })),
    });
    renderApp('/pricing');
    expect(await screen.findByRole('button', { name: 'Upgrade to Pro' })).toBeEnabled();
    expect(screen.queryByText(/free trial/i)).not.toBeInTheDocument();
  });
});
