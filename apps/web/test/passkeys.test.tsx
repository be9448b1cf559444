import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { billingStatus, fail, fakeApi, ok, profile, UNAUTHENTICATED } from './fake-api.ts';
import { renderApp } from './render.tsx';

/**
 * The browser's WebAuthn API (navigator.credentials and PublicKeyCredential) is stubbed here: jsdom
 * has none. What reaches our code is what a browser gives @simplewebauthn/browser: ArrayBuffers.
 */
const bytes = (text: string) => new TextEncoder().encode(text).buffer;
const b64url = (text: string) => btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

const credentials = { create: vi.fn(), get: vi.fn() };
/** What browsers expose as window.PublicKeyCredential (only its presence is checked). */
class FakePublicKeyCredential {}

function installWebAuthn() {
  vi.stubGlobal('PublicKeyCredential', FakePublicKeyCredential);
  Object.defineProperty(navigator, 'credentials', { value: credentials, configurable: true });
}

beforeEach(installWebAuthn);
afterEach(() => {
  vi.unstubAllGlobals();
  Reflect.deleteProperty(navigator, 'credentials');
});

const CREATION_OPTIONS = {
  challenge: b64url('registration-challenge'),
  rp: { name: 'Tierbase', id: 'localhost' },
  user: { id: b64url('user-1'), name: 'ada@example.com', displayName: 'Ada' },
  pubKeyCredParams: [{ alg: -7, type: 'public-key' }],
  excludeCredentials: [],
  authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
  attestation: 'none',
};
const REQUEST_OPTIONS = {
  challenge: b64url('sign-in-challenge'),
  rpId: 'localhost',
  userVerification: 'required',
};

const laptop = {
  id: 'pk-1',
  name: 'Work laptop',
  createdAt: '2026-11-02T10:00:00.000Z',
  lastUsedAt: '2026-11-20T10:00:00.000Z',
  backedUp: true,
};

