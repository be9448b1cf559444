import { useMutation } from '@tanstack/react-query';
import type { BillingInterval, Plan } from '@tierbase/contracts';
import { useState } from 'react';
import { useSearchParams } from 'react-router';
import { api, isApiError } from '../api.ts';
import { Alert } from '../components/Alert.tsx';
import { PortalLink } from '../components/BillingBanners.tsx';
import { Button, ButtonLink } from '../components/Button.tsx';
import { PageTitle } from '../components/PageTitle.tsx';
import { IntervalToggle, PlanCards, yearlySaving } from '../components/PlanCards.tsx';
import { ErrorState, LoadingState } from '../components/States.tsx';
import { useAuth } from '../hooks/useAuth.ts';
import { usePlans } from '../hooks/usePlans.ts';
import { useSubscription } from '../hooks/useSubscription.ts';
import { useTrialEligible } from '../hooks/useTrialEligible.ts';
import { useWorkspace } from '../hooks/useWorkspaces.ts';
import { errorMessage } from '../lib/errors.ts';

export default function PricingPage() {
  const plans = usePlans();
  const { isAuthenticated } = useAuth();
  const { subscription, isPro } = useSubscription();
  const [params] = useSearchParams();
  const trialEligible = useTrialEligible();
  const { canManageBilling } = useWorkspace();
  const [interval, setInterval] = useState<BillingInterval>(subscription?.interval ?? 'month');
  const checkout = useMutation({
    mutationFn: (plan: Plan) => api.checkout(plan.id, interval),
    // Stripe's hosted Checkout is another site: a full navigation, not a route change.
    onSuccess: ({ url }) => window.location.assign(url),
  });

  const currentPlanId = isAuthenticated ? (isPro && subscription ? subscription.plan : 'free') : null;
  const pro = plans.data?.find((plan) => plan.prices.length > 0);
  const alreadySubscribed = isApiError(checkout.error) && checkout.error.code === 'ALREADY_SUBSCRIBED';

  const action = (plan: Plan) => {
    const paid = plan.prices.length > 0;
    if (!isAuthenticated) {
      return (
        <ButtonLink
          to={paid ? '/register?next=%2Fpricing' : '/register'}
          variant={paid ? 'primary' : 'secondary'}
          size="lg"
          className="w-full"
        >
          {paid
            ? plan.trialDays > 0
              ? `Start ${plan.trialDays}-day free trial`
              : `Get ${plan.name}`
            : 'Start free'}
        </ButtonLink>
      );
    }
    if (plan.id === currentPlanId) {
      return paid ? (
        <ButtonLink to="/billing" variant="secondary" size="lg" className="w-full">
          Manage your subscription
        </ButtonLink>
      ) : (
        <Button variant="secondary" size="lg" className="w-full" disabled>
          Your current plan
        </Button>
      );
    }
    if (paid && !canManageBilling) {
      return (
        <p className="text-center text-sm text-muted">
          Your team's owners and admins manage its plan: ask one of them to upgrade.
        </p>
      );
    }
    if (!paid) {
      return (
        <p className="text-center text-sm text-muted">
          To move to Free, cancel Pro from billing. You keep Pro until the period ends.
        </p>
      );
    }
    const pending = checkout.isPending && checkout.variables?.id === plan.id;
    return (
      <Button
        size="lg"
        className="w-full"
        loading={pending || (checkout.isSuccess && checkout.variables?.id === plan.id)}
        disabled={checkout.isPending}
        onClick={() => checkout.mutate(plan)}
      >
        {pending
          ? 'Opening secure checkout…'
          : trialEligible && plan.trialDays > 0
            ? `Start ${plan.trialDays}-day free trial`
            : `Upgrade to ${plan.name}`}
      </Button>
    );
  };

  return (
    <div className="space-y-10">
      <div className="text-center">
        <PageTitle title="Pricing" className="text-3xl! sm:text-5xl!">
          Pick the plan that fits
        </PageTitle>
        <p className="mx-auto mt-4 max-w-xl text-lg text-muted">
          Free to start.{' '}
          {trialEligible && pro && pro.trialDays > 0
            ? `Try ${pro.name} free for ${pro.trialDays} days. `
            : ''}
          Cancel anytime from your billing page.
        </p>
      </div>

      {params.get('reason') === 'pro' && !isPro && (
        <Alert tone="info" title="That feature needs Pro">
          Your account is on the Free plan. Upgrade to use it.
        </Alert>
      )}
      {alreadySubscribed ? (
        <Alert
          tone="info"
          title="You already have a subscription"
          action={<PortalLink>Manage billing</PortalLink>}
        >
          Change your plan or billing period from the billing portal.
        </Alert>
      ) : checkout.error ? (
        <Alert tone="danger" title="Checkout did not open">
          {errorMessage(checkout.error)}
        </Alert>
      ) : null}

      {plans.isPending ? (
        <LoadingState label="Loading plans…" />
      ) : plans.isError ? (
        <ErrorState
          error={plans.error}
          onRetry={() => void plans.refetch()}
          title="We could not load the plans"
        />
      ) : plans.data.length === 0 ? (
        <p className="text-center text-muted">No plans are on sale right now.</p>
      ) : (
        <>
          <div className="flex justify-center">
            <IntervalToggle
              interval={interval}
              onChange={setInterval}
              saving={pro ? yearlySaving(pro) : null}
            />
          </div>
          <div className="mx-auto max-w-4xl">
            <PlanCards
              plans={plans.data}
              interval={interval}
              currentPlanId={currentPlanId}
              showTrial={trialEligible}
              action={action}
            />
          </div>
          <p className="text-center text-sm text-muted">
            Prices in US dollars. Payments are processed by Stripe; we never see your card number.
          </p>
        </>
      )}
    </div>
  );
}
