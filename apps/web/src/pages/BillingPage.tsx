import { useInfiniteQuery, useMutation } from '@tanstack/react-query';
import type { BillingStatus, Invoice } from '@tierbase/contracts';
import { formatMoney } from '@tierbase/contracts/money';
import { useEffect, useRef } from 'react';
import { api } from '../api.ts';
import { Alert } from '../components/Alert.tsx';
import { BillingBanners, PortalLink } from '../components/BillingBanners.tsx';
import { ButtonLink } from '../components/Button.tsx';
import { Card } from '../components/Card.tsx';
import { LoadMore } from '../components/LoadMore.tsx';
import { PageTitle } from '../components/PageTitle.tsx';
import { PlanChange } from '../components/PlanChange.tsx';
import { EmptyState, ErrorState, LoadingState } from '../components/States.tsx';
import { StatusBadge } from '../components/StatusBadge.tsx';
import { useSubscription } from '../hooks/useSubscription.ts';
import { useWorkspace } from '../hooks/useWorkspaces.ts';
import { formatDate } from '../lib/format.ts';

/** Back from the portal: ask the server to re-read Stripe instead of waiting for the webhook. */
function useSyncAfterPortal() {
  const { setSubscription } = useSubscription();
  const sync = useMutation({ mutationFn: () => api.syncBilling(), onSuccess: setSubscription });
  const done = useRef(false);
  useEffect(() => {
    if (done.current) return;
    done.current = true;
    let fromPortal = false;
    try {
      fromPortal = sessionStorage.getItem('tierbase:portal') === '1';
      sessionStorage.removeItem('tierbase:portal');
    } catch {
      // No storage: nothing to sync; the webhook brings the change.
    }
    if (fromPortal) sync.mutate();
  }, [sync]);
  return sync;
}

export default function BillingPage() {
  const { subscription, isLoading, error, refreshSubscription } = useSubscription();
  const { workspace, canManageBilling } = useWorkspace();
  const sync = useSyncAfterPortal();
  const team = workspace && !workspace.personal ? workspace : null;

  return (
    <div className="space-y-8">
      <div className="flex flex-col gap-4 sm:flex-row sm:items-end sm:justify-between">
        <div>
          <PageTitle>Billing</PageTitle>
          <p className="mt-1 text-muted">
            {team
              ? `The plan, payment method and invoices of ${team.name}.`
              : 'Your plan, payment method and invoices.'}
          </p>
        </div>
        {canManageBilling && subscription?.hasBillingAccount && (
          <PortalLink variant="primary">Manage billing</PortalLink>
        )}
      </div>

      {!canManageBilling && team && (
        <Alert tone="info" title={`Billing for ${team.name} is managed by its owners and admins`}>
          You use the team's plan as a member. Ask an owner or admin to change the plan, the payment method or
          the billing details, or to send you an invoice.
        </Alert>
      )}

      {sync.isPending && (
        <p role="status" className="text-sm text-muted">
          Updating from Stripe…
        </p>
      )}

      {isLoading ? (
        <LoadingState label="Loading your subscription…" />
      ) : error ? (
        <ErrorState
          error={error}
          onRetry={() => void refreshSubscription()}
          title="We could not load your subscription"
        />
      ) : subscription ? (
        <>
          <BillingBanners status={subscription} />
          <PlanSummary status={subscription} canManage={canManageBilling} />
        </>
      ) : null}

      {/* Invoices carry the team's billing details: for the people who manage its billing. */}
      {canManageBilling && <Invoices />}
    </div>
  );
}

function Row({ term, children }: { term: string; children: React.ReactNode }) {
  return (
    <div className="flex flex-col gap-1 py-3 sm:flex-row sm:justify-between">
      <dt className="text-sm text-muted">{term}</dt>
      <dd className="font-medium">{children}</dd>
    </div>
  );
}

function PlanSummary({ status, canManage }: { status: BillingStatus; canManage: boolean }) {
  const subscribed =
    status.status !== null && status.status !== 'canceled' && status.status !== 'incomplete_expired';
  if (!subscribed) {
    return (
      <Card title="Current plan">
        <div className="flex flex-col gap-4 sm:flex-row sm:items-center sm:justify-between">
          <div>
            <p className="flex items-center gap-2 text-xl font-bold">
              Free <StatusBadge status={null} />
            </p>
            <p className="mt-1 text-sm text-muted">
              {status.status === 'canceled'
                ? 'Your Pro subscription has ended. Your invoices stay below.'
                : canManage
                  ? 'Upgrade for the AI assistant, streaming answers and priority support.'
                  : 'An owner or admin can upgrade the team to Pro.'}
            </p>
          </div>
          {canManage && <ButtonLink to="/pricing">Upgrade to Pro</ButtonLink>}
        </div>
      </Card>
    );
  }
  return (
    <Card title="Current plan">
      <dl className="divide-y divide-line">
        <Row term="Plan">
          <span className="capitalize">{status.plan}</span>
          {status.interval ? ` · ${status.interval === 'year' ? 'Yearly' : 'Monthly'}` : ''}
        </Row>
        <Row term="Status">
          <StatusBadge status={status.status} />
        </Row>
        {status.trialEnd && status.status === 'trialing' && (
          <Row term="Trial ends">{formatDate(status.trialEnd)}</Row>
        )}
        <Row term={status.cancelAtPeriodEnd ? 'Access ends' : 'Renews on'}>
          {formatDate(status.currentPeriodEnd)}
        </Row>
        {status.pastDueGraceEnd && <Row term="Pro access until">{formatDate(status.pastDueGraceEnd)}</Row>}
      </dl>
      <PlanChange status={status} />
    </Card>
  );
}

