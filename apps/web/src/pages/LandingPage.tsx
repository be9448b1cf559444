import type { BillingInterval } from '@tierbase/contracts';
import { useState } from 'react';
import { useLocation } from 'react-router';
import { Alert } from '../components/Alert.tsx';
import { ButtonLink } from '../components/Button.tsx';
import { PageTitle } from '../components/PageTitle.tsx';
import { IntervalToggle, PlanCards, yearlySaving } from '../components/PlanCards.tsx';
import { ErrorState, LoadingState } from '../components/States.tsx';
import { usePlans } from '../hooks/usePlans.ts';

const FEATURES = [
  {
    title: 'Accounts that hold up',
    body: 'Sign-up, email verification, password reset and sessions you can revoke, with rate limits in front.',
  },
  {
    title: 'Billing that tells the truth',
    body: 'Stripe Checkout, the customer portal, invoices and dunning, with webhooks applied exactly once.',
  },
  {
    title: 'A Pro tier, enforced',
    body: 'Trials, grace periods for failed payments, and Pro features gated on the server, not just the screen.',
  },
];

export function LandingPage() {
  const plans = usePlans();
  const [interval, setInterval] = useState<BillingInterval>('month');
  const pro = plans.data?.find((plan) => plan.prices.length > 0);
  const trialDays = pro?.trialDays ?? 0;
  // Set by the settings page after the visitor deleted their account.
  const accountDeleted =
    (useLocation().state as { accountDeleted?: boolean } | null)?.accountDeleted === true;

  return (
    <div className="space-y-20 sm:space-y-28">
      {accountDeleted && (
        <Alert tone="success" title="Your account has been deleted">
          We have erased your data and sent a confirmation to your email address.
        </Alert>
      )}
      <section className="pt-4 text-center sm:pt-10">
        <p className="mx-auto inline-flex rounded-full border border-line bg-surface px-3 py-1 text-sm font-medium text-muted">
          Subscriptions, done properly
        </p>
        <PageTitle
          title="Tierbase: the subscription product, ready to ship"
          className="mx-auto mt-6 max-w-3xl text-4xl! leading-tight sm:text-6xl!"
        >
          Ship the product. <span className="text-brand">Billing is handled.</span>
        </PageTitle>
        <p className="mx-auto mt-6 max-w-2xl text-lg text-muted">
          Tierbase gives your customers accounts, a free plan, a Pro plan with an AI assistant, and a billing
          page they can trust, from the first trial to the last invoice.
        </p>
        <div className="mt-10 flex flex-col justify-center gap-3 sm:flex-row">
          <ButtonLink to="/register" size="lg">
            {trialDays > 0 ? `Start your ${trialDays}-day free trial` : 'Get started free'}
          </ButtonLink>
          <ButtonLink to="/pricing" size="lg" variant="secondary">
            See pricing
          </ButtonLink>
        </div>
      </section>

      <section aria-labelledby="features-title">
        <h2 id="features-title" className="sr-only">
          Features
        </h2>
        <ul className="grid gap-6 md:grid-cols-3">
          {FEATURES.map((feature) => (
            <li key={feature.title} className="rounded-2xl border border-line bg-surface p-6 shadow-sm">
              <h3 className="font-semibold">{feature.title}</h3>
              <p className="mt-2 text-sm text-muted">{feature.body}</p>
            </li>
          ))}
        </ul>
      </section>

      <section aria-labelledby="pricing-title" className="space-y-8">
        <div className="text-center">
          <h2 id="pricing-title" className="text-3xl font-bold tracking-tight">
            Simple pricing
          </h2>
          <p className="mt-2 text-muted">Start free. Upgrade when you need more.</p>
        </div>
        {plans.isPending ? (
          <LoadingState label="Loading plans…" />
        ) : plans.isError ? (
          <ErrorState
            error={plans.error}
            onRetry={() => void plans.refetch()}
            title="We could not load the plans"
          />
        ) : (
          <>
            <div className="flex justify-center">
              <IntervalToggle
                interval={interval}
                onChange={setInterval}
                saving={pro ? yearlySaving(pro) : null}
              />
            </div>
            <PlanCards
              plans={plans.data}
              interval={interval}
              action={(plan) =>
                plan.prices.length > 0 ? (
                  <ButtonLink to="/register?next=%2Fpricing" className="w-full" size="lg">
                    {plan.trialDays > 0 ? `Start ${plan.trialDays}-day free trial` : `Get ${plan.name}`}
                  </ButtonLink>
                ) : (
                  <ButtonLink to="/register" variant="secondary" className="w-full" size="lg">
                    Start free
                  </ButtonLink>
                )
              }
            />
          </>
        )}
      </section>
    </div>
  );
}
