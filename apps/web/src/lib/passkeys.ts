import {
  browserSupportsWebAuthn,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  startAuthentication,
  startRegistration,
  WebAuthnError,
} from '@simplewebauthn/browser';
import type { Passkey, PasskeyListResponse, PasskeyOptionsResponse, Profile } from '@tierbase/contracts';
import { type MessageResponse, request } from '../api.ts';

/**
 * Passkeys: the API calls and the browser's WebAuthn ceremony between them (through
 * @simplewebauthn/browser, which turns the JSON options into what navigator.credentials takes and
 * its answer back into JSON).
 */

export const passkeySupported = (): boolean => browserSupportsWebAuthn();

export const passkeysApi = {
  list: () => request<PasskeyListResponse>('GET', '/api/passkeys/'),
  rename: (id: string, name: string) =>
    request<Passkey>('PATCH', `/api/passkeys/${encodeURIComponent(id)}/`, { name }),
  remove: (id: string) => request<MessageResponse>('DELETE', `/api/passkeys/${encodeURIComponent(id)}/`),
};

/** Creates a passkey on this device (the browser asks the user) and saves it under `name`. */
export async function addPasskey(name: string): Promise<Passkey> {
  const { challengeId, options } = await request<PasskeyOptionsResponse>(
    'POST',
    '/api/passkeys/registration-options/',
  );
  const credential = await startRegistration({
    optionsJSON: options as unknown as PublicKeyCredentialCreationOptionsJSON,
  });
  return request<Passkey>('POST', '/api/passkeys/', { challengeId, name, credential });
}

/** Signs in with whichever passkey of this site the user picks; a new session, as a password sign-in. */
export async function signInWithPasskey(): Promise<Profile> {
  const { challengeId, options } = await request<PasskeyOptionsResponse>(
    'POST',
    '/api/passkeys/sign-in/options/',
  );
  const credential = await startAuthentication({
    optionsJSON: options as unknown as PublicKeyCredentialRequestOptionsJSON,
  });
  return request<Profile>('POST', '/api/passkeys/sign-in/', { challengeId, credential });
}

/**
 * The sentence for a failed ceremony in the browser (the user closed the dialog, the device already
 * holds a passkey for this account…), or null when the error came from elsewhere (the API).
 */
export function ceremonyErrorMessage(error: unknown): string | null {
  if (error instanceof WebAuthnError) {
    if (error.code === 'ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED') {
      return 'This device already holds a passkey for your account.';
    }
    return 'The passkey request was cancelled or timed out.';
  }
  if (error instanceof Error && error.name === 'NotAllowedError') {
    return 'The passkey request was cancelled or timed out.';
  }
  return null;
}
