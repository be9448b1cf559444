import type { BillingStatus } from '@tierbase/contracts';
import type { ReactNode } from 'react';
import { PORTAL_URL } from '../api.ts';
import { useWorkspace } from '../hooks/useWorkspaces.ts';
import { formatDate } from '../lib/format.ts';
import { Alert } from './Alert.tsx';
import { buttonClass } from './Button.tsx';

/** Remember that we left for the portal, so the billing page re-reads Stripe on the way back. */
export function markPortalVisit(): void {
  try {
    sessionStorage.setItem('tierbase:portal', '1');
  } catch {
    // Storage can be unavailable (private mode); the webhook still brings the change.
  }
}

export function PortalLink({
  children,
  variant = 'secondary',
}: {
  children: string;
  variant?: 'primary' | 'secondary';
}) {
  return (
    <a href={PORTAL_URL} onClick={markPortalVisit} className={buttonClass(variant)}>
      {children}
    </a>
  );
}

/** The notices a subscription may need: payment failed, ending, trial ending. */
export function BillingBanners({ status }: { status: BillingStatus }) {
  // A team's plain member cannot open the portal (403): the banner informs, without the button.
  const { canManageBilling } = useWorkspace();
  const action = (link: ReactNode) => (canManageBilling ? link : undefined);
  if (status.status === 'past_due' || status.status === 'unpaid') {
    return (
      <Alert
        tone="danger"
        title="Your last payment failed"
        action={action(<PortalLink variant="primary">Fix your card</PortalLink>)}
      >
        {status.pastDueGraceEnd
          ? `Update your payment method before ${formatDate(status.pastDueGraceEnd)} to keep Pro. We will retry the charge automatically.`
          : 'Update your payment method to restore Pro.'}
      </Alert>
    );
  }
  if (status.cancelAtPeriodEnd && status.currentPeriodEnd) {
    return (
      <Alert
        tone="warning"
        title="Your subscription is set to cancel"
        action={action(<PortalLink>Resume subscription</PortalLink>)}
      >
        You keep Pro until {formatDate(status.currentPeriodEnd)}. After that you move to the Free plan and
        will not be charged again.
      </Alert>
    );
  }
  if (status.status === 'trialing' && status.trialEnd) {
    return (
      <Alert tone="info" title="You are on a free trial">
        Your trial ends on {formatDate(status.trialEnd)}. Your first charge is on that day unless you cancel.
      </Alert>
    );
  }
  return null;
}
