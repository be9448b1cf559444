import { QueryClientProvider } from '@tanstack/react-query';
// The subpath keeps zod (the contracts' schemas) out of the bundle.
import { PAGES, type PageName } from '@tierbase/contracts/pages';
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
const OrganizationsPage = lazy(() => import('./pages/OrganizationsPage.tsx'));
const OrganizationPage = lazy(() => import('./pages/OrganizationPage.tsx'));
const InvitationPage = lazy(() => import('./pages/InvitationPage.tsx'));
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

/** Every page of `PAGES`, and only those: the compiler refuses a page missing here or extra. */
const pages: Record<PageName, { element: ReactNode; auth?: boolean }> = {
  home: { element: <HomePage /> },
  login: { element: <LoginPage /> },
  register: { element: <RegisterPage /> },
  forgotPassword: { element: <ForgotPasswordPage /> },
  resetPassword: { element: <ResetPasswordPage /> },
  verifyEmail: { element: <VerifyEmailPage /> },
  pricing: { element: <PricingPage /> },
  checkoutReturn: { element: <CheckoutReturnPage />, auth: true },
  billing: { element: <BillingPage />, auth: true },
  settings: { element: <SettingsPage />, auth: true },
  pro: { element: <ProPage />, auth: true },
  organizations: { element: <OrganizationsPage />, auth: true },
  organization: { element: <OrganizationPage />, auth: true },
  // Open to visitors: it previews the invitation and leads to sign in or up.
  invitation: { element: <InvitationPage /> },
  admin: { element: <AdminConsole />, auth: true },
  forbidden: { element: <ForbiddenPage /> },
  serverError: { element: <ServerErrorPage /> },
};

export function AppRoutes() {
  return (
    <Routes>
      <Route element={<Layout />}>
        {(Object.keys(pages) as PageName[]).map((name) => {
          const { element, auth = false } = pages[name];
          // Paths relative to the layout route; the home page is its index.
          const path = PAGES[name] === '/' ? { index: true as const } : { path: PAGES[name].slice(1) };
          return <Route key={name} {...path} element={<Page auth={auth}>{element}</Page>} />;
        })}
        {/* The server answers these with 404 too (apps/api/src/http/spa.ts). */}
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
