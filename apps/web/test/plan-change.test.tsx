import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, test } from 'vitest';
import { billingStatus, fail, fakeApi, ok, profile } from './fake-api.ts';
import { renderApp } from './render.tsx';

const MONTHLY = billingStatus({
  status: 'active',
  plan: 'pro',
  interval: 'month',
  currentPeriodEnd: '2027-01-15T00:00:00.000Z',
  isPro: true,
  hasBillingAccount: true,
  aiUsage: null,
});
const YEARLY = { ...MONTHLY, interval: 'year', currentPeriodEnd: '2027-12-01T00:00:00.000Z' };

const PREVIEW = {
  interval: 'year',
  currency: 'usd',
  amountDue: 18_019,
  total: 18_019,
  lines: [
    { description: 'Unused time on Tierbase Pro after 1 Dec 2026', amount: -981, proration: true },
    { description: '1 × Tierbase Pro (at $190.00 / year)', amount: 19_000, proration: false },
  ],
  nextPaymentDate: '2027-12-01T00:00:00.000Z',
  nextPaymentAmount: 19_000,
  prorationDate: 1_796_083_200,
};

/** The billing page is loaded lazily: its first render in a busy run can take a while. */
const PAGE_LOAD = { timeout: 5000 };

function billingPage(routes: Parameters<typeof fakeApi>[0] = {}) {
  return fakeApi({
    'GET /api/profile/': ok(profile({ isPro: true })),
    'GET /api/billing/status/': ok(MONTHLY),
    'GET /api/invoices/': ok({ invoices: [], hasMore: false, nextCursor: null }),
    'POST /api/billing/plan-change/preview/': ok(PREVIEW),
    ...routes,
  });
}

