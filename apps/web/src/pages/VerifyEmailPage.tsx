import { useMutation } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import { Link, Navigate } from 'react-router';
import { api, isApiError } from '../api.ts';
import { AuthShell, textLink } from '../components/AuthShell.tsx';
import { ButtonLink } from '../components/Button.tsx';
import { ResendVerification } from '../components/ResendVerification.tsx';
import { LoadingState } from '../components/States.tsx';
import { useAuth } from '../hooks/useAuth.ts';
import { useTokenFromUrl } from '../hooks/useTokenFromUrl.ts';
import { errorMessage } from '../lib/errors.ts';
import { pendingInvitation } from '../lib/pendingInvitation.ts';

export default function VerifyEmailPage() {
  const token = useTokenFromUrl();
  const { isAuthenticated, currentUser, refreshProfile } = useAuth();
  // The link's first use signs its user in: the profile is read again before the page moves on.
  const mutation = useMutation({
    mutationFn: async (value: string) => {
      const result = await api.verifyEmail(value);
      await refreshProfile();
      return result;
    },
  });

  // The token is single-use: send it once even when React runs effects twice in development.
  const sent = useRef(false);
  useEffect(() => {
    if (token && !sent.current) {
      sent.current = true;
      mutation.mutate(token);
    }
  }, [token, mutation]);

  if (!token) {
    if (currentUser?.emailVerified) {
      return (
        <AuthShell title="Your email is verified">
          <ButtonLink to="/" className="w-full">
            Go to your dashboard
          </ButtonLink>
        </AuthShell>
      );
    }
    return (
      <AuthShell
        title="Check your inbox"
        subtitle={
          currentUser ? (
            <>
              We sent a verification link to <strong className="text-fg">{currentUser.email}</strong>.
            </>
          ) : (
            'Open the link we emailed you to verify your address.'
          )
        }
      >
        {isAuthenticated ? (
          <div className="space-y-3">
            <p className="text-sm text-muted">No email? Check spam, or send a new link.</p>
            <ResendVerification variant="primary" />
          </div>
        ) : (
          <p className="text-sm text-muted">
            To get a new link,{' '}
            <Link className={textLink} to="/login?next=%2Fverify-email">
              sign in
            </Link>{' '}
            and ask for one.
          </p>
        )}
      </AuthShell>
    );
  }

  // Signed in (a new account, by this link): straight into the app, or back to the invitation
  // that sent them to sign up.
  if (mutation.isSuccess && isAuthenticated) {
    return <Navigate to={pendingInvitation() ? '/invitations' : '/'} replace />;
  }

  if (mutation.isSuccess) {
    return (
      <AuthShell title="Email verified" subtitle="Thanks, your address is confirmed.">
        <div role="status">
          <ButtonLink to={isAuthenticated ? '/' : '/login'} className="w-full">
            {isAuthenticated ? 'Go to your dashboard' : 'Sign in'}
          </ButtonLink>
        </div>
      </AuthShell>
    );
  }

  if (mutation.isError) {
    const expired = isApiError(mutation.error) && mutation.error.code === 'INVALID_TOKEN';
    return (
      <AuthShell
        title={expired ? 'This link has expired' : 'We could not verify your email'}
        subtitle={expired ? 'Verification links work once and expire.' : errorMessage(mutation.error)}
      >
        {isAuthenticated ? (
          <ResendVerification variant="primary" />
        ) : (
          <ButtonLink to="/login?next=%2Fverify-email" className="w-full">
            Sign in to get a new link
          </ButtonLink>
        )}
      </AuthShell>
    );
  }

  return (
    <AuthShell title="Verifying your email">
      <LoadingState label="Verifying…" />
    </AuthShell>
  );
}
