import { lazy, Suspense } from 'react';
import { LoadingState } from '../components/States.tsx';
import { useAuth } from '../hooks/useAuth.ts';
import { LandingPage } from './LandingPage.tsx';

// The dashboard is only for signed-in users, so a visitor never downloads it.
const DashboardPage = lazy(() => import('./DashboardPage.tsx'));

export default function HomePage() {
  const { isAuthenticated, isLoading } = useAuth();
  if (isLoading) return <LoadingState />;
  if (!isAuthenticated) return <LandingPage />;
  return (
    <Suspense fallback={<LoadingState />}>
      <DashboardPage />
    </Suspense>
  );
}
