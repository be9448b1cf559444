import type { BillingInterval, Plan } from '@tierbase/contracts';
import { formatMoney } from '@tierbase/contracts/money';
import type { ReactNode } from 'react';

export function priceFor(plan: Plan, interval: BillingInterval) {
  return plan.prices.find((price) => price.interval === interval);
}

/** "Save 17%" when paying yearly beats twelve months, else null. */
export function yearlySaving(plan: Plan): number | null {
  const month = priceFor(plan, 'month');
  const year = priceFor(plan, 'year');
  if (!month || !year || month.unitAmount === 0) return null;
  const saving = Math.round((1 - year.unitAmount / (month.unitAmount * 12)) * 100);
  return saving > 0 ? saving : null;
}

export function IntervalToggle({
  interval,
  onChange,
  saving,
}: {
  interval: BillingInterval;
  onChange(interval: BillingInterval): void;
  saving: number | null;
}) {
  const option = (value: BillingInterval, label: string) => (
    <button
      type="button"
      aria-pressed={interval === value}
      onClick={() => onChange(value)}
      className={`rounded-full px-4 py-2 text-sm font-semibold ${
        interval === value ? 'bg-brand text-on-brand shadow-sm' : 'text-muted hover:text-fg'
      }`}
    >
      {label}
    </button>
  );
  return (
    <fieldset className="inline-flex items-center gap-1 rounded-full border border-line bg-surface p-1">
      <legend className="sr-only">Billing period</legend>
      {option('month', 'Monthly')}
      {option('year', saving ? `Yearly · save ${saving}%` : 'Yearly')}
    </fieldset>
  );
}

function CheckIcon() {
  return (
    <svg
      className="mt-0.5 size-5 shrink-0 text-brand"
      viewBox="0 0 20 20"
      fill="currentColor"
      aria-hidden="true"
    >
      <path
        fillRule="evenodd"
        d="M16.7 5.3a1 1 0 0 1 0 1.4l-8 8a1 1 0 0 1-1.4 0l-4-4a1 1 0 1 1 1.4-1.4L8 12.6l7.3-7.3a1 1 0 0 1 1.4 0Z"
        clipRule="evenodd"
      />
    </svg>
  );
}

/** One card per plan: price for the chosen period, trial, features, and the caller's action. */
export function PlanCards({
  plans,
  interval,
  currentPlanId,
  showTrial = true,
  action,
}: {
  plans: Plan[];
  interval: BillingInterval;
  /** The signed-in user's plan, marked "Current plan". */
  currentPlanId?: string | null;
  /** False when the account already had its trial. */
  showTrial?: boolean;
  action(plan: Plan): ReactNode;
}) {
  return (
    <ul className="grid gap-6 md:grid-cols-2">
      {plans.map((plan) => {
        const price = priceFor(plan, interval);
        const featured = plan.prices.length > 0;
        const current = currentPlanId === plan.id;
        const headingId = `plan-${plan.id}`;
        return (
          <li
            key={plan.id}
            aria-labelledby={headingId}
            className={`relative flex flex-col rounded-2xl border bg-surface p-6 shadow-sm sm:p-8 ${
              featured ? 'border-brand ring-1 ring-brand' : 'border-line'
            }`}
          >
            <div className="flex items-center justify-between gap-3">
              <h3 id={headingId} className="text-xl font-bold">
                {plan.name}
              </h3>
              {current ? (
                <span className="rounded-full bg-ok-soft px-3 py-1 text-xs font-semibold text-ok">
                  Current plan
                </span>
              ) : featured && showTrial && plan.trialDays > 0 ? (
                <span className="rounded-full bg-brand-soft px-3 py-1 text-xs font-semibold text-brand-fg">
                  {plan.trialDays}-day free trial
                </span>
              ) : null}
            </div>
            <p className="mt-2 text-sm text-muted">{plan.description}</p>
            <p className="mt-6 flex items-baseline gap-1">
              <span className="text-4xl font-bold tracking-tight">
                {price
                  ? formatMoney(price.unitAmount, price.currency, { omitZeroFraction: true })
                  : formatMoney(0, 'usd', { omitZeroFraction: true })}
              </span>
              <span className="text-sm text-muted">
                {price ? (interval === 'month' ? '/ month' : '/ year') : 'forever'}
              </span>
            </p>
            {price && interval === 'year' && (
              <p className="mt-1 text-sm text-muted">
                {formatMoney(Math.round(price.unitAmount / 12), price.currency, { omitZeroFraction: true })} a
                month, billed yearly
              </p>
            )}
            {price && showTrial && plan.trialDays > 0 && (
              <p className="mt-1 text-sm text-muted">
                Free for {plan.trialDays} days, then billed. Cancel anytime.
              </p>
            )}
            <ul className="mt-6 flex-1 space-y-3 text-sm">
              {plan.features.map((feature) => (
                <li key={feature} className="flex gap-2">
                  <CheckIcon />
                  <span>{feature}</span>
                </li>
              ))}
            </ul>
            <div className="mt-8">{action(plan)}</div>
          </li>
        );
      })}
    </ul>
  );
}
