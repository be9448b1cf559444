import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Link, Navigate, useSearchParams } from 'react-router';
import { AuthShell, FormError, textLink } from '../components/AuthShell.tsx';
import { Button } from '../components/Button.tsx';
import { Field } from '../components/Field.tsx';
import { OAuthButtons } from '../components/OAuthButtons.tsx';
import { safeNext } from '../components/RequireAuth.tsx';
import { useAuth } from '../hooks/useAuth.ts';
import { errorMessage, fieldErrors } from '../lib/errors.ts';

export default function RegisterPage() {
  const { register, isAuthenticated } = useAuth();
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const mutation = useMutation({
    mutationFn: () => register({ email, password, ...(name.trim() ? { name: name.trim() } : {}) }),
  });

  if (isAuthenticated && !mutation.isPending && !mutation.isSuccess) return <Navigate to={next} replace />;

  // The same answer whether the address is new or taken (the server does not say which): the
  // link in the email signs a new account in; the owner of a taken one is told how to sign in.
  if (mutation.isSuccess) {
    return (
      <AuthShell
        title="Check your email"
        subtitle={
          <>
            We sent an email to <strong className="text-fg">{email}</strong>.
          </>
        }
        footer={
          <>
            Wrong address?{' '}
            <button type="button" className={textLink} onClick={() => mutation.reset()}>
              Start again
            </button>
          </>
        }
      >
        <div role="status" className="space-y-3">
          <p className="text-sm text-muted">{mutation.data.message}</p>
          <p className="text-sm text-muted">No email after a few minutes? Check your spam folder.</p>
        </div>
      </AuthShell>
    );
  }

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    mutation.mutate();
  };
  const errors = fieldErrors(mutation.error);

  return (
    <AuthShell
      title="Create your account"
      subtitle="Start free. Upgrade when you need Pro."
      footer={
        <>
          Already have an account?{' '}
          <Link
            className={textLink}
            to={params.get('next') ? `/login?next=${encodeURIComponent(next)}` : '/login'}
          >
            Sign in
          </Link>
        </>
      }
    >
      <form onSubmit={onSubmit} noValidate className="space-y-5">
        <FormError message={mutation.error ? errorMessage(mutation.error) : null} />
        <Field
          label="Name"
          name="name"
          autoComplete="name"
          value={name}
          onChange={(event) => setName(event.target.value)}
          error={errors.name}
          hint="Optional. Shown on your dashboard and receipts."
        />
        <Field
          label="Email"
          type="email"
          name="email"
          autoComplete="email"
          required
          value={email}
          onChange={(event) => setEmail(event.target.value)}
          error={errors.email}
        />
        <Field
          label="Password"
          type="password"
          name="password"
          autoComplete="new-password"
          required
          value={password}
          onChange={(event) => setPassword(event.target.value)}
          error={errors.password}
          hint="At least 8 characters. Avoid common words and your email."
        />
        <Button type="submit" size="lg" className="w-full" loading={mutation.isPending}>
          {mutation.isPending ? 'Creating your account…' : 'Create account'}
        </Button>
      </form>
      <OAuthButtons next={next} />
    </AuthShell>
  );
}
