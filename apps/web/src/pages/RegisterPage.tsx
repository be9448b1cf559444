import { registerRequest } from '@tierbase/contracts';
import { Link, Navigate, useSearchParams } from 'react-router';
import { AuthShell, FormError, textLink } from '../components/AuthShell.tsx';
import { Button } from '../components/Button.tsx';
import { Field } from '../components/Field.tsx';
import { OAuthButtons } from '../components/OAuthButtons.tsx';
import { safeNext } from '../components/RequireAuth.tsx';
import { useApiForm } from '../hooks/useApiForm.ts';
import { useAuth } from '../hooks/useAuth.ts';

export default function RegisterPage() {
  const { register, isAuthenticated } = useAuth();
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const form = useApiForm({
    initial: { name: '', email: '', password: '' },
    schema: registerRequest,
    // The name is optional: an empty one is left out rather than refused.
    toRequest: ({ name, email, password }) => ({ email, password, ...(name.trim() ? { name } : {}) }),
    submit: register,
  });
  const { mutation } = form;

  if (isAuthenticated && !mutation.isPending && !mutation.isSuccess) return <Navigate to={next} replace />;

  // The same answer whether the address is new or taken (the server does not say which): the
  // link in the email signs a new account in; the owner of a taken one is told how to sign in.
  if (mutation.isSuccess) {
    return (
      <AuthShell
        title="Check your email"
        subtitle={
          <>
            We sent an email to <strong className="text-fg">{form.values.email}</strong>.
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
      <form onSubmit={form.onSubmit} noValidate className="space-y-5">
        <FormError message={form.formError} />
        <Field
          label="Name"
          autoComplete="name"
          hint="Optional. Shown on your dashboard and receipts."
          {...form.field('name')}
        />
        <Field label="Email" type="email" autoComplete="email" required {...form.field('email')} />
        <Field
          label="Password"
          type="password"
          autoComplete="new-password"
          required
          hint="At least 8 characters. Avoid common words and your email."
          {...form.field('password')}
        />
        <Button type="submit" size="lg" className="w-full" loading={mutation.isPending}>
          {mutation.isPending ? 'Creating your account…' : 'Create account'}
        </Button>
      </form>
      <OAuthButtons next={next} />
    </AuthShell>
  );
}
