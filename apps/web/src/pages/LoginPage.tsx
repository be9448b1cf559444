import { loginRequest } from '@tierbase/contracts';
import { useState } from 'react';
import { Link, Navigate, useNavigate, useSearchParams } from 'react-router';
import { AuthShell, FormError, textLink } from '../components/AuthShell.tsx';
import { Button } from '../components/Button.tsx';
import { Field } from '../components/Field.tsx';
import { OAuthButtons, OAuthError } from '../components/OAuthButtons.tsx';
import { PasskeySignIn } from '../components/PasskeySignIn.tsx';
import { safeNext } from '../components/RequireAuth.tsx';
import { TwoFactorStep } from '../components/TwoFactorStep.tsx';
import { useApiForm } from '../hooks/useApiForm.ts';
import { useAuth } from '../hooks/useAuth.ts';
import { passkeySupported } from '../lib/passkeys.ts';

export default function LoginPage() {
  const { login, isAuthenticated } = useAuth();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  // True once the password was right and the account asks for a code (TwoFactorStep).
  const [codeStep, setCodeStep] = useState(false);
  const form = useApiForm({
    initial: { email: '', password: '' },
    schema: loginRequest,
    submit: login,
    onSuccess: (result) => {
      if ('twoFactorRequired' in result) setCodeStep(true);
      else navigate(next, { replace: true });
    },
  });
  const { mutation } = form;

  if (isAuthenticated && !mutation.isPending && !mutation.isSuccess) return <Navigate to={next} replace />;
  if (codeStep) {
    return (
      <TwoFactorStep
        onSignedIn={() => navigate(next, { replace: true })}
        onRestart={() => {
          setCodeStep(false);
          form.setValue('password', '');
          mutation.reset();
        }}
      />
    );
  }

  const reset = params.get('reset') === '1';

  return (
    <AuthShell
      title="Sign in"
      subtitle={params.get('next') ? 'Sign in to continue.' : 'Welcome back.'}
      footer={
        <>
          New here?{' '}
          <Link
            className={textLink}
            to={params.get('next') ? `/register?next=${encodeURIComponent(next)}` : '/register'}
          >
            Create an account
          </Link>
        </>
      }
    >
      <form onSubmit={form.onSubmit} noValidate className="space-y-5">
        {reset && !form.formError && (
          <p role="status" className="rounded-lg bg-ok-soft px-3 py-2 text-sm text-ok">
            Your password was reset. Sign in with the new one.
          </p>
        )}
        {!form.formError && <OAuthError />}
        <FormError message={form.formError} />
        <Field label="Email" type="email" autoComplete="email" required {...form.field('email')} />
        <div>
          <Field
            label="Password"
            type="password"
            autoComplete="current-password"
            required
            {...form.field('password')}
          />
          <p className="mt-2 text-right text-sm">
            <Link className={textLink} to="/forgot-password">
              Forgot your password?
            </Link>
          </p>
        </div>
        <Button type="submit" size="lg" className="w-full" loading={mutation.isPending}>
          {mutation.isPending ? 'Signing in…' : 'Sign in'}
        </Button>
      </form>
      <div className="mt-5">
        <PasskeySignIn onSignedIn={() => navigate(next, { replace: true })} />
      </div>
      {/* One "or" for every other way in: the passkey button draws it when the browser has passkeys. */}
      <OAuthButtons next={next} divider={!passkeySupported()} />
    </AuthShell>
  );
}
