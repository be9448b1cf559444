import { useMutation } from '@tanstack/react-query';
import { useAuth } from '../hooks/useAuth.ts';
import { errorMessage } from '../lib/errors.ts';
import { ceremonyErrorMessage, passkeySupported, signInWithPasskey } from '../lib/passkeys.ts';
import { FormError } from './AuthShell.tsx';
import { Button } from './Button.tsx';

/**
 * The login page's passkey sign-in: no email needed, the browser offers the passkeys it holds.
 * The button says "Use a passkey": a name with "Sign in" in it would also match the password
 * form's button for any locator that matches names by substring.
 */
export function PasskeySignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const { setUser } = useAuth();
  const mutation = useMutation({
    mutationFn: signInWithPasskey,
    onSuccess: (profile) => {
      // Whatever was cached belonged to the previous caller.
      setUser(null);
      setUser(profile);
      onSignedIn();
    },
  });
  if (!passkeySupported()) return null;
  return (
    <div className="space-y-3">
      <div className="flex items-center gap-3 text-sm text-muted" aria-hidden="true">
        <span className="h-px flex-1 bg-line" />
        or
        <span className="h-px flex-1 bg-line" />
      </div>
      <FormError
        message={
          mutation.error ? (ceremonyErrorMessage(mutation.error) ?? errorMessage(mutation.error)) : null
        }
      />
      <Button
        variant="secondary"
        size="lg"
        className="w-full"
        loading={mutation.isPending}
        onClick={() => mutation.mutate()}
      >
        {mutation.isPending ? 'Waiting for your passkey…' : 'Use a passkey'}
      </Button>
    </div>
  );
}
