import { passwordResetConfirmRequest } from '@tierbase/contracts';
import { Link } from 'react-router';
import { api, isApiError } from '../api.ts';
import { AuthShell, FormError, textLink } from '../components/AuthShell.tsx';
import { Button, ButtonLink } from '../components/Button.tsx';
import { Field } from '../components/Field.tsx';
import { useApiForm } from '../hooks/useApiForm.ts';
import { useAuth } from '../hooks/useAuth.ts';
import { useTokenFromUrl } from '../hooks/useTokenFromUrl.ts';
import { PASSWORDS_DIFFER } from '../lib/errors.ts';

export default function ResetPasswordPage() {
  const token = useTokenFromUrl() ?? '';
  const { setUser } = useAuth();
  const form = useApiForm({
    initial: { password: '', confirm: '' },
    schema: passwordResetConfirmRequest,
    toRequest: ({ password }) => ({ token, password }),
    validate: ({ password, confirm }) => ({ confirm: password !== confirm ? PASSWORDS_DIFFER : undefined }),
    submit: api.confirmPasswordReset,
    // The server ended every session of the account, this one included.
    onSuccess: () => setUser(null),
  });
  const { mutation } = form;

  const invalidToken = !token || (isApiError(mutation.error) && mutation.error.code === 'INVALID_TOKEN');
  if (invalidToken) {
    return (
      <AuthShell title="This link does not work" subtitle="Reset links work once and expire after a while.">
        <div className="space-y-4">
          <p className="text-sm text-muted">Ask for a new link and use the newest email.</p>
          <ButtonLink to="/forgot-password" className="w-full">
            Send a new link
          </ButtonLink>
        </div>
      </AuthShell>
    );
  }

  if (mutation.isSuccess) {
    return (
      <AuthShell title="Password changed">
        <div role="status" className="space-y-4">
          <p className="text-sm text-muted">{mutation.data.message}</p>
          <ButtonLink to="/login?reset=1" className="w-full">
            Sign in
          </ButtonLink>
        </div>
      </AuthShell>
    );
  }

  return (
    <AuthShell
      title="Choose a new password"
      subtitle="You will be signed out everywhere else."
      footer={
        <Link className={textLink} to="/login">
          Back to sign in
        </Link>
      }
    >
      <form onSubmit={form.onSubmit} noValidate className="space-y-5">
        <FormError message={form.formError} />
        <Field
          label="New password"
          type="password"
          autoComplete="new-password"
          required
          hint="At least 8 characters. Avoid common words and your email."
          {...form.field('password')}
        />
        <Field
          label="Confirm new password"
          type="password"
          autoComplete="new-password"
          required
          {...form.field('confirm')}
        />
        <Button type="submit" size="lg" className="w-full" loading={mutation.isPending}>
          {mutation.isPending ? 'Saving…' : 'Set new password'}
        </Button>
      </form>
    </AuthShell>
  );
}
