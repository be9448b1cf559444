import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Link, Navigate, useNavigate, useSearchParams } from 'react-router';
import { AuthShell, FormError, textLink } from '../components/AuthShell.tsx';
import { Button } from '../components/Button.tsx';
import { Field } from '../components/Field.tsx';
import { OAuthButtons, OAuthError } from '../components/OAuthButtons.tsx';
import { PasskeySignIn } from '../components/PasskeySignIn.tsx';
import { safeNext } from '../components/RequireAuth.tsx';
import { TwoFactorStep } from '../components/TwoFactorStep.tsx';
import { useAuth } from '../hooks/useAuth.ts';
import { errorMessage, fieldErrors } from '../lib/errors.ts';
import { passkeySupported } from '../lib/passkeys.ts';

export default function LoginPage() {
  const { login, isAuthenticated } = useAuth();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  // True once the password was right and the account asks for a code (TwoFactorStep).
  const [codeStep, setCodeStep] = useState(false);
  const mutation = useMutation({
    mutationFn: () => login({ email, password }),
    onSuccess: (result) => {
      if ('twoFactorRequired' in result) setCodeStep(true);
      else navigate(next, { replace: true });
    },
  });

  if (isAuthenticated && !mutation.isPending && !mutation.isSuccess) return <Navigate to={next} replace />;
  if (codeStep) {
    return (
      <TwoFactorStep
        onSignedIn={() => navigate(next, { replace: true })}
        onRestart={() => {
          setCodeStep(false);
          setPassword('');
          mutation.reset();
        }}
      />
    );
  }

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    mutation.mutate();
  };
  const errors = fieldErrors(mutation.error);
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
      <form onSubmit={onSubmit} noValidate className="space-y-5">
        {reset && !mutation.error && (
          <p role="status" className="rounded-lg bg-ok-soft px-3 py-2 text-sm text-ok">
            Your password was reset. Sign in with the new one.
          </p>
        )}
        {!mutation.error && <OAuthError />}
        <FormError message={mutation.error ? errorMessage(mutation.error) : null} />
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
        <div>
          <Field
            label="Password"
            type="password"
            name="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(event) => setPassword(event.target.value)}
            error={errors.password}
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
