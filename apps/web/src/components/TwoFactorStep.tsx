import { twoFactorLoginRequest } from '@tierbase/contracts';
import { useEffect, useId, useState } from 'react';
import { isApiError } from '../api.ts';
import { useApiForm } from '../hooks/useApiForm.ts';
import { useAuth } from '../hooks/useAuth.ts';
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
  const codeId = useId();
  const form = useApiForm({
    initial: { code: '' },
    schema: twoFactorLoginRequest,
    submit: ({ code }) => loginTwoFactor(code),
    onSuccess: onSignedIn,
    resetOnChange: true,
  });
  const { mutation } = form;
  const expired = isApiError(mutation.error) && mutation.error.code === 'TWO_FACTOR_EXPIRED';

  // The step replaces the password form: the code field takes the focus it had.
  useEffect(() => {
    document.getElementById(codeId)?.focus();
  }, [codeId]);

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
      <form onSubmit={form.onSubmit} noValidate className="space-y-5">
        <FormError message={form.formError} />
        {expired ? (
          <Button type="button" size="lg" className="w-full" onClick={onRestart}>
            Sign in again
          </Button>
        ) : (
          <>
            <Field
              id={codeId}
              label={useBackup ? 'Backup code' : 'Authentication code'}
              autoComplete="one-time-code"
              {...(useBackup
                ? { spellCheck: false, autoCapitalize: 'off' }
                : { inputMode: 'numeric' as const })}
              required
              {...form.field('code')}
            />
            <Button
              type="submit"
              size="lg"
              className="w-full"
              loading={mutation.isPending}
              disabled={form.values.code.trim() === ''}
            >
              {mutation.isPending ? 'Checking…' : 'Verify'}
            </Button>
            <p className="text-center text-sm">
              <button
                type="button"
                className={textLink}
                onClick={() => {
                  setUseBackup(!useBackup);
                  form.reset();
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
