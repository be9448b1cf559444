import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Link } from 'react-router';
import { api } from '../api.ts';
import { AuthShell, FormError, textLink } from '../components/AuthShell.tsx';
import { Button } from '../components/Button.tsx';
import { Field } from '../components/Field.tsx';
import { errorMessage, fieldErrors } from '../lib/errors.ts';

export default function ForgotPasswordPage() {
  const [email, setEmail] = useState('');
  const mutation = useMutation({ mutationFn: () => api.requestPasswordReset(email) });

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    mutation.mutate();
  };

  return (
    <AuthShell
      title="Reset your password"
      subtitle="We will email you a link to choose a new one."
      footer={
        <>
          Remembered it?{' '}
          <Link className={textLink} to="/login">
            Back to sign in
          </Link>
        </>
      }
    >
      {mutation.isSuccess ? (
        <div role="status" className="space-y-2">
          <p className="font-semibold">Check your inbox</p>
          <p className="text-sm text-muted">{mutation.data.message}</p>
          <p className="text-sm text-muted">The link expires soon and works once.</p>
        </div>
      ) : (
        <form onSubmit={onSubmit} noValidate className="space-y-5">
          <FormError message={mutation.error ? errorMessage(mutation.error) : null} />
          <Field
            label="Email"
            type="email"
            name="email"
            autoComplete="email"
            required
            value={email}
            onChange={(event) => setEmail(event.target.value)}
            error={fieldErrors(mutation.error).email}
          />
          <Button type="submit" size="lg" className="w-full" loading={mutation.isPending}>
            {mutation.isPending ? 'Sending…' : 'Email me a reset link'}
          </Button>
        </form>
      )}
    </AuthShell>
  );
}
