/**
 * An invitation's token kept for this tab while its visitor signs in or creates an account, so the
 * invitation page can pick it up again afterwards: the link's fragment is taken out of the address
 * bar at once (useTokenFromUrl). Session storage: it leaves with the tab, never reaches a server.
 */
const KEY = 'tierbase:invitation';

export function rememberInvitation(token: string): void {
  try {
    sessionStorage.setItem(KEY, token);
  } catch {
    // No storage (private mode): the person opens the emailed link again after signing in.
  }
}

export function pendingInvitation(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function forgetInvitation(): void {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // Nothing stored.
  }
}
