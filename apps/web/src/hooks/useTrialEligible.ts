import { useAuth } from './useAuth.ts';
import { useSubscription } from './useSubscription.ts';

/**
 * Whether Checkout would start with a free trial: one trial per account, ever (the server decides;
 * this only keeps the buttons honest). Visitors are eligible.
 */
export function useTrialEligible(): boolean {
  const { profile } = useAuth();
  const { subscription } = useSubscription();
  if (!profile) return true;
  return !profile.trialEnd && !profile.subscription && !subscription?.status;
}
