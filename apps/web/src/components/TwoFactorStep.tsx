import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useEffect, useId, useState } from 'react';
import { isApiError } from '../api.ts';
import { useAuth } from '../hooks/useAuth.ts';
import { errorMessage } from '../lib/errors.ts';
import { AuthShell, FormError, textLink } from './AuthShell.tsx';
import { Button } from './Button.tsx';
import { Field } from './Field.tsx';

/**
 * The second step of a sign-in with two-factor on: a code from the authenticator app, or a backup
 * code. The password step set a short-lived pending cookie; when it is gone (expired, or too many
 * wrong codes), `onRestart` goes back to the password.
 */
export function TwoFactorStep({ onSignedIn, onRestart }: { onSignedIn: () => void; onRestart: () => void }) {
  const { loginTwoFactor } = useAuth();
  const [useBackup, setUseBackup] = useState(false);
  const [code, setCode] = useState('');
  const codeId = useId();
  const mutation = useMutation({ mutationFn: () => loginTwoFactor(code), onSuccess: onSignedIn });
  const expired = isApiError(mutation.error) && mutation.error.code === 'TWO_FACTOR_EXPIRED';

  // The step replaces the password form: the code field takes the focus it had.
  useEffect(() => {
    document.getElementById(codeId)?.focus();
  }, [codeId]);

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    mutation.mutate();
  };

  return (
    <AuthShell
      title="Two-factor authentication"
      subtitle={
        useBackup
          ? 'Enter one of the backup codes you saved when you turned on two-factor authentication. Each works once.'
          : 'Enter the 6-digit code from your authenticator app.'
      }
      footer={
        <button type="button" className={textLink} onClick={onRestart}>
          Back to sign in
        </button>
      }
    >
      <form onSubmit={onSubmit} noValidate className="space-y-5">
        <FormError message={mutation.error ? errorMessage(mutation.error) : null} />
        {expired ? (
          <Button type="button" size="lg" className="w-full" onClick={onRestart}>
            Sign in again
          </Button>
        ) : (
          <>
            <Field
              id={codeId}
              label={useBackup ? 'Backup code' : 'Authentication code'}
              name="code"
              autoComplete="one-time-code"
              {...(useBackup
                ? { spellCheck: false, autoCapitalize: 'off' }
                : { inputMode: 'numeric' as const })}
              required
              value={code}
              onChange={(event) => {
                setCode(event.target.value);
                if (mutation.isError) mutation.reset();
              }}
            />
            <Button
              type="submit"
              size="lg"
              className="w-full"
              loading={mutation.isPending}
              disabled={code.trim() === ''}
            >
              {mutation.isPending ? 'Checking…' : 'Verify'}
            </Button>
            <p className="text-center text-sm">
              <button
                type="button"
                className={textLink}
                onClick={() => {
                  setUseBackup(!useBackup);
                  setCode('');
                  mutation.reset();
                  document.getElementById(codeId)?.focus();
                }}
              >
                {useBackup ? 'Use a code from your authenticator app' : 'Use a backup code'}
              </button>
            </p>
          </>
        )}
      </form>
    </AuthShell>
  );
}