describe('switching between monthly and yearly billing', () => {
  test('shows the prorated amount first, and charges only once the user confirms it', async () => {
    const api = billingPage({
      'POST /api/billing/plan-change/': ok({
        billing: YEARLY,
        invoice: { id: 'in_9', status: 'paid', total: 18_019, amountPaid: 18_019, currency: 'usd' },
      }),
    });
    const user = userEvent.setup();
    renderApp('/billing');
    await user.click(await screen.findByRole('button', { name: 'Switch to yearly billing' }, PAGE_LOAD));

    const panel = await screen.findByRole('region', { name: 'Switch to yearly billing' });
    expect(panel).toHaveTextContent('You will be charged $180.19 now (prorated');
    expect(panel).toHaveTextContent('Your next payment is $190.00 on December 1, 2027.');
    const lines = within(panel).getByRole('list', { name: 'What this charge is made of' });
    expect(
      within(lines)
        .getAllByRole('listitem')
        .map((item) => item.textContent),
    ).toEqual([
      'Unused time on Tierbase Pro after 1 Dec 2026-$9.81',
      '1 × Tierbase Pro (at $190.00 / year)$190.00',
    ]);
    expect(api.calls.filter((call) => call.path === '/api/billing/plan-change/')).toEqual([]);
    expect(api.calls.find((call) => call.path === '/api/billing/plan-change/preview/')?.body).toEqual({
      interval: 'year',
    });

    await user.click(within(panel).getByRole('button', { name: 'Confirm and pay $180.19' }));
    expect(
      await screen.findByText('You are now on yearly billing. $180.19 was charged.'),
    ).toBeInTheDocument();
    // The confirmation carries the preview's proration date, so the charge is the amount shown.
    expect(api.calls.filter((call) => call.path === '/api/billing/plan-change/').map((c) => c.body)).toEqual([
      { interval: 'year', prorationDate: PREVIEW.prorationDate },
    ]);
    await waitFor(() => expect(screen.getByText(/Yearly/)).toBeInTheDocument());
    expect(screen.getByRole('button', { name: 'Switch to monthly billing' })).toBeInTheDocument();
  });

  test('cancel leaves everything as it was', async () => {
    const api = billingPage();
    const user = userEvent.setup();
    renderApp('/billing');
    await user.click(await screen.findByRole('button', { name: 'Switch to yearly billing' }, PAGE_LOAD));
    const panel = await screen.findByRole('region', { name: 'Switch to yearly billing' });
    await user.click(within(panel).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('region', { name: 'Switch to yearly billing' })).not.toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Switch to yearly billing' })).toBeInTheDocument();
    expect(api.calls.filter((call) => call.path === '/api/billing/plan-change/')).toEqual([]);
  });

  test('an expired preview is fetched again and shown before anything is charged', async () => {
    let previews = 0;
    const api = billingPage({
      'POST /api/billing/plan-change/preview/': () => {
        previews += 1;
        return ok(
          previews === 1
            ? PREVIEW
            : { ...PREVIEW, amountDue: 18_050, total: 18_050, prorationDate: 1_796_090_000 },
        );
      },
      'POST /api/billing/plan-change/': fail(409, 'PREVIEW_EXPIRED', 'This price preview has expired.'),
    });
    const user = userEvent.setup();
    renderApp('/billing');
    await user.click(await screen.findByRole('button', { name: 'Switch to yearly billing' }, PAGE_LOAD));
    await user.click(await screen.findByRole('button', { name: 'Confirm and pay $180.19' }));
    expect(await screen.findByText(/The amount was updated since you opened this/)).toBeInTheDocument();
    expect(await screen.findByRole('button', { name: 'Confirm and pay $180.50' })).toBeInTheDocument();
    expect(api.calls.filter((call) => call.path === '/api/billing/plan-change/')).toHaveLength(1);
  });

  test('a declined card says nothing changed and links to the portal', async () => {
    billingPage({
      'POST /api/billing/plan-change/': fail(
        402,
        'PAYMENT_DECLINED',
        'Your card was declined, so nothing was changed. Update your payment method in the billing portal and try again.',
        { links: { portal: '/api/stripe/portal/' } },
      ),
    });
    const user = userEvent.setup();
    renderApp('/billing');
    await user.click(await screen.findByRole('button', { name: 'Switch to yearly billing' }, PAGE_LOAD));
    await user.click(await screen.findByRole('button', { name: 'Confirm and pay $180.19' }));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Your card was declined, so nothing was changed.');
    expect(within(alert).getByRole('link', { name: 'Update payment method' })).toHaveAttribute(
      'href',
      '/api/stripe/portal/',
    );
    expect(screen.getByText('Monthly', { exact: false })).toBeInTheDocument();
  });

  test('yearly to monthly with credit left: nothing is charged now', async () => {
    billingPage({
      'GET /api/billing/status/': ok(YEARLY),
      'POST /api/billing/plan-change/preview/': ok({
        ...PREVIEW,
        interval: 'month',
        amountDue: 0,
        total: -12_000,
        lines: [
          { description: 'Unused time on Tierbase Pro after 1 Dec 2026', amount: -13_900, proration: true },
          { description: '1 × Tierbase Pro (at $19.00 / month)', amount: 1_900, proration: false },
        ],
        nextPaymentDate: '2027-01-01T00:00:00.000Z',
        nextPaymentAmount: 0,
      }),
    });
    const user = userEvent.setup();
    renderApp('/billing');
    await user.click(await screen.findByRole('button', { name: 'Switch to monthly billing' }, PAGE_LOAD));
    const panel = await screen.findByRole('region', { name: 'Switch to monthly billing' });
    expect(panel).toHaveTextContent(
      'Nothing is charged now. The unused time on your current plan leaves $120.00 of credit',
    );
    expect(within(panel).getByRole('button', { name: 'Confirm the switch' })).toBeInTheDocument();
  });

  test('is not offered to a member who does not manage the team’s billing', async () => {
    const member = profile({ isPro: true });
    billingPage({
      'GET /api/profile/': ok({
        ...member,
        workspace: { ...member.workspace, personal: false, role: 'member' },
      }),
    });
    renderApp('/billing');
    expect(await screen.findByText('Renews on', {}, PAGE_LOAD)).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /Switch to/ })).not.toBeInTheDocument();
  });

  test('is not offered for a subscription set to end', async () => {
    billingPage({ 'GET /api/billing/status/': ok({ ...MONTHLY, cancelAtPeriodEnd: true }) });
    renderApp('/billing');
    expect(await screen.findByText('Your subscription is set to cancel', {}, PAGE_LOAD)).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /Switch to/ })).not.toBeInTheDocument();
  });
});