describe('passkeys in Settings', () => {
  test('lists them with name, date added and last use; adds one on this device; deletes one', async () => {
    let stored: {
      id: string;
      name: string;
      createdAt: string;
      lastUsedAt: string | null;
      backedUp: boolean;
    }[] = [laptop];
    const api = fakeApi({
      'GET /api/profile/': ok(profile()),
      'GET /api/billing/status/': ok(billingStatus()),
      'GET /api/passkeys/': () => ok({ passkeys: stored }),
      'POST /api/passkeys/registration-options/': ok({ challengeId: 'ch-1', options: CREATION_OPTIONS }),
      'POST /api/passkeys/': ({ body }) => {
        const added = {
          ...laptop,
          id: 'pk-2',
          name: (body as { name: string }).name,
          lastUsedAt: null as string | null,
        };
        stored = [...stored, added];
        return ok(added, 201);
      },
      'DELETE /api/passkeys/pk-1/': () => {
        stored = stored.filter((passkey) => passkey.id !== 'pk-1');
        return ok({ message: 'The passkey was deleted.' });
      },
    });
    credentials.create.mockResolvedValue({
      id: b64url('credential-2'),
      rawId: bytes('credential-2'),
      type: 'public-key',
      authenticatorAttachment: 'platform',
      response: {
        clientDataJSON: bytes('{"type":"webauthn.create"}'),
        attestationObject: bytes('attestation'),
        getTransports: () => ['internal'],
      },
      getClientExtensionResults: () => ({}),
    });
    const user = userEvent.setup();
    renderApp('/settings');

    const card = await screen.findByRole('region', { name: 'Passkeys' });
    const item = await within(card).findByText('Work laptop');
    expect(item.closest('li')).toHaveTextContent(/Added .*2026 · last used .*2026/);

    await user.type(within(card).getByLabelText('Name for a new passkey'), 'Phone');
    await user.click(within(card).getByRole('button', { name: 'Add a passkey' }));
    expect(await within(card).findByText('Passkey “Phone” added.')).toBeInTheDocument();
    expect(await within(card).findByText('Phone')).toBeInTheDocument();
    expect(within(card).getByText('Phone').closest('li')).toHaveTextContent('never used');

    // The options went to the browser as WebAuthn takes them, and its answer back as JSON.
    const [{ publicKey }] = credentials.create.mock.calls[0] as [{ publicKey: { challenge: ArrayBuffer } }];
    expect(new TextDecoder().decode(publicKey.challenge)).toBe('registration-challenge');
    expect(
      api.calls.find((call) => call.method === 'POST' && call.path === '/api/passkeys/')?.body,
    ).toMatchObject({
      challengeId: 'ch-1',
      name: 'Phone',
      credential: {
        id: b64url('credential-2'),
        rawId: b64url('credential-2'),
        type: 'public-key',
        response: { attestationObject: b64url('attestation'), transports: ['internal'] },
      },
    });

    await user.click(within(card).getByRole('button', { name: 'Delete Work laptop' }));
    await waitFor(() => expect(within(card).queryByText('Work laptop')).not.toBeInTheDocument());
    expect(api.calls.some((call) => call.method === 'DELETE' && call.path === '/api/passkeys/pk-1/')).toBe(
      true,
    );
  });

  test('a cancelled device prompt says so, and the server’s refusal is shown', async () => {
    fakeApi({
      'GET /api/profile/': ok(profile()),
      'GET /api/billing/status/': ok(billingStatus()),
      'GET /api/passkeys/': ok({ passkeys: [] }),
      'POST /api/passkeys/registration-options/': ok({ challengeId: 'ch-1', options: CREATION_OPTIONS }),
    });
    credentials.create.mockRejectedValue(new DOMException('The operation was aborted.', 'NotAllowedError'));
    const user = userEvent.setup();
    renderApp('/settings');
    const card = await screen.findByRole('region', { name: 'Passkeys' });
    expect(await within(card).findByText('You have no passkeys yet.')).toBeInTheDocument();
    await user.type(within(card).getByLabelText('Name for a new passkey'), 'Phone');
    await user.click(within(card).getByRole('button', { name: 'Add a passkey' }));
    expect(await within(card).findByRole('alert')).toHaveTextContent(
      'The passkey request was cancelled or timed out.',
    );
  });

  test('renames one: a refusal is said on the field, Cancel puts the old name back', async () => {
    let stored = [laptop];
    const api = fakeApi({
      'GET /api/profile/': ok(profile()),
      'GET /api/billing/status/': ok(billingStatus()),
      'GET /api/passkeys/': () => ok({ passkeys: stored }),
      'PATCH /api/passkeys/pk-1/': fail(404, 'NOT_FOUND', 'No such passkey.'),
    });
    const user = userEvent.setup();
    renderApp('/settings');
    const card = within(await screen.findByRole('region', { name: 'Passkeys' }));

    await user.click(await card.findByRole('button', { name: 'Rename Work laptop' }));
    const name = card.getByLabelText('New name for Work laptop');
    await user.clear(name);
    await user.type(name, 'Phone');
    await user.click(card.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(name).toHaveAccessibleDescription('No such passkey.'));
    expect(name).toHaveAttribute('aria-invalid', 'true');

    await user.click(card.getByRole('button', { name: 'Cancel' }));
    await user.click(card.getByRole('button', { name: 'Rename Work laptop' }));
    expect(card.getByLabelText('New name for Work laptop')).toHaveValue('Work laptop');
    expect(card.getByLabelText('New name for Work laptop')).not.toHaveAttribute('aria-invalid');

    api.set('PATCH /api/passkeys/pk-1/', ({ body }) => {
      stored = [{ ...laptop, name: (body as { name: string }).name }];
      return ok(stored[0]);
    });
    await user.clear(card.getByLabelText('New name for Work laptop'));
    await user.type(card.getByLabelText('New name for Work laptop'), '  Desk laptop ');
    await user.click(card.getByRole('button', { name: 'Save' }));
    expect(await card.findByText('Desk laptop')).toBeInTheDocument();
    expect(card.queryByLabelText(/New name for/)).not.toBeInTheDocument();
    expect(api.calls.filter((call) => call.method === 'PATCH').map((call) => call.body)).toEqual([
      { name: 'Phone' },
      { name: 'Desk laptop' },
    ]);
  });

  test('a browser without WebAuthn is told so, and offered no button', async () => {
    vi.unstubAllGlobals();
    fakeApi({
      'GET /api/profile/': ok(profile()),
      'GET /api/billing/status/': ok(billingStatus()),
      'GET /api/passkeys/': ok({ passkeys: [] }),
    });
    renderApp('/settings');
    const card = await screen.findByRole('region', { name: 'Passkeys' });
    expect(await within(card).findByText('This browser does not support passkeys.')).toBeInTheDocument();
    expect(within(card).queryByRole('button', { name: 'Add a passkey' })).not.toBeInTheDocument();
  });
});