const invoiceStatus: Record<string, string> = {
  paid: 'Paid',
  open: 'Open',
  void: 'Void',
  uncollectible: 'Uncollectible',
  draft: 'Draft',
};

function Invoices() {
  const query = useInfiniteQuery({
    queryKey: ['billing', 'invoices'],
    queryFn: ({ pageParam }) => api.invoices(pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => (last.hasMore && last.nextCursor ? last.nextCursor : undefined),
  });
  const invoices: Invoice[] = query.data?.pages.flatMap((page) => page.invoices) ?? [];

  return (
    <Card title="Invoices" description="Receipts for every charge, newest first.">
      {query.isPending ? (
        <LoadingState label="Loading invoices…" />
      ) : query.isError ? (
        <ErrorState
          error={query.error}
          onRetry={() => void query.refetch()}
          title="We could not load your invoices"
        />
      ) : invoices.length === 0 ? (
        <EmptyState title="No invoices yet">
          Your invoices appear here after your first charge or trial.
        </EmptyState>
      ) : (
        <>
          {/* Phones get one card per invoice; wider screens a table. */}
          <ul className="divide-y divide-line sm:hidden">
            {invoices.map((invoice) => (
              <li key={invoice.id} className="py-3">
                <div className="flex items-baseline justify-between gap-3">
                  <span className="font-medium">{formatDate(invoice.created)}</span>
                  <span className="font-semibold">
                    {formatMoney(invoice.total, invoice.currency, { omitZeroFraction: true })}
                  </span>
                </div>
                <div className="mt-1 flex items-baseline justify-between gap-3 text-sm text-muted">
                  <span className="font-mono text-xs break-all">{invoice.number ?? '—'}</span>
                  <span>{invoiceStatus[invoice.status ?? ''] ?? invoice.status ?? '—'}</span>
                </div>
                <InvoiceLinks invoice={invoice} className="mt-2 flex gap-4 text-sm" />
              </li>
            ))}
          </ul>
          <table className="hidden w-full text-left text-sm sm:table">
            <thead className="text-muted">
              <tr className="border-b border-line">
                <th scope="col" className="py-2 pr-3 font-medium">
                  Date
                </th>
                <th scope="col" className="px-3 py-2 font-medium">
                  Number
                </th>
                <th scope="col" className="px-3 py-2 font-medium">
                  Amount
                </th>
                <th scope="col" className="px-3 py-2 font-medium">
                  Status
                </th>
                <th scope="col" className="py-2 pl-3 text-right font-medium">
                  <span className="sr-only">Links</span>
                </th>
              </tr>
            </thead>
            <tbody className="divide-y divide-line">
              {invoices.map((invoice) => (
                <tr key={invoice.id}>
                  <td className="py-3 pr-3">{formatDate(invoice.created)}</td>
                  <td className="px-3 py-3 font-mono text-xs">{invoice.number ?? '—'}</td>
                  <td className="px-3 py-3">
                    {formatMoney(invoice.total, invoice.currency, { omitZeroFraction: true })}
                  </td>
                  <td className="px-3 py-3">
                    {invoiceStatus[invoice.status ?? ''] ?? invoice.status ?? '—'}
                  </td>
                  <td className="py-3 pl-3 text-right whitespace-nowrap">
                    <InvoiceLinks invoice={invoice} className="inline-flex gap-4" />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <LoadMore query={query} />
        </>
      )}
    </Card>
  );
}

function InvoiceLinks({ invoice, className }: { invoice: Invoice; className: string }) {
  const link = 'font-semibold text-brand-fg underline-offset-4 hover:underline';
  return (
    <span className={className}>
      {invoice.hostedInvoiceUrl && (
        <a className={link} href={invoice.hostedInvoiceUrl} target="_blank" rel="noreferrer">
          View<span className="sr-only"> invoice {invoice.number}</span>
        </a>
      )}
      {invoice.invoicePdf && (
        <a className={link} href={invoice.invoicePdf} target="_blank" rel="noreferrer">
          PDF<span className="sr-only"> of invoice {invoice.number}</span>
        </a>
      )}
    </span>
  );
}
