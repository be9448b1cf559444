import { lazy, Suspense, useEffect } from 'react';
import { useLocation } from 'react-router';
import { LoadingState } from '../components/States.tsx';
import { useAuth } from '../hooks/useAuth.ts';
import { LandingPage } from './LandingPage.tsx';

// The dashboard is only for signed-in users, so a visitor never downloads it.
const DashboardPage = lazy(() => import('./DashboardPage.tsx'));

export default function HomePage() {
  const { isAuthenticated, isLoading, setUser } = useAuth();
  // Arriving from the account deletion: the server has ended the session; forget the user here,
  // now that no signed-in page is on screen to send us to the sign-in form.
  const accountDeleted =
    (useLocation().state as { accountDeleted?: boolean } | null)?.accountDeleted === true;
  useEffect(() => {
    if (accountDeleted && isAuthenticated) setUser(null);
  }, [accountDeleted, isAuthenticated, setUser]);
  if (isLoading) return <LoadingState />;
  if (!isAuthenticated || accountDeleted) return <LandingPage />;
  return (
    <Suspense fallback={<LoadingState />}>
      <DashboardPage />
    </Suspense>
  );
}
