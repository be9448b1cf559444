import { QueryClientProvider } from '@tanstack/react-query';
import { lazy, type ReactNode, Suspense, useState } from 'react';
import { BrowserRouter, Route, Routes, useLocation } from 'react-router';
import { ErrorBoundary } from './components/ErrorBoundary.tsx';
import { Layout } from './components/Layout.tsx';
import { RequireAuth } from './components/RequireAuth.tsx';
import { LoadingState } from './components/States.tsx';
import { AuthProvider } from './context/AuthContext.tsx';
import { SubscriptionProvider } from './context/SubscriptionContext.tsx';
import { createQueryClient } from './queryClient.ts';

// One chunk per page: a visitor's first load carries only the landing or login page.
const HomePage = lazy(() => import('./pages/HomePage.tsx'));
const LoginPage = lazy(() => import('./pages/LoginPage.tsx'));
const RegisterPage = lazy(() => import('./pages/RegisterPage.tsx'));
const ForgotPasswordPage = lazy(() => import('./pages/ForgotPasswordPage.tsx'));
const ResetPasswordPage = lazy(() => import('./pages/ResetPasswordPage.tsx'));
const VerifyEmailPage = lazy(() => import('./pages/VerifyEmailPage.tsx'));
const PricingPage = lazy(() => import('./pages/PricingPage.tsx'));
const CheckoutReturnPage = lazy(() => import('./pages/CheckoutReturnPage.tsx'));
const BillingPage = lazy(() => import('./pages/BillingPage.tsx'));
const SettingsPage = lazy(() => import('./pages/SettingsPage.tsx'));
const ProPage = lazy(() => import('./pages/ProPage.tsx'));
const AdminConsole = lazy(() => import('./pages/admin/AdminConsole.tsx'));
const ForbiddenPage = lazy(() => import('./pages/ForbiddenPage.tsx'));
const NotFoundPage = lazy(() => import('./pages/NotFoundPage.tsx'));
const ServerErrorPage = lazy(() => import('./pages/ServerErrorPage.tsx'));

function Page({ children, auth = false }: { children: ReactNode; auth?: boolean }) {
  // Keyed by path so an error on one page does not stick to the next.
  const { pathname } = useLocation();
  const page = <Suspense fallback={<LoadingState />}>{children}</Suspense>;
  return <ErrorBoundary key={pathname}>{auth ? <RequireAuth>{page}</RequireAuth> : page}</ErrorBoundary>;
}

export function AppRoutes() {
  return (
    <Routes>
      <Route element={<Layout />}>
        <Route
          index
          element={
            <Page>
              <HomePage />
            </Page>
          }
        />
        <Route
          path="login"
          element={
            <Page>
              <LoginPage />
            </Page>
          }
        />
        <Route
          path="register"
          element={
            <Page>
              <RegisterPage />
            </Page>
          }
        />
        <Route
          path="forgot-password"
          element={
            <Page>
              <ForgotPasswordPage />
            </Page>
          }
        />
        <Route
          path="reset-password"
          element={
            <Page>
              <ResetPasswordPage />
            </Page>
          }
        />
        <Route
          path="verify-email"
          element={
            <Page>
              <VerifyEmailPage />
            </Page>
          }
        />
        <Route
          path="pricing"
          element={
            <Page>
              <PricingPage />
            </Page>
          }
        />
        <Route
          path="checkout/return"
          element={
            <Page auth>
              <CheckoutReturnPage />
            </Page>
          }
        />
        <Route
          path="billing"
          element={
            <Page auth>
              <BillingPage />
            </Page>
          }
        />
        <Route
          path="settings"
          element={
            <Page auth>
              <SettingsPage />
            </Page>
          }
        />
        <Route
          path="pro"
          element={
            <Page auth>
              <ProPage />
            </Page>
          }
        />
        <Route
          path="admin/*"
          element={
            <Page auth>
              <AdminConsole />
            </Page>
          }
        />
        <Route
          path="403"
          element={
            <Page>
              <ForbiddenPage />
            </Page>
          }
        />
        <Route
          path="500"
          element={
            <Page>
              <ServerErrorPage />
            </Page>
          }
        />
        <Route
          path="*"
          element={
            <Page>
              <NotFoundPage />
            </Page>
          }
        />
      </Route>
    </Routes>
  );
}

export function App() {
  const [queryClient] = useState(createQueryClient);
  return (
    <QueryClientProvider client={queryClient}>
      <BrowserRouter>
        <AuthProvider>
          <SubscriptionProvider>
            <AppRoutes />
          </SubscriptionProvider>
        </AuthProvider>
      </BrowserRouter>
    </QueryClientProvider>
  );
}
