import { auditPage, PASSWORD, uniqueEmail } from './support/browser.ts';
import { expectNoProblems, mainText } from './support/flows.ts';
import { expect, inject, test } from './support/test.ts';

/** A user made through the API (not the browser under test), as any visitor's sign-up would. */
async function createUser(appUrl: string, email: string): Promise<void> {
  const csrf = await fetch(`${appUrl}/api/csrf/`);
  const token = ((await csrf.json()) as { data: { csrfToken: string } }).data.csrfToken;
  const response = await fetch(`${appUrl}/api/register/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrftoken': token, cookie: `csrftoken=${token}` },
    body: JSON.stringify({ email, password: PASSWORD, name: 'Target User' }),
  });
  expect(response.status, await response.clone().text()).toBeLessThan(300);
}

async function apiLogin(appUrl: string, email: string): Promise<{ status: number; code?: string }> {
  const csrf = await fetch(`${appUrl}/api/csrf/`);
  const token = ((await csrf.json()) as { data: { csrfToken: string } }).data.csrfToken;
  const response = await fetch(`${appUrl}/api/login/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrftoken': token, cookie: `csrftoken=${token}` },
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  const body = (await response.json()) as { code?: string };
  return { status: response.status, ...(body.code ? { code: body.code } : {}) };
}

/**
 * The staff console: a staff member (made with the CLI's create-admin) signs in, finds a user,
 * deactivates them and sees the entry in the audit log; every admin page is scanned with axe and
 * photographed.
 */
test('the admin console', async ({ page }) => {
  const appUrl = inject('appUrl');
  const staffEmail = inject('staffEmail');
  const staffPassword = inject('staffPassword');
  const target = uniqueEmail('deactivate-me');
  const problems: string[] = [];
  await createUser(appUrl, target);

  await test.step('staff sign in, search a user, deactivate them and see it in the audit log', async () => {
    expect((await apiLogin(appUrl, target)).status).toBe(200);

    await page.goto('/login');
    await page.getByLabel('Email').fill(staffEmail);
    await page.getByLabel('Password').fill(staffPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'Admin' }).first().click();
    await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
    await page.getByRole('table', { name: 'Users, newest first' }).waitFor();
    problems.push(...(await auditPage(page, 'admin-users')));

    await page.getByLabel('Search by email or name').fill(target.slice(0, 14));
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('heading', { name: /Users matching/ }).waitFor();
    await page.getByRole('link', { name: target }).click();
    await page.getByRole('heading', { level: 1, name: target }).waitFor();
    problems.push(...(await auditPage(page, 'admin-user-detail')));

    await page.getByRole('button', { name: 'Deactivate account' }).click();
    await page.getByText(`Deactivate ${target}?`).waitFor();
    problems.push(...(await auditPage(page, 'admin-user-confirm-deactivate')));
    await page.getByRole('button', { name: 'Yes, deactivate' }).click();
    await page.getByText(/Account deactivated: every session has ended/).waitFor();
    await page.getByRole('button', { name: 'Reactivate account' }).waitFor();
    expect(await mainText(page)).toContain('Deactivated');

    // The user's right password no longer opens a session.
    expect(await apiLogin(appUrl, target)).toEqual({ status: 403, code: 'ACCOUNT_DEACTIVATED' });

    await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
    const row = page.getByRole('table', { name: 'Staff actions, newest first' }).getByRole('row').nth(1);
    await row.getByText('Deactivated user').waitFor();
    expect(await row.textContent()).toContain(staffEmail);
    expect(await row.textContent()).toContain('sessionsEnded');
    problems.push(...(await auditPage(page, 'admin-audit-log')));
    expectNoProblems(problems.splice(0));
  });

  await test.step('the other admin pages pass axe at desktop and phone sizes', async () => {
    const admin = page.getByRole('navigation', { name: 'Admin' });
    await admin.getByRole('link', { name: 'Webhook events' }).click();
    await page.getByRole('heading', { level: 1, name: 'Webhook events' }).waitFor();
    await page.getByRole('button', { name: 'Filter' }).waitFor();
    await page.getByRole('status').waitFor({ state: 'detached' });
    problems.push(...(await auditPage(page, 'admin-webhook-events')));
    const firstEvent = page
      .getByRole('table', { name: 'Stripe events, newest first' })
      .getByRole('link')
      .first();
    if (await firstEvent.count()) {
      await firstEvent.click();
      await page.getByRole('region', { name: 'Event payload' }).waitFor();
      problems.push(...(await auditPage(page, 'admin-webhook-event')));
    } else {
      console.log('[e2e] no Stripe events recorded yet: the event detail page is not scanned');
    }

    await admin.getByRole('link', { name: 'Email outbox' }).click();
    await page.getByRole('heading', { level: 1, name: 'Email outbox' }).waitFor();
    await page.getByRole('status').waitFor({ state: 'detached' });
    await page.getByLabel('Show').selectOption('');
    await page.getByRole('table', { name: 'Outbox emails, newest first' }).waitFor();
    problems.push(...(await auditPage(page, 'admin-emails')));

    await admin.getByRole('link', { name: 'AI usage' }).click();
    await page.getByRole('heading', { level: 1, name: 'AI usage' }).waitFor();
    await page.getByRole('heading', { name: 'Totals' }).waitFor();
    problems.push(...(await auditPage(page, 'admin-ai-usage')));

    // Reconciliation: staff start a run; its report shows once the job has finished.
    await admin.getByRole('link', { name: 'Reconciliation' }).click();
    await page.getByRole('heading', { level: 1, name: 'Reconciliation' }).waitFor();
    await page.getByRole('button', { name: 'Run now' }).click();
    await page.getByText('Queued. The report appears here').waitFor();
    const latest = page.getByRole('heading', { name: /^Latest run:/ });
    await expect
      .poll(
        async () => {
          await page.reload();
          await page.getByRole('heading', { level: 1, name: 'Reconciliation' }).waitFor();
          await page.getByRole('status').waitFor({ state: 'detached' });
          return (await latest.count()) > 0 && (await page.getByText('Customers checked').count()) > 0;
        },
        { timeout: 60_000, intervals: [1_000] },
      )
      .toBe(true);
    problems.push(...(await auditPage(page, 'admin-reconciliation')));

    expectNoProblems(problems);
  });
});
