import { useEffect } from 'react';
import { Link, Outlet, useNavigate } from 'react-router';
import { setApiEvents } from '../api.ts';
import { useAuth } from '../hooks/useAuth.ts';
import { useSubscription } from '../hooks/useSubscription.ts';
import { Alert } from './Alert.tsx';
import { Navigation } from './Navigation.tsx';

export function Layout() {
  const navigate = useNavigate();
  const { sessionError, refreshProfile } = useAuth();
  const { refreshSubscription } = useSubscription();

  // A Pro-only call refused by the server: the subscription changed under us; show the plans.
  useEffect(
    () =>
      setApiEvents({
        onSubscriptionInactive: () => {
          void refreshSubscription();
          navigate('/pricing?reason=pro');
        },
      }),
    [navigate, refreshSubscription],
  );

  return (
    <div className="flex min-h-dvh flex-col">
      <a
        href="#main"
        className="sr-only z-50 rounded-md bg-brand px-4 py-2 text-on-brand focus:not-sr-only focus:fixed focus:top-2 focus:left-2"
      >
        Skip to content
      </a>
      <Navigation />
      {sessionError ? (
        <div className="mx-auto w-full max-w-6xl px-4 pt-4 sm:px-6">
          <Alert
            tone="danger"
            title="We could not reach the server"
            action={
              <button type="button" className="underline" onClick={() => void refreshProfile()}>
                Retry
              </button>
            }
          >
            Some things may not load until the connection is back.
          </Alert>
        </div>
      ) : null}
      <main id="main" className="mx-auto w-full max-w-6xl flex-1 px-4 py-8 sm:px-6 sm:py-12">
        <Outlet />
      </main>
      <footer className="border-t border-line">
        <div className="mx-auto flex max-w-6xl flex-col gap-2 px-4 py-6 text-sm text-muted sm:flex-row sm:justify-between sm:px-6">
          <p>© {new Date().getFullYear()} Tierbase</p>
          <p className="flex gap-4">
            <Link className="hover:text-fg underline-offset-4 hover:underline" to="/pricing">
              Pricing
            </Link>
            <a className="hover:text-fg underline-offset-4 hover:underline" href="/api/docs">
              API
            </a>
          </p>
        </div>
      </footer>
    </div>
  );
}
