import { useMutation } from '@tanstack/react-query';
import type { BillingInterval, BillingStatus, PlanChangePreview } from '@tierbase/contracts';
import { formatMoney } from '@tierbase/contracts/money';
import { useId, useState } from 'react';
import { api, isApiError } from '../api.ts';
import { useAuth } from '../hooks/useAuth.ts';
import { useSubscription } from '../hooks/useSubscription.ts';
import { errorMessage } from '../lib/errors.ts';
import { formatDate } from '../lib/format.ts';
import { Alert } from './Alert.tsx';
import { PortalLink } from './BillingBanners.tsx';
import { Button } from './Button.tsx';

const billing = (interval: BillingInterval) => (interval === 'year' ? 'yearly' : 'monthly');

/**
 * "Switch to yearly/monthly billing": the server's preview of the prorated charge first, then the
 * change once the user confirms that amount. The confirmation sends the preview's proration date,
 * so what is charged is what was shown; a preview that has expired is fetched again and shown anew.
 */
export function PlanChange({ status }: { status: BillingStatus }) {
  const { setSubscription } = useSubscription();
  const { profile } = useAuth();
  const headingId = useId();
  const [preview, setPreview] = useState<PlanChangePreview | null>(null);
  const [refreshed, setRefreshed] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const current = status.interval;
  const target: BillingInterval = current === 'year' ? 'month' : 'year';

  const ask = useMutation({
    mutationFn: () => api.previewPlanChange(target),
    onSuccess: (next) => {
      setPreview(next);
      setDone(null);
    },
  });
  const confirm = useMutation({
    mutationFn: (shown: PlanChangePreview) => api.changePlan(shown.interval, shown.prorationDate),
    onSuccess: (result, shown) => {
      setSubscription(result.billing);
      setPreview(null);
      setRefreshed(false);
      const paid = result.invoice?.amountPaid ?? 0;
      setDone(
        `You are now on ${billing(shown.interval)} billing.${
          paid > 0 ? ` ${formatMoney(paid, result.invoice?.currency ?? shown.currency)} was charged.` : ''
        }`,
      );
    },
    onError: (error) => {
      // The amount may have moved since the preview: show the new one and ask again.
      if (isApiError(error) && error.code === 'PREVIEW_EXPIRED') {
        setRefreshed(true);
        ask.mutate();
      }
    },
  });

  // Only the workspace's owner or an admin manages its billing (the API answers 403 to the others).
  const manages = profile?.workspace.role === 'owner' || profile?.workspace.role === 'admin';
  if (
    !manages ||
    !current ||
    (status.status !== 'active' && status.status !== 'trialing') ||
    status.cancelAtPeriodEnd
  ) {
    return null;
  }

  const cancel = () => {
    setPreview(null);
    setRefreshed(false);
    confirm.reset();
    ask.reset();
  };
  const declined = isApiError(confirm.error) && confirm.error.code === 'PAYMENT_DECLINED';
  const confirmError =
    confirm.isError && !(isApiError(confirm.error) && confirm.error.code === 'PREVIEW_EXPIRED');

  return (
    <div className="space-y-4 pt-4">
      {done && <Alert tone="success">{done}</Alert>}
      {!preview ? (
        <div className="flex flex-col gap-2 sm:flex-row sm:items-center sm:justify-between">
          <p className="text-sm text-muted">
            {target === 'year'
              ? 'Pay yearly and save compared with twelve monthly payments.'
              : 'Pay month by month instead of once a year.'}
          </p>
          <Button variant="secondary" loading={ask.isPending} onClick={() => ask.mutate()}>
            Switch to {billing(target)} billing
          </Button>
        </div>
      ) : (
        <section aria-labelledby={headingId} className="space-y-3 rounded-xl border border-line p-4">
          <h3 id={headingId} className="font-semibold">
            Switch to {billing(preview.interval)} billing
          </h3>
          {refreshed && (
            <Alert tone="warning">The amount was updated since you opened this. Please check it again.</Alert>
          )}
          <Summary preview={preview} trialing={status.status === 'trialing'} />
          {preview.lines.length > 0 && (
            <ul className="divide-y divide-line text-sm" aria-label="What this charge is made of">
              {preview.lines.map((line) => (
                <li key={`${line.description}:${line.amount}`} className="flex justify-between gap-4 py-2">
                  <span>{line.description}</span>
                  <span className="font-medium whitespace-nowrap">
                    {formatMoney(line.amount, preview.currency)}
                  </span>
                </li>
              ))}
            </ul>
          )}
          {confirmError && (
            <Alert
              tone="danger"
              action={declined ? <PortalLink>Update payment method</PortalLink> : undefined}
            >
              {errorMessage(confirm.error)}
            </Alert>
          )}
          <div className="flex flex-wrap gap-3">
            <Button
              loading={confirm.isPending}
              disabled={ask.isPending}
              onClick={() => confirm.mutate(preview)}
            >
              {preview.amountDue > 0
                ? `Confirm and pay ${formatMoney(preview.amountDue, preview.currency)}`
                : 'Confirm the switch'}
            </Button>
            <Button variant="ghost" onClick={cancel} disabled={confirm.isPending}>
              Cancel
            </Button>
          </div>
        </section>
      )}
      {ask.isError && <Alert tone="danger">{errorMessage(ask.error)}</Alert>}
    </div>
  );
}

function Summary({ preview, trialing }: { preview: PlanChangePreview; trialing: boolean }) {
  const money = (amount: number) => formatMoney(amount, preview.currency);
  const next =
    preview.nextPaymentDate && preview.nextPaymentAmount !== null
      ? ` Your next payment is ${money(preview.nextPaymentAmount)} on ${formatDate(preview.nextPaymentDate)}.`
      : '';
  if (trialing) {
    return (
      <p>
        Nothing is charged now: your trial continues.
        {next}
      </p>
    );
  }
  if (preview.amountDue > 0) {
    return (
      <p>
        You will be charged <strong>{money(preview.amountDue)}</strong> now (prorated: the unused time on your
        current plan is credited).
        {next}
      </p>
    );
  }
  return (
    <p>
      Nothing is charged now.
      {preview.total < 0
        ? ` The unused time on your current plan leaves ${money(-preview.total)} of credit for your next payments.`
        : ''}
      {next}
    </p>
  );
}
