import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, test, vi } from 'vitest';
import { billingStatus, fail, fakeApi, ok, profile, UNAUTHENTICATED } from './fake-api.ts';
import { renderApp } from './render.tsx';

const SETUP = {
  totpUri: 'otpauth://totp/Tierbase:ada%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Tierbase',
  secret: 'JBSWY3DPEHPK3PXP',
  qrCode: 'data:image/svg+xml;base64,PHN2Zy8+',
  backupCodes: ['aaaaa-11111', 'bbbbb-22222', 'ccccc-33333'],
};

describe('sign-in with two-factor on', () => {
  test('asks for the code after the password, then signs in', async () => {
    const { calls } = fakeApi({
      'GET /api/profile/': UNAUTHENTICATED,
      'POST /api/login/': ok({ twoFactorRequired: true }),
      'POST /api/login/two-factor/': ok(profile({ twoFactorEnabled: true })),
      'GET /api/billing/status/': ok(billingStatus()),
    });
    const user = userEvent.setup();
    renderApp('/login');
    await user.type(await screen.findByLabelText('Email'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), 'Correct-Horse-42');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));

    expect(await screen.findByRole('heading', { name: 'Two-factor authentication' })).toBeInTheDocument();
    const code = screen.getByLabelText('Authentication code');
    expect(code).toHaveFocus();
    expect(code).toHaveAttribute('autocomplete', 'one-time-code');
    expect(screen.getByTestId('location')).toHaveTextContent('/login');
    await user.type(code, '123456');
    await user.click(screen.getByRole('button', { name: 'Verify' }));

    expect(await screen.findByRole('heading', { level: 1, name: 'Welcome back, Ada' })).toBeInTheDocument();
    expect(calls.find((call) => call.path === '/api/login/two-factor/')?.body).toEqual({ code: '123456' });
  });

  test('a wrong code says so; a backup code can be used instead', async () => {
    const api = fakeApi({
      'GET /api/profile/': UNAUTHENTICATED,
      'POST /api/login/': ok({ twoFactorRequired: true }),
      'POST /api/login/two-factor/': fail(401, 'INVALID_TWO_FACTOR_CODE', 'That code is not valid.'),
      'GET /api/billing/status/': ok(billingStatus()),
    });
    const user = userEvent.setup();
    renderApp('/login');
    await user.type(await screen.findByLabelText('Email'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), 'Correct-Horse-42');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    await user.type(await screen.findByLabelText('Authentication code'), '000000');
    await user.click(screen.getByRole('button', { name: 'Verify' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('That code is not valid.');

    await user.click(screen.getByRole('button', { name: 'Use a backup code' }));
    const backup = screen.getByLabelText('Backup code');
    expect(backup).toHaveValue('');
    expect(backup).toHaveFocus();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    api.set('POST /api/login/two-factor/', ok(profile({ twoFactorEnabled: true })));
    await user.type(backup, 'aaaaa-11111');
    await user.click(screen.getByRole('button', { name: 'Verify' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Welcome back, Ada' })).toBeInTheDocument();
    expect(api.calls.filter((call) => call.path === '/api/login/two-factor/').at(-1)?.body).toEqual({
      code: 'aaaaa-11111',
    });
  });

  test('an expired sign-in leads back to the password', async () => {
    fakeApi({
      'GET /api/profile/': UNAUTHENTICATED,
      'POST /api/login/': ok({ twoFactorRequired: true }),
      'POST /api/login/two-factor/': fail(
        401,
        'TWO_FACTOR_EXPIRED',
        'Too many wrong codes. Enter your email and password again.',
      ),
    });
    const user = userEvent.setup();
    renderApp('/login');
    await user.type(await screen.findByLabelText('Email'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), 'Correct-Horse-42');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    await user.type(await screen.findByLabelText('Authentication code'), '000000');
    await user.click(screen.getByRole('button', { name: 'Verify' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Too many wrong codes.');
    await user.click(screen.getByRole('button', { name: 'Sign in again' }));
    expect(await screen.findByRole('heading', { name: 'Sign in' })).toBeInTheDocument();
    expect(screen.getByLabelText('Email')).toHaveValue('ada@example.com');
    expect(screen.getByLabelText('Password')).toHaveValue('');
  });
});

describe('settings: two-factor authentication', () => {
  test('set-up: password, then QR code, typed key and backup codes, then the first code turns it on', async () => {
    const api = fakeApi({
      'GET /api/profile/': ok(profile()),
      'POST /api/two-factor/enable/': fail(400, 'VALIDATION_ERROR', 'Some fields are invalid.', {
        details: { password: ['The password is incorrect.'] },
      }),
      'POST /api/two-factor/confirm/': fail(400, 'VALIDATION_ERROR', 'Some fields are invalid.', {
        details: { code: ['That code is not valid. Check the time on your device and try again.'] },
      }),
    });
    const user = userEvent.setup();
    renderApp('/settings');
    const card = within(await screen.findByRole('region', { name: 'Two-factor authentication' }));
    expect(card.getByText('Two-factor authentication is off.')).toBeInTheDocument();

    await user.type(card.getByLabelText('Your password, to set up two-factor'), 'wrong');
    await user.click(card.getByRole('button', { name: 'Set up two-factor authentication' }));
    expect(await card.findByText('The password is incorrect.')).toBeInTheDocument();

    api.set('POST /api/two-factor/enable/', ok(SETUP));
    await user.clear(card.getByLabelText('Your password, to set up two-factor'));
    await user.type(card.getByLabelText('Your password, to set up two-factor'), 'Correct-Horse-42');
    await user.click(card.getByRole('button', { name: 'Set up two-factor authentication' }));

    const qr = await card.findByRole('img', { name: /QR code/ });
    expect(qr).toHaveAttribute('src', SETUP.qrCode);
    expect(card.getByTestId('two-factor-key')).toHaveTextContent(SETUP.secret);
    const codes = card.getByRole('list', { name: 'Backup codes' });
    expect(
      within(codes)
        .getAllByRole('listitem')
        .map((item) => item.textContent),
    ).toEqual(SETUP.backupCodes);

    const writeText = vi.fn(async () => {});
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    await user.click(card.getByRole('button', { name: 'Copy codes' }));
    expect(await card.findByText('Copied.')).toBeInTheDocument();
    expect(writeText).toHaveBeenCalledWith(expect.stringContaining('bbbbb-22222'));

    const code = card.getByLabelText('Enter the 6-digit code the app shows');
    await user.type(code, '111111');
    await user.click(card.getByRole('button', { name: 'Turn on two-factor authentication' }));
    expect(await card.findByText(/Check the time on your device/)).toBeInTheDocument();
    expect(code).toHaveAttribute('aria-invalid', 'true');

    api.set('POST /api/two-factor/confirm/', ok(profile({ twoFactorEnabled: true })));
    await user.clear(code);
    await user.type(code, '123456');
    await user.click(card.getByRole('button', { name: 'Turn on two-factor authentication' }));
    expect(await card.findByText('Two-factor authentication is now on.')).toBeInTheDocument();
    // The codes are gone from the page once it is on.
    expect(card.queryByText('aaaaa-11111')).not.toBeInTheDocument();
    expect(api.calls.filter((call) => call.path === '/api/two-factor/confirm/').at(-1)?.body).toEqual({
      code: '123456',
    });
  });

  test('when on: new backup codes with the password, and turning it off with password and code', async () => {
    const api = fakeApi({
      'GET /api/profile/': ok(profile({ twoFactorEnabled: true })),
      'POST /api/two-factor/backup-codes/': ok({ backupCodes: ['ddddd-44444', 'eeeee-55555'] }),
      'POST /api/two-factor/disable/': ok(profile({ twoFactorEnabled: false })),
    });
    const user = userEvent.setup();
    renderApp('/settings');
    const card = within(await screen.findByRole('region', { name: 'Two-factor authentication' }));
    expect(card.getByText('Two-factor authentication is on.')).toBeInTheDocument();

    await user.type(card.getByLabelText('Your password, for new backup codes'), 'Correct-Horse-42');
    await user.click(card.getByRole('button', { name: 'Make new backup codes' }));
    expect(await card.findByText('ddddd-44444')).toBeInTheDocument();
    expect(card.getByText(/previous backup codes no longer work/)).toBeInTheDocument();

    const turnOff = card.getByRole('button', { name: 'Turn off two-factor authentication' });
    expect(turnOff).toBeDisabled();
    await user.type(card.getByLabelText('Your password'), 'Correct-Horse-42');
    await user.type(card.getByLabelText('Code from your app, or a backup code'), '654321');
    await user.click(turnOff);
    expect(await card.findByText('Two-factor authentication is off.')).toBeInTheDocument();
    expect(api.calls.find((call) => call.path === '/api/two-factor/disable/')?.body).toEqual({
      password: 'Correct-Horse-42',
      code: '654321',
    });
  });
});
