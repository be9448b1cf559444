import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { AdminUser, AdminUserDetail } from '@tierbase/contracts';
import { describe, expect, test, vi } from 'vitest';
import { expectNoAxeViolations } from './axe.ts';
import { billingStatus, fail, fakeApi, ok, profile } from './fake-api.ts';
import { renderApp } from './render.tsx';

function staffProfile() {
  const base = profile();
  return { ...base, user: { ...base.user, id: 'staff-1', email: 'grace@example.com', isStaff: true } };
}

const ADA = {
  id: 'u-ada',
  email: 'ada@example.com',
  name: 'Ada Lovelace',
  emailVerified: true,
  isStaff: false,
  deactivatedAt: null,
  createdAt: '2026-01-01T00:00:00.000Z',
  subscription: {
    status: 'trialing',
    plan: 'pro',
    stripeCustomerId: 'cus_ada',
    currentPeriodEnd: '2026-02-01T00:00:00.000Z',
    cancelAtPeriodEnd: false,
  },
} satisfies AdminUser;

const ADA_DETAIL: AdminUserDetail = {
  ...ADA,
  activeSessions: 2,
  subscription: {
    ...ADA.subscription,
    interval: 'month',
    stripeSubscriptionId: 'sub_ada',
    trialEnd: '2026-01-15T00:00:00.000Z',
    pastDueSince: null,
    canceledAt: null,
    updatedAt: '2026-01-02T00:00:00.000Z',
  },
  organizations: [
    {
      id: 'o-ada',
      name: 'Ada Lovelace',
      personal: true,
      role: 'owner',
      memberCount: 1,
      subscription: { status: 'trialing', plan: 'pro', stripeCustomerId: 'cus_ada', quantity: 1 },
    },
    {
      id: 'o-acme',
      name: 'Acme',
      personal: false,
      role: 'admin',
      memberCount: 4,
      subscription: { status: 'past_due', plan: 'team', stripeCustomerId: 'cus_acme', quantity: 3 },
    },
    { id: 'o-club', name: 'Chess Club', personal: false, role: 'member', memberCount: 2, subscription: null },
  ],
};

const EVENT = {
  eventId: 'evt_failed_1',
  eventType: 'invoice.payment_failed',
  processed: false,
  processedAt: null,
  attempts: 3,
  errorMessage: 'Stripe did not answer',
  note: null,
  createdAt: '2026-01-03T00:00:00.000Z',
};

function staffApi(routes: Parameters<typeof fakeApi>[0] = {}) {
  return fakeApi({
    'GET /api/profile/': ok(staffProfile()),
    'GET /api/billing/status/': ok(billingStatus()),
    ...routes,
  });
}

