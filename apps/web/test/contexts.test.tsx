import { act, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, test } from 'vitest';
import {
  AI_STATUS,
  billingStatus,
  fail,
  fakeApi,
  ok,
  PRO_STATUS,
  profile,
  UNAUTHENTICATED,
} from './fake-api.ts';
import { renderApp } from './render.tsx';

describe('AuthContext', () => {
  test('restores the session on load with GET /api/profile/', async () => {
    fakeApi({ 'GET /api/profile/': ok(profile()), 'GET /api/billing/status/': ok(billingStatus()) });
    renderApp('/');
    expect(await screen.findByRole('heading', { level: 1, name: 'Welcome back, Ada' })).toBeInTheDocument();
    const nav = screen.getByRole('navigation', { name: 'Main' });
    expect(nav).toHaveTextContent('Ada Lovelace');
    expect(nav).toHaveTextContent('Free');
  });

  test('a visitor gets the landing page with the pricing teaser', async () => {
    fakeApi({ 'GET /api/profile/': UNAUTHENTICATED });
    renderApp('/');
    expect(await screen.findByRole('heading', { level: 1, name: /Ship the product/ })).toBeInTheDocument();
    expect(await screen.findByRole('heading', { name: 'Pro' })).toBeInTheDocument();
    expect(screen.getAllByText('14-day free trial').length).toBeGreaterThan(0);
    expect(screen.getByRole('link', { name: 'Sign in' })).toBeInTheDocument();
  });

  test('a login-required page sends a visitor to sign in, and back after it', async () => {
    fakeApi({
      'GET /api/profile/': UNAUTHENTICATED,
      'POST /api/login/': ok(profile()),
      'GET /api/billing/status/': ok(billingStatus()),
    });
    const user = userEvent.setup();
    renderApp('/settings');
    expect(await screen.findByText('Sign in to continue.')).toBeInTheDocument();
    expect(screen.getByTestId('location')).toHaveTextContent('/login?next=%2Fsettings');
    await user.type(screen.getByLabelText('Email'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), 'Correct-Horse-42');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Account settings' })).toBeInTheDocument();
  });

  test('a 401 from any request clears the user and the page asks to sign in', async () => {
    const api = fakeApi({
      'GET /api/profile/': ok(profile()),
      'GET /api/billing/status/': ok(billingStatus()),
      'POST /api/sessions/revoke-others/': UNAUTHENTICATED,
    });
    const user = userEvent.setup();
    renderApp('/settings');
    await screen.findByRole('heading', { level: 1, name: 'Account settings' });
    api.set('GET /api/profile/', UNAUTHENTICATED);
    await user.click(screen.getByRole('button', { name: 'Sign out of all other sessions' }));
    expect(await screen.findByText('Sign in to continue.')).toBeInTheDocument();
    expect(screen.getByTestId('location')).toHaveTextContent('/login?next=%2Fsettings');
    expect(screen.getByRole('navigation', { name: 'Main' })).not.toHaveTextContent('Ada Lovelace');
  });

  test('signing out returns to the landing page', async () => {
    fakeApi({
      'GET /api/profile/': ok(profile()),
      'GET /api/billing/status/': ok(billingStatus()),
      'POST /api/logout/': ok({ message: 'Signed out.' }),
    });
    const user = userEvent.setup();
    renderApp('/settings');
    await screen.findByRole('heading', { level: 1, name: 'Account settings' });
    await user.click(screen.getByRole('button', { name: 'Sign out' }));
    expect(await screen.findByRole('heading', { level: 1, name: /Ship the product/ })).toBeInTheDocument();
    expect(screen.getByTestId('location')).toHaveTextContent(/^\/$/);
  });
});

