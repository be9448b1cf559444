import { useQuery, useQueryClient } from '@tanstack/react-query';
import type { BillingStatus } from '@tierbase/contracts';
import { createContext, type ReactNode, useMemo } from 'react';
import { api } from '../api.ts';
import { useAuth } from '../hooks/useAuth.ts';
import { PROFILE_KEY } from './AuthContext.tsx';

export interface SubscriptionContextValue {
  /** The caller's subscription as the server knows it; null when signed out or not loaded yet. */
  subscription: BillingStatus | null;
  /** Pro access now (trialing, active, or past due within the grace period). */
  isPro: boolean;
  /** A live subscription: trialing or active. */
  isActive: boolean;
  isLoading: boolean;
  error: unknown;
  /** Re-read status and profile from the server. */
  refreshSubscription(): Promise<void>;
  /** Store a status the server just returned (from the sync endpoint). */
  setSubscription(status: BillingStatus): void;
}

export const SubscriptionContext = createContext<SubscriptionContextValue | null>(null);

export const BILLING_STATUS_KEY = ['billing', 'status'] as const;

export function SubscriptionProvider({ children }: { children: ReactNode }) {
  const { isAuthenticated, profile } = useAuth();
  const queryClient = useQueryClient();
  const query = useQuery({
    queryKey: BILLING_STATUS_KEY,
    queryFn: api.billingStatus,
    enabled: isAuthenticated,
    staleTime: 30_000,
  });

  const value = useMemo<SubscriptionContextValue>(() => {
    const subscription = isAuthenticated ? (query.data ?? null) : null;
    const status = subscription?.status ?? profile?.subscription?.status ?? null;
    return {
      subscription,
      isPro: subscription ? subscription.isPro : (profile?.isPro ?? false),
      isActive: status === 'active' || status === 'trialing',
      isLoading: isAuthenticated && query.isPending,
      error: query.error,
      refreshSubscription: async () => {
        await Promise.all([
          queryClient.invalidateQueries({ queryKey: BILLING_STATUS_KEY }),
          queryClient.invalidateQueries({ queryKey: PROFILE_KEY }),
          queryClient.invalidateQueries({ queryKey: ['billing', 'invoices'] }),
        ]);
      },
      setSubscription: (status) => {
        queryClient.setQueryData(BILLING_STATUS_KEY, status);
        void queryClient.invalidateQueries({ queryKey: PROFILE_KEY });
        void queryClient.invalidateQueries({ queryKey: ['billing', 'invoices'] });
      },
    };
  }, [isAuthenticated, profile, query.data, query.isPending, query.error, queryClient]);

  return <SubscriptionContext.Provider value={value}>{children}</SubscriptionContext.Provider>;
}
