import { formatMoney } from '@tierbase/contracts/money';
import { Link } from 'react-router';
import { Alert } from '../components/Alert.tsx';
import { BillingBanners } from '../components/BillingBanners.tsx';
import { ButtonLink } from '../components/Button.tsx';
import { Card } from '../components/Card.tsx';
import { PageTitle } from '../components/PageTitle.tsx';
import { ResendVerification } from '../components/ResendVerification.tsx';
import { ErrorState, LoadingState } from '../components/States.tsx';
import { StatusBadge } from '../components/StatusBadge.tsx';
import { useAuth } from '../hooks/useAuth.ts';
import { usePlans } from '../hooks/usePlans.ts';
import { useSubscription } from '../hooks/useSubscription.ts';
import { useTrialEligible } from '../hooks/useTrialEligible.ts';
import { useWorkspace } from '../hooks/useWorkspaces.ts';
import { formatDate } from '../lib/format.ts';

export default function DashboardPage() {
  const { currentUser } = useAuth();
  const { subscription, isPro, isLoading, error, refreshSubscription } = useSubscription();
  const firstName = currentUser?.name?.split(' ')[0];

  return (
    <div className="space-y-8">
      <div>
        <PageTitle title="Dashboard">{firstName ? `Welcome back, ${firstName}` : 'Welcome back'}</PageTitle>
        <p className="mt-1 text-muted">
          {isPro ? 'You are on Pro. Everything is unlocked.' : 'You are on the Free plan.'}
        </p>
      </div>

      {currentUser && !currentUser.emailVerified && (
        <Alert tone="info" title="Confirm your email address" action={<ResendVerification />}>
          We sent a link to <strong>{currentUser.email}</strong>. Verifying keeps your account recoverable.
        </Alert>
      )}
      {subscription && <BillingBanners status={subscription} />}

      {isLoading ? (
        <LoadingState label="Loading your plan…" />
      ) : error ? (
        <ErrorState
          error={error}
          onRetry={() => void refreshSubscription()}
          title="We could not load your plan"
        />
      ) : isPro && subscription ? (
        <ProSummary />
      ) : (
        <UpgradeCall />
      )}

      <section aria-labelledby="shortcuts-title">
        <h2 id="shortcuts-title" className="text-lg font-semibold">
          Shortcuts
        </h2>
        <ul className="mt-4 grid gap-4 sm:grid-cols-3">
          <Shortcut
            to="/pro"
            title="AI assistant"
            body={isPro ? 'Draft, summarise and ask.' : 'Included with Pro.'}
          />
          <Shortcut to="/billing" title="Billing" body="Plan, payment method and invoices." />
          <Shortcut to="/settings" title="Settings" body="Name, password and sessions." />
        </ul>
      </section>
    </div>
  );
}

function Shortcut({ to, title, body }: { to: string; title: string; body: string }) {
  return (
    <li>
      <Link
        to={to}
        className="block h-full rounded-2xl border border-line bg-surface p-5 shadow-sm transition-colors hover:border-brand"
      >
        <span className="font-semibold">{title}</span>
        <span className="mt-1 block text-sm text-muted">{body}</span>
      </Link>
    </li>
  );
}

function ProSummary() {
  const { subscription } = useSubscription();
  const { canManageBilling } = useWorkspace();
  if (!subscription) return null;
  const ends = subscription.cancelAtPeriodEnd;
  return (
    <Card>
      <div className="flex flex-col gap-6 sm:flex-row sm:items-center sm:justify-between">
        <div>
          <div className="flex items-center gap-3">
            <h2 className="text-xl font-bold capitalize">{subscription.plan} plan</h2>
            <StatusBadge status={subscription.status} />
          </div>
          <p className="mt-1 text-sm text-muted">
            {subscription.status === 'trialing' && subscription.trialEnd
              ? `Trial ends ${formatDate(subscription.trialEnd)}`
              : subscription.currentPeriodEnd
                ? `${ends ? 'Ends' : 'Renews'} ${formatDate(subscription.currentPeriodEnd)}`
                : null}
            {subscription.interval
              ? ` · billed ${subscription.interval === 'year' ? 'yearly' : 'monthly'}`
              : null}
          </p>
        </div>
        <div className="flex flex-wrap gap-3">
          <ButtonLink to="/pro">Open the assistant</ButtonLink>
          <ButtonLink to="/billing" variant="secondary">
            {canManageBilling ? 'Manage billing' : 'See billing'}
          </ButtonLink>
        </div>
      </div>
    </Card>
  );
}

function UpgradeCall() {
  const plans = usePlans();
  const trialEligible = useTrialEligible();
  const pro = plans.data?.find((plan) => plan.prices.length > 0);
  const monthly = pro?.prices.find((price) => price.interval === 'month');
  return (
    <section
      aria-labelledby="upgrade-call"
      className="overflow-hidden rounded-2xl border border-brand/40 bg-brand-soft p-6 sm:p-8"
    >
      <div className="flex flex-col gap-6 md:flex-row md:items-center md:justify-between">
        <div>
          <h2 id="upgrade-call" className="text-xl font-bold">
            Unlock Pro
            {monthly
              ? ` for ${formatMoney(monthly.unitAmount, monthly.currency, { omitZeroFraction: true })} a month`
              : ''}
          </h2>
          <ul className="mt-3 space-y-1 text-sm">
            {(pro?.features ?? []).map((feature) => (
              <li key={feature}>✓ {feature}</li>
            ))}
          </ul>
        </div>
        <div className="flex flex-col items-start gap-2 md:items-end">
          <ButtonLink to="/pricing" size="lg">
            {trialEligible && pro && pro.trialDays > 0
              ? `Start ${pro.trialDays}-day free trial`
              : 'Upgrade to Pro'}
          </ButtonLink>
          <span className="text-sm text-muted">Cancel anytime.</span>
        </div>
      </div>
    </section>
  );
}