describe('SubscriptionContext', () => {
  test('a free user sees the upgrade prompt on the Pro page', async () => {
    const { calls } = fakeApi({
      'GET /api/profile/': ok(profile()),
      'GET /api/billing/status/': ok(billingStatus()),
    });
    renderApp('/pro');
    expect(
      await screen.findByRole('heading', { name: 'The AI assistant is part of Pro' }),
    ).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'See plans and upgrade' })).toHaveAttribute('href', '/pricing');
    expect(calls.some((call) => call.path.startsWith('/api/ai/'))).toBe(false);
  });

  test('a Pro user gets the assistant; the plan shows in the navigation', async () => {
    fakeApi({
      'GET /api/profile/': ok(profile({ isPro: true })),
      'GET /api/billing/status/': ok(PRO_STATUS),
      'GET /api/ai/status/': ok(AI_STATUS),
      'GET /api/ai/history/': ok({ items: [], nextCursor: null }),
    });
    renderApp('/pro');
    expect(await screen.findByLabelText('Your prompt')).toBeInTheDocument();
    expect(screen.getByRole('meter', { name: 'Requests' })).toHaveAttribute('aria-valuenow', '3');
    expect(await screen.findByText('No requests yet')).toBeInTheDocument();
    expect(screen.getByRole('navigation', { name: 'Main' })).toHaveTextContent(/Plan: Pro/);
  });

  test('SUBSCRIPTION_INACTIVE from the server leads to pricing, whatever the screen thought', async () => {
    fakeApi({
      'GET /api/profile/': ok(profile({ isPro: true })),
      'GET /api/billing/status/': ok(PRO_STATUS),
      'GET /api/ai/status/': fail(403, 'SUBSCRIPTION_INACTIVE', 'An active Pro subscription is required.'),
      'GET /api/ai/history/': ok({ items: [], nextCursor: null }),
    });
    renderApp('/pro');
    expect(
      await screen.findByRole('heading', { level: 1, name: 'Pick the plan that fits' }),
    ).toBeInTheDocument();
    expect(screen.getByTestId('location')).toHaveTextContent('/pricing?reason=pro');
  });

  test('billing shows the past-due banner with a link to fix the card', async () => {
    fakeApi({
      'GET /api/profile/': ok(profile({ isPro: true })),
      'GET /api/billing/status/': ok({
        ...PRO_STATUS,
        status: 'past_due',
        pastDueGraceEnd: '2026-12-16T00:00:00.000Z',
      }),
      'GET /api/invoices/': ok({
        invoices: [
          {
            id: 'in_1',
            number: 'ABC-0002',
            status: 'open',
            amountDue: 1900,
            amountPaid: 0,
            total: 1900,
            currency: 'usd',
            created: '2026-12-09T00:00:00.000Z',
            hostedInvoiceUrl: 'https://invoice.example/in_1',
            invoicePdf: 'https://invoice.example/in_1.pdf',
          },
        ],
        hasMore: false,
        nextCursor: null,
      }),
    });
    renderApp('/billing');
    const banner = await screen.findByRole('alert');
    expect(banner).toHaveTextContent('Your last payment failed');
    expect(banner).toHaveTextContent('December 16, 2026');
    expect(screen.getByRole('link', { name: 'Fix your card' })).toHaveAttribute(
      'href',
      '/api/stripe/portal/',
    );
    expect((await screen.findAllByRole('link', { name: 'PDF of invoice ABC-0002' }))[0]).toHaveAttribute(
      'href',
      'https://invoice.example/in_1.pdf',
    );
  });

  test('billing shows each invoice in its own currency: yen are whole, dollars are cents', async () => {
    const invoice = {
      status: 'paid',
      amountPaid: 0,
      created: '2026-12-09T00:00:00.000Z',
      hostedInvoiceUrl: null,
      invoicePdf: null,
    };
    fakeApi({
      'GET /api/profile/': ok(profile({ isPro: true })),
      'GET /api/billing/status/': ok(PRO_STATUS),
      'GET /api/invoices/': ok({
        invoices: [
          { ...invoice, id: 'in_jpy', number: 'JPY-0001', amountDue: 1200, total: 1200, currency: 'jpy' },
          { ...invoice, id: 'in_usd', number: 'USD-0001', amountDue: 1950, total: 1950, currency: 'usd' },
        ],
        hasMore: false,
        nextCursor: null,
      }),
    });
    renderApp('/billing');
    // Both the phone list and the table show the total; ¥12 would be reading yen as cents.
    expect((await screen.findAllByText('¥1,200')).length).toBeGreaterThan(0);
    expect(screen.queryByText('¥12')).not.toBeInTheDocument();
    expect(screen.getAllByText('$19.50').length).toBeGreaterThan(0);
  });

  test('checkout return shows "activating", syncs, then the truth', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { calls } = fakeApi({
      'GET /api/profile/': ok(profile()),
      'GET /api/billing/status/': ok(billingStatus()),
      'POST /api/billing/sync/': async () => {
        await gate;
        return ok({ ...PRO_STATUS, status: 'trialing', trialEnd: '2026-12-09T00:00:00.000Z' });
      },
    });
    renderApp('/checkout/return?session_id=cs_test_123');
    expect(
      await screen.findByRole('heading', { level: 1, name: 'Activating your subscription…' }),
    ).toBeInTheDocument();
    await act(async () => release());
    expect(await screen.findByRole('heading', { level: 1, name: 'Welcome to Pro' })).toBeInTheDocument();
    expect(screen.getByText(/free trial runs until December 9, 2026/)).toBeInTheDocument();
    expect(calls.find((call) => call.path === '/api/billing/sync/')?.body).toEqual({
      sessionId: 'cs_test_123',
    });
    await waitFor(() =>
      expect(screen.getByRole('navigation', { name: 'Main' })).toHaveTextContent(/Plan: Pro/),
    );
  });

  test('a canceled checkout says nothing was charged', async () => {
    const { calls } = fakeApi({
      'GET /api/profile/': ok(profile()),
      'GET /api/billing/status/': ok(billingStatus()),
    });
    renderApp('/checkout/return?canceled=1');
    expect(await screen.findByRole('heading', { level: 1, name: 'Checkout canceled' })).toBeInTheDocument();
    expect(screen.getByText(/No charge was made/)).toBeInTheDocument();
    expect(calls.some((call) => call.path === '/api/billing/sync/')).toBe(false);
  });
});

describe('navigation', () => {
  test('after a route change, focus moves to the new page’s heading', async () => {
    fakeApi({ 'GET /api/profile/': UNAUTHENTICATED });
    const user = userEvent.setup();
    renderApp('/login');
    await screen.findByRole('heading', { level: 1, name: 'Sign in' });
    await user.click(screen.getByRole('link', { name: 'Create an account' }));
    const heading = await screen.findByRole('heading', { level: 1, name: 'Create your account' });
    await waitFor(() => expect(heading).toHaveFocus());
    expect(document.title).toBe('Create your account · Tierbase');
  });

  test('an unknown address shows the 404 page inside the app', async () => {
    fakeApi({ 'GET /api/profile/': UNAUTHENTICATED });
    renderApp('/no/such/page');
    expect(await screen.findByRole('heading', { level: 1, name: 'Page not found' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Go home' })).toHaveAttribute('href', '/');
  });
});
