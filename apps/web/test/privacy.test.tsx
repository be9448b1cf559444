import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { billingStatus, fail, fakeApi, ok, profile, UNAUTHENTICATED } from './fake-api.ts';
import { renderApp } from './render.tsx';

afterEach(() => {
  vi.restoreAllMocks();
});

/**
 * A Blob's text. Which Blob `Response.blob()` hands back under jsdom depends on the Node version
 * (Node's own has `text()`; jsdom's, seen under Node 24, only works with jsdom's FileReader).
 */
function blobText(blob: Blob): Promise<string> {
  if (typeof blob.text === 'function') return blob.text();
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsText(blob);
  });
}

describe('download my data', () => {
  test('saves the export under the name the server gives it', async () => {
    const document = { format: 'tierbase-account-export/1', account: { email: 'ada@example.com' } };
    const { calls } = fakeApi({
      'GET /api/profile/': ok(profile()),
      'GET /api/billing/status/': ok(billingStatus()),
      'GET /api/account/export/': {
        body: document,
        headers: { 'content-disposition': 'attachment; filename="tierbase-account-2026-12-01.json"' },
      },
    });
    // jsdom has no blob URLs and does not download: capture what the page hands the browser.
    let saved: Blob | undefined;
    URL.createObjectURL = vi.fn((blob: Blob) => {
      saved = blob;
      return 'blob:export';
    });
    URL.revokeObjectURL = vi.fn();
    const clicked: { href: string; download: string }[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push({ href: this.href, download: this.download });
    });

    const user = userEvent.setup();
    renderApp('/settings');
    await user.click(await screen.findByRole('button', { name: 'Download my data' }));
    expect(await screen.findByText('Your data has been downloaded.')).toBeInTheDocument();
    expect(clicked).toEqual([{ href: 'blob:export', download: 'tierbase-account-2026-12-01.json' }]);
    expect(JSON.parse(await blobText(saved!))).toEqual(document);
    expect(calls.filter((call) => call.path === '/api/account/export/')).toHaveLength(1);
  });

  test('says why when the export cannot be made', async () => {
    fakeApi({
      'GET /api/profile/': ok(profile()),
      'GET /api/billing/status/': ok(billingStatus()),
      'GET /api/account/export/': fail(
        502,
        'BILLING_PROVIDER_ERROR',
        'The payment provider could not be reached.',
      ),
    });
    const user = userEvent.setup();
    renderApp('/settings');
    await user.click(await screen.findByRole('button', { name: 'Download my data' }));
    expect(
      await screen.findByText('Our payment provider did not answer. Please try again in a minute.'),
    ).toBeInTheDocument();
  });
});

describe('delete account', () => {
  test('warns, needs the password, shows a wrong one on the field, then signs out to a confirmation', async () => {
    const api = fakeApi({
      'GET /api/profile/': ok(profile()),
      'GET /api/billing/status/': ok(billingStatus()),
      'POST /api/account/delete/': fail(401, 'INVALID_CREDENTIALS', 'Invalid email or password.'),
    });
    const user = userEvent.setup();
    renderApp('/settings');

    const warning = await screen.findByText('This cannot be undone');
    expect(warning.closest('[role="status"]')).toHaveTextContent(/canceled at once/);
    expect(warning.closest('[role="status"]')).toHaveTextContent(/Invoices already issued are kept/);
    const submit = screen.getByRole('button', { name: 'Delete my account' });
    expect(submit).toBeDisabled();

    const password = screen.getByLabelText('Your password, to confirm');
    await user.type(password, 'wrong-password');
    await user.click(submit);
    await waitFor(() => expect(password).toHaveAccessibleDescription('The password is incorrect.'));
    // Still signed in, still on the settings page.
    expect(screen.getByTestId('location')).toHaveTextContent('/settings');

    api.set('POST /api/account/delete/', ok({ message: 'Your account has been deleted.' }));
    api.set('GET /api/profile/', UNAUTHENTICATED);
    await user.clear(password);
    await user.type(password, 'Correct-Horse-42');
    await user.click(screen.getByRole('button', { name: 'Delete my account' }));

    expect(await screen.findByText('Your account has been deleted')).toBeInTheDocument();
    expect(screen.getByTestId('location')).toHaveTextContent(/^\/$/);
    expect(screen.queryByRole('button', { name: 'Delete my account' })).not.toBeInTheDocument();
    // Signed out in the app too: the navigation offers to sign in, and no longer names the user.
    await waitFor(() =>
      expect(screen.getByRole('navigation', { name: 'Main' })).not.toHaveTextContent('Ada Lovelace'),
    );
    expect(screen.getAllByRole('link', { name: 'Sign in' }).length).toBeGreaterThan(0);
    const deletion = api.calls.filter((call) => call.path === '/api/account/delete/');
    expect(deletion.map((call) => call.body)).toEqual([
      { password: 'wrong-password' },
      { password: 'Correct-Horse-42' },
    ]);
    expect(deletion[1]?.headers.get('X-CSRFToken')).toBe('csrf-token-from-server');
  });
});
