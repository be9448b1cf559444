import { useMutation } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import { Navigate, useSearchParams } from 'react-router';
import { api } from '../api.ts';
import { AuthShell } from '../components/AuthShell.tsx';
import { Button, ButtonLink } from '../components/Button.tsx';
import { LoadingState } from '../components/States.tsx';
import { useSubscription } from '../hooks/useSubscription.ts';
import { errorMessage } from '../lib/errors.ts';
import { formatDate } from '../lib/format.ts';

/**
 * Back from Stripe Checkout. The server re-reads the Checkout Session from Stripe, so the page
 * shows the truth without waiting for a webhook.
 */
export default function CheckoutReturnPage() {
  const [params] = useSearchParams();
  const sessionId = params.get('session_id');
  const canceled = params.get('canceled') === '1';
  const { setSubscription } = useSubscription();
  const sync = useMutation({
    mutationFn: () => api.syncBilling(sessionId ?? undefined),
    onSuccess: (status) => setSubscription(status),
  });

  const started = useRef(false);
  useEffect(() => {
    if (sessionId && !started.current) {
      started.current = true;
      sync.mutate();
    }
  }, [sessionId, sync]);

  if (canceled) {
    return (
      <AuthShell title="Checkout canceled" subtitle="No charge was made. You are still on your current plan.">
        <div className="flex flex-col gap-3">
          <ButtonLink to="/pricing">Back to pricing</ButtonLink>
          <ButtonLink to="/" variant="secondary">
            Go to your dashboard
          </ButtonLink>
        </div>
      </AuthShell>
    );
  }
  if (!sessionId) return <Navigate to="/billing" replace />;

  if (sync.isError) {
    return (
      <AuthShell title="We could not confirm your subscription yet" subtitle={errorMessage(sync.error)}>
        <div className="flex flex-col gap-3">
          <Button onClick={() => sync.mutate()} loading={sync.isPending}>
            Try again
          </Button>
          <ButtonLink to="/billing" variant="secondary">
            Go to billing
          </ButtonLink>
        </div>
      </AuthShell>
    );
  }

  if (sync.isSuccess) {
    const status = sync.data;
    if (status.isPro) {
      return (
        <AuthShell
          title="Welcome to Pro"
          subtitle={
            status.status === 'trialing' && status.trialEnd
              ? `Your free trial runs until ${formatDate(status.trialEnd)}.`
              : 'Your subscription is active. Everything is unlocked.'
          }
        >
          <div role="status" className="flex flex-col gap-3">
            <ButtonLink to="/pro">Open the assistant</ButtonLink>
            <ButtonLink to="/billing" variant="secondary">
              See billing
            </ButtonLink>
          </div>
        </AuthShell>
      );
    }
    return (
      <AuthShell
        title="Your payment is still processing"
        subtitle="This usually takes a few seconds. We will unlock Pro as soon as it clears."
      >
        <div className="flex flex-col gap-3">
          <Button onClick={() => sync.mutate()} loading={sync.isPending}>
            Check again
          </Button>
          <ButtonLink to="/billing" variant="secondary">
            Go to billing
          </ButtonLink>
        </div>
      </AuthShell>
    );
  }

  return (
    <AuthShell title="Activating your subscription…" subtitle="Confirming your payment with Stripe.">
      <LoadingState label="Activating…" />
    </AuthShell>
  );
}
