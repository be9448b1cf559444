import { QueryClient } from '@tanstack/react-query';
import { isApiError } from './api.ts';

/** Retries only what can succeed on retry: the network, and the server being briefly down. */
export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        retry: (count, error) =>
          count < 2 && isApiError(error) && ['NETWORK_ERROR', 'SERVICE_UNAVAILABLE'].includes(error.code),
        refetchOnWindowFocus: true,
      },
      mutations: { retry: false },
    },
  });
}
