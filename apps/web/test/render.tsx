import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render } from '@testing-library/react';
import { MemoryRouter, useLocation } from 'react-router';
import { AppRoutes } from '../src/App.tsx';
import { AuthProvider } from '../src/context/AuthContext.tsx';
import { SubscriptionProvider } from '../src/context/SubscriptionContext.tsx';

/** Where the router is, shown so tests can assert redirects the way a user sees the address bar. */
function LocationProbe() {
  const location = useLocation();
  return <output data-testid="location">{`${location.pathname}${location.search}${location.hash}`}</output>;
}

/**
 * The whole app (providers, routes, layout) at `path`, talking to whatever fetch is stubbed; with
 * its query client, for a test to wait until a query has settled.
 */
export function renderApp(path: string) {
  const queryClient = new QueryClient({
    defaultOptions: { queries: { retry: false }, mutations: { retry: false } },
  });
  const rendered = render(
    <QueryClientProvider client={queryClient}>
      <MemoryRouter initialEntries={[path]}>
        <AuthProvider>
          <SubscriptionProvider>
            <AppRoutes />
            <LocationProbe />
          </SubscriptionProvider>
        </AuthProvider>
      </MemoryRouter>
    </QueryClientProvider>,
  );
  return Object.assign(rendered, { queryClient });
}
