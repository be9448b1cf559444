import type { SubscriptionStatus } from '@tierbase/contracts';

const labels: Record<SubscriptionStatus, string> = {
  trialing: 'Trial',
  active: 'Active',
  past_due: 'Past due',
  canceled: 'Canceled',
  unpaid: 'Unpaid',
  incomplete: 'Incomplete',
  incomplete_expired: 'Expired',
  paused: 'Paused',
};

const tones: Record<SubscriptionStatus, string> = {
  trialing: 'bg-brand-soft text-brand-fg',
  active: 'bg-ok-soft text-ok',
  past_due: 'bg-warn-soft text-warn',
  unpaid: 'bg-danger-soft text-danger',
  canceled: 'bg-raised text-muted',
  incomplete: 'bg-warn-soft text-warn',
  incomplete_expired: 'bg-raised text-muted',
  paused: 'bg-raised text-muted',
};

export function StatusBadge({ status }: { status: SubscriptionStatus | null }) {
  const key = status ?? 'canceled';
  return (
    <span
      className={`inline-flex items-center rounded-full px-2.5 py-0.5 text-xs font-semibold ${tones[key]}`}
    >
      {status ? labels[status] : 'Free'}
    </span>
  );
}

export function statusLabel(status: SubscriptionStatus | null): string {
  return status ? labels[status] : 'Free';
}
