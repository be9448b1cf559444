import { useContext } from 'react';
import { SubscriptionContext, type SubscriptionContextValue } from '../context/SubscriptionContext.tsx';

export function useSubscription(): SubscriptionContextValue {
  const value = useContext(SubscriptionContext);
  if (!value) throw new Error('useSubscription must be used inside <SubscriptionProvider>');
  return value;
}