describe('admin console', () => {
  test('a signed-in user without the staff flag gets the Forbidden page and no admin link', async () => {
    const { calls } = fakeApi({
      'GET /api/profile/': ok(profile()),
      'GET /api/billing/status/': ok(billingStatus()),
    });
    renderApp('/admin/audit-log');
    expect(
      await screen.findByRole('heading', { level: 1, name: 'You do not have access' }),
    ).toBeInTheDocument();
    expect(screen.queryByRole('link', { name: 'Admin' })).not.toBeInTheDocument();
    expect(calls.some((call) => call.path.startsWith('/api/admin/'))).toBe(false);
  });

  test('staff search users, open one and deactivate them after confirming', async () => {
    const api = staffApi({
      'GET /api/admin/users/': ok({
        users: [ADA, { ...ADA, id: 'u-bob', email: 'bob@example.com' }],
        nextCursor: null,
      }),
      'GET /api/admin/users/?search=ada': ok({ users: [ADA], nextCursor: null }),
      'GET /api/admin/users/u-ada/': ok(ADA_DETAIL),
      'POST /api/admin/users/u-ada/deactivate/': ok({
        ...ADA_DETAIL,
        deactivatedAt: '2026-01-05T00:00:00.000Z',
        activeSessions: 0,
      }),
    });
    const user = userEvent.setup();
    renderApp('/admin');

    expect(await screen.findByRole('heading', { level: 1, name: 'Users' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Admin' })).toBeInTheDocument();
    const table = await screen.findByRole('table', { name: 'Users, newest first' });
    expect(within(table).getAllByRole('row')).toHaveLength(3);

    await user.type(screen.getByLabelText('Search by email or name'), 'ada');
    await user.click(screen.getByRole('button', { name: 'Search' }));
    expect(await screen.findByRole('heading', { name: 'Users matching “ada”' })).toBeInTheDocument();
    expect(within(await screen.findByRole('table')).getAllByRole('row')).toHaveLength(2);

    await user.click(screen.getByRole('link', { name: 'ada@example.com' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'ada@example.com' })).toBeInTheDocument();
    expect(screen.getByText('sub_ada')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Sync from Stripe now' })).toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Deactivate account' }));
    expect(api.calls.some((call) => call.path.endsWith('/deactivate/'))).toBe(false);
    await user.click(screen.getByRole('button', { name: 'Yes, deactivate' }));
    expect(await screen.findByText(/Account deactivated: every session has ended/)).toBeInTheDocument();
    const sent = api.calls.find((call) => call.path === '/api/admin/users/u-ada/deactivate/');
    expect(sent?.method).toBe('POST');
    expect(sent?.headers.get('X-CSRFToken')).toBe('csrf-token-from-server');
    expect(screen.getByRole('button', { name: 'Reactivate account' })).toBeInTheDocument();
  });

  test('the user page lists their organizations with role, members and plan', async () => {
    staffApi({ 'GET /api/admin/users/u-ada/': ok(ADA_DETAIL) });
    renderApp('/admin/users/u-ada');
    const table = await screen.findByRole('table', { name: 'Organizations this user belongs to' });
    expect(
      within(table)
        .getAllByRole('columnheader')
        .map((header) => header.textContent),
    ).toEqual(['Name', 'Kind', 'Role', 'Members', 'Plan']);
    const rows = within(table)
      .getAllByRole('row')
      .slice(1)
      .map((row) =>
        within(row)
          .getAllByRole('cell')
          .map((td) => td.textContent),
      );
    expect(rows).toEqual([
      ['Ada Lovelace', 'Personal', 'Owner', '1', 'Trial pro'],
      ['Acme', 'Team', 'Admin', '4', 'Past due team · 3 seats'],
      ['Chess Club', 'Team', 'Member', '2', 'Free'],
    ]);
    expect(screen.getByRole('heading', { level: 2, name: 'Organizations' })).toBeInTheDocument();
    await expectNoAxeViolations();
  });

  test('a refused action shows the server’s message', async () => {
    staffApi({
      'GET /api/admin/users/u-ada/': ok(ADA_DETAIL),
      'POST /api/admin/users/u-ada/sync-subscription/': fail(
        502,
        'BILLING_PROVIDER_ERROR',
        'Stripe did not answer.',
      ),
    });
    const user = userEvent.setup();
    renderApp('/admin/users/u-ada');
    await user.click(await screen.findByRole('button', { name: 'Sync from Stripe now' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Our payment provider did not answer.');
  });

  test('staff see no access actions on their own account', async () => {
    staffApi({ 'GET /api/admin/users/staff-1/': ok({ ...ADA_DETAIL, id: 'staff-1', isStaff: true }) });
    renderApp('/admin/users/staff-1');
    expect(await screen.findByText(/This is your own account/)).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Deactivate account' })).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Revoke staff access' })).not.toBeInTheDocument();
  });

  test('webhook events filter by type and status, show the payload and replay', async () => {
    const api = staffApi({
      'GET /api/admin/webhook-events/': ok({ events: [EVENT], nextCursor: null }),
      'GET /api/admin/webhook-events/?type=invoice.payment_failed&status=failed': ok({
        events: [EVENT],
        nextCursor: null,
      }),
      'GET /api/admin/webhook-events/evt_failed_1/': ok({
        ...EVENT,
        payload: { id: 'evt_failed_1', data: { object: { customer: 'cus_ada' } } },
      }),
      'POST /api/admin/webhook-events/evt_failed_1/replay/': ok({ eventId: 'evt_failed_1', ok: true }),
    });
    const user = userEvent.setup();
    renderApp('/admin/webhook-events');
    await screen.findByRole('table', { name: 'Stripe events, newest first' });
    await user.type(screen.getByLabelText('Event type'), 'invoice.payment_failed');
    await user.selectOptions(screen.getByLabelText('Status'), 'failed');
    await user.click(screen.getByRole('button', { name: 'Filter' }));
    await vi.waitFor(() =>
      expect(api.calls.map((call) => call.path)).toContain(
        '/api/admin/webhook-events/?type=invoice.payment_failed&status=failed',
      ),
    );

    await user.click(await screen.findByRole('link', { name: 'evt_failed_1' }));
    const payload = await screen.findByRole('region', { name: 'Event payload' });
    expect(payload).toHaveTextContent('"customer": "cus_ada"');
    await user.click(screen.getByRole('button', { name: 'Replay event' }));
    expect(await screen.findByText('Replayed: the event was processed again.')).toBeInTheDocument();
  });

  test('the email outbox lists failed emails and retries one', async () => {
    const failed = {
      id: '0b6c8f1e-8a57-4c43-9a0e-5d1e7c2d3a41',
      to: 'ada@example.com',
      subject: 'Your payment failed',
      template: 'payment_failed',
      status: 'failed',
      attempts: 3,
      lastError: 'SMTP 550',
      createdAt: '2026-01-03T00:00:00.000Z',
      sentAt: null,
    };
    const api = staffApi({
      'GET /api/admin/emails/?status=failed&limit=100': ok({ emails: [failed] }),
      [`POST /api/admin/emails/${failed.id}/retry/`]: ok({ id: failed.id, status: 'queued' }),
    });
    const user = userEvent.setup();
    renderApp('/admin/emails');
    const table = await screen.findByRole('table', { name: 'Outbox emails, newest first' });
    expect(within(table).getByText('SMTP 550')).toBeInTheDocument();
    await user.click(
      within(table).getByRole('button', { name: 'Retry the email to ada@example.com: Your payment failed' }),
    );
    expect(await screen.findByText('Queued for delivery again.')).toBeInTheDocument();
    expect(api.calls.some((call) => call.method === 'POST' && call.path.endsWith('/retry/'))).toBe(true);
  });

  test('AI usage shows totals and per-user rows for the chosen month', async () => {
    const usage = (month: string) => ({
      period: { start: `${month}-01T00:00:00.000Z`, end: `${month}-28T00:00:00.000Z` },
      totals: {
        users: 1,
        requests: 7,
        failed: 1,
        promptTokens: 100,
        completionTokens: 1134,
        totalTokens: 1234,
      },
      users: [
        {
          userId: 'u-ada',
          email: 'ada@example.com',
          requests: 7,
          failed: 1,
          promptTokens: 100,
          completionTokens: 1134,
          totalTokens: 1234,
        },
      ],
    });
    const api = staffApi({ 'GET /api/admin/ai-usage/': () => ok(usage('2031-03')) });
    renderApp('/admin/ai-usage');
    const table = await screen.findByRole('table', { name: 'AI usage per user, most tokens first' });
    expect(within(table).getByRole('link', { name: 'ada@example.com' })).toBeInTheDocument();
    expect(screen.getByText('Tokens').nextSibling).toHaveTextContent(/1.?234/);
    expect(api.calls.find((call) => call.path.startsWith('/api/admin/ai-usage/'))?.path).toMatch(
      /\?month=\d{4}-\d{2}$/,
    );
  });

  test('the audit log lists who did what, and loads older entries', async () => {
    const entry = (id: string, action: string) => ({
      id,
      staffUserId: 'staff-1',
      staffEmail: 'grace@example.com',
      action,
      targetType: 'user',
      targetId: 'u-ada',
      details: { sessionsEnded: 2 },
      createdAt: '2026-01-05T00:00:00.000Z',
    });
    staffApi({
      'GET /api/admin/audit-log/': ok({ entries: [entry('a1', 'user.deactivate')], nextCursor: 'c1' }),
      'GET /api/admin/audit-log/?cursor=c1': ok({
        entries: [entry('a2', 'user.make_staff')],
        nextCursor: null,
      }),
    });
    const user = userEvent.setup();
    renderApp('/admin/audit-log');
    const table = await screen.findByRole('table', { name: 'Staff actions, newest first' });
    expect(within(table).getByText('Deactivated user')).toBeInTheDocument();
    expect(within(table).getAllByText('grace@example.com')).toHaveLength(1);
    await user.click(screen.getByRole('button', { name: 'Load more' }));
    expect(await within(table).findByText('Made staff')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Load more' })).not.toBeInTheDocument();
  });

  test('reconciliation shows the latest report and starts a run; a run already going is explained', async () => {
    const run = {
      id: 'r1',
      trigger: 'schedule',
      status: 'finished',
      startedAt: '2026-01-06T00:00:00.000Z',
      finishedAt: '2026-01-06T00:01:00.000Z',
      report: {
        startedAt: '2026-01-06T00:00:00.000Z',
        finishedAt: '2026-01-06T00:01:00.000Z',
        customersChecked: 12,
        repaired: [
          {
            userId: 'u-ada',
            customerId: 'cus_ada',
            before: { status: 'active' },
            after: { status: 'canceled' },
          },
        ],
        eventsReplayed: [{ eventId: 'evt_1', ok: true }],
        errors: [],
        unlisted: { repaired: 0, errors: 0 },
      },
    };
    let started = 0;
    staffApi({
      'GET /api/admin/reconciliation/?limit=10': ok({ runs: [run] }),
      'POST /api/admin/reconciliation/run/': () => {
        started += 1;
        return started === 1
          ? ok({ queued: true, jobId: 'job-1' }, 202)
          : fail(409, 'CONFLICT', 'A reconciliation is already queued or running.');
      },
    });
    const user = userEvent.setup();
    renderApp('/admin/reconciliation');
    const table = await screen.findByRole('table', { name: 'Subscriptions repaired to match Stripe' });
    expect(within(table).getByText('status: active → canceled')).toBeInTheDocument();
    expect(screen.getByText('Customers checked').nextSibling).toHaveTextContent('12');
    await user.click(screen.getByRole('button', { name: 'Run now' }));
    expect(await screen.findByText(/Queued\. The report appears here/)).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Run now' }));
    expect(await screen.findByText('A reconciliation is already queued or running.')).toBeInTheDocument();
  });
});
