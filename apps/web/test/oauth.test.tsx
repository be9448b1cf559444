import { screen, waitFor } from '@testing-library/react';
import { OAUTH_ERROR_MESSAGES } from '@tierbase/contracts';
import { describe, expect, test } from 'vitest';
import { billingStatus, fakeApi, ok, profile, UNAUTHENTICATED } from './fake-api.ts';
import { renderApp } from './render.tsx';

const BOTH = ok({
  providers: [
    { id: 'github', name: 'GitHub' },
    { id: 'google', name: 'Google' },
  ],
});

describe('OAuth sign-in buttons', () => {
  test('the sign-in page offers each configured provider, carrying where the visitor was headed', async () => {
    fakeApi({ 'GET /api/profile/': UNAUTHENTICATED, 'GET /api/auth/providers/': BOTH });
    renderApp('/login?next=%2Fbilling');
    const google = await screen.findByRole('link', { name: 'Continue with Google' });
    expect(google).toHaveAttribute('href', '/api/auth/oauth/google/start?next=%2Fbilling');
    expect(screen.getByRole('link', { name: 'Continue with GitHub' })).toHaveAttribute(
      'href',
      '/api/auth/oauth/github/start?next=%2Fbilling',
    );
  });

  test('shows only the providers the server lists, and none when it lists none', async () => {
    const api = fakeApi({
      'GET /api/profile/': UNAUTHENTICATED,
      'GET /api/auth/providers/': ok({ providers: [{ id: 'google', name: 'Google' }] }),
    });
    const first = renderApp('/register');
    expect(await screen.findByRole('link', { name: 'Continue with Google' })).toHaveAttribute(
      'href',
      '/api/auth/oauth/google/start?next=%2F',
    );
    expect(screen.queryByRole('link', { name: 'Continue with GitHub' })).not.toBeInTheDocument();
    first.unmount();

    api.set('GET /api/auth/providers/', ok({ providers: [] }));
    const second = renderApp('/login');
    expect(await screen.findByRole('button', { name: 'Sign in' })).toBeInTheDocument();
    await waitFor(() =>
      expect(api.calls.filter((call) => call.path === '/api/auth/providers/')).toHaveLength(2),
    );
    // The empty answer has arrived and rendered (waitFor flushes React's update).
    await waitFor(() =>
      expect(second.queryClient.getQueryState(['oauth-providers'])?.status).toBe('success'),
    );
    expect(screen.queryByRole('link', { name: /Continue with/ })).not.toBeInTheDocument();
  });

  test('the sign-in page says why an OAuth sign-in failed', async () => {
    fakeApi({ 'GET /api/profile/': UNAUTHENTICATED, 'GET /api/auth/providers/': BOTH });
    renderApp('/login?error=oauth_account_not_linked');
    expect(await screen.findByRole('alert')).toHaveTextContent(OAUTH_ERROR_MESSAGES.oauth_account_not_linked);
  });

  test('an unknown error code shows nothing', async () => {
    fakeApi({ 'GET /api/profile/': UNAUTHENTICATED, 'GET /api/auth/providers/': BOTH });
    renderApp('/login?error=%3Cscript%3E');
    await screen.findByRole('link', { name: 'Continue with Google' });
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });
});

describe('sign-in methods in Settings', () => {
  test('lists the password and the linked providers, and how to add a password', async () => {
    fakeApi({
      'GET /api/profile/': ok(profile()),
      'GET /api/billing/status/': ok(billingStatus()),
      'GET /api/auth/methods/': ok({ password: false, providers: [{ id: 'google', name: 'Google' }] }),
    });
    renderApp('/settings');
    const card = await screen.findByRole('region', { name: 'Sign-in methods' });
    expect(card).toHaveTextContent('PasswordNot set');
    expect(card).toHaveTextContent('GoogleConnected');
    expect(card).toHaveTextContent('use “Forgot your password?”');
  });
});