describe('signing in with a passkey', () => {
  test('needs no email: the browser offers the passkey, and the user lands where they were headed', async () => {
    const api = fakeApi({
      'GET /api/profile/': UNAUTHENTICATED,
      'POST /api/passkeys/sign-in/options/': ok({ challengeId: 'ch-9', options: REQUEST_OPTIONS }),
      'POST /api/passkeys/sign-in/': ok(profile()),
      'GET /api/billing/status/': ok(billingStatus()),
      'GET /api/passkeys/': ok({ passkeys: [laptop] }),
      'GET /api/auth/methods/': ok({ password: true, providers: [] }),
    });
    credentials.get.mockResolvedValue({
      id: b64url('credential-1'),
      rawId: bytes('credential-1'),
      type: 'public-key',
      authenticatorAttachment: 'platform',
      response: {
        clientDataJSON: bytes('{"type":"webauthn.get"}'),
        authenticatorData: bytes('auth-data'),
        signature: bytes('signature'),
        userHandle: bytes('user-1'),
      },
      getClientExtensionResults: () => ({}),
    });
    const user = userEvent.setup();
    renderApp('/login?next=%2Fsettings');

    await user.click(await screen.findByRole('button', { name: 'Use a passkey' }));
    // The settings page is loaded on demand, and re-renders once the fresh profile arrives: wait
    // for it to settle rather than hold on to the first heading element.
    await waitFor(
      () => {
        expect(screen.getByTestId('location')).toHaveTextContent('/settings');
        expect(screen.getByRole('heading', { level: 1, name: 'Account settings' })).toBeInTheDocument();
      },
      { timeout: 5000 },
    );
    expect(api.calls.find((call) => call.path === '/api/passkeys/sign-in/')?.body).toEqual({
      challengeId: 'ch-9',
      credential: {
        id: b64url('credential-1'),
        rawId: b64url('credential-1'),
        type: 'public-key',
        authenticatorAttachment: 'platform',
        response: {
          clientDataJSON: b64url('{"type":"webauthn.get"}'),
          authenticatorData: b64url('auth-data'),
          signature: b64url('signature'),
          userHandle: b64url('user-1'),
        },
        clientExtensionResults: {},
      },
    });
  });

  test('a passkey the server does not accept shows its message', async () => {
    fakeApi({
      'GET /api/profile/': UNAUTHENTICATED,
      'POST /api/passkeys/sign-in/options/': ok({ challengeId: 'ch-9', options: REQUEST_OPTIONS }),
      'POST /api/passkeys/sign-in/': fail(401, 'INVALID_CREDENTIALS', 'This passkey could not be verified.'),
    });
    credentials.get.mockResolvedValue({
      id: b64url('credential-1'),
      rawId: bytes('credential-1'),
      type: 'public-key',
      response: {
        clientDataJSON: bytes('{}'),
        authenticatorData: bytes('a'),
        signature: bytes('s'),
        userHandle: null,
      },
      getClientExtensionResults: () => ({}),
    });
    const user = userEvent.setup();
    renderApp('/login');
    await user.click(await screen.findByRole('button', { name: 'Use a passkey' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('This passkey could not be verified.');
    expect(screen.getByTestId('location')).toHaveTextContent('/login');
  });

  test('is not offered by a browser without WebAuthn', async () => {
    vi.unstubAllGlobals();
    fakeApi({ 'GET /api/profile/': UNAUTHENTICATED });
    renderApp('/login');
    expect(await screen.findByRole('button', { name: 'Sign in' })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Use a passkey' })).not.toBeInTheDocument();
  });
});
