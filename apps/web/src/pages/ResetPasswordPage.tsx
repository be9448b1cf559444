import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Link } from 'react-router';
import { api, isApiError } from '../api.ts';
import { AuthShell, FormError, textLink } from '../components/AuthShell.tsx';
import { Button, ButtonLink } from '../components/Button.tsx';
import { Field } from '../components/Field.tsx';
import { useAuth } from '../hooks/useAuth.ts';
import { useTokenFromUrl } from '../hooks/useTokenFromUrl.ts';
import { errorMessage, fieldErrors } from '../lib/errors.ts';

export default function ResetPasswordPage() {
  const token = useTokenFromUrl() ?? '';
  const { setUser } = useAuth();
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [mismatch, setMismatch] = useState(false);
  const mutation = useMutation({
    mutationFn: () => api.confirmPasswordReset({ token, password }),
    // The server ended every session of the account, this one included.
    onSuccess: () => setUser(null),
  });

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (password !== confirm) {
      setMismatch(true);
      return;
    }
    setMismatch(false);
    mutation.mutate();
  };

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

  const errors = fieldErrors(mutation.error);
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
      <form onSubmit={onSubmit} noValidate className="space-y-5">
        <FormError message={mutation.error ? errorMessage(mutation.error) : null} />
        <Field
          label="New password"
          type="password"
          name="password"
          autoComplete="new-password"
          required
          value={password}
          onChange={(event) => setPassword(event.target.value)}
          error={errors.password}
          hint="At least 8 characters. Avoid common words and your email."
        />
        <Field
          label="Confirm new password"
          type="password"
          name="confirm"
          autoComplete="new-password"
          required
          value={confirm}
          onChange={(event) => setConfirm(event.target.value)}
          error={mismatch ? 'The two passwords do not match.' : undefined}
        />
        <Button type="submit" size="lg" className="w-full" loading={mutation.isPending}>
          {mutation.isPending ? 'Saving…' : 'Set new password'}
        </Button>
      </form>
    </AuthShell>
  );
}
