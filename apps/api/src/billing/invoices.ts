import type { Invoice, InvoicesResponse } from '@tierbase/contracts';
import type Stripe from 'stripe';
import { callStripe } from './stripe-client.ts';

function toInvoice(invoice: Stripe.Invoice): Invoice {
  return {
    id: invoice.id ?? '',
    number: invoice.number,
    status: invoice.status,
    amountDue: invoice.amount_due,
    amountPaid: invoice.amount_paid,
    total: invoice.total,
    currency: invoice.currency,
    created: new Date(invoice.created * 1000).toISOString(),
    hostedInvoiceUrl: invoice.hosted_invoice_url ?? null,
    invoicePdf: invoice.invoice_pdf ?? null,
  };
}

/**
 * GET /api/invoices/: the workspace's invoices, read from Stripe (the source of truth; nothing is
 * copied), newest first, a page at a time. Only the workspace's own customer (from its subscription
 * row; none before its first checkout) is ever asked for.
 */
export async function listInvoices(
  deps: { stripe: Stripe; log?: (details: Record<string, unknown>, message: string) => void },
  customerId: string | undefined,
  page: { limit: number; startingAfter?: string | undefined },
): Promise<InvoicesResponse> {
  if (!customerId) return { invoices: [], hasMore: false, nextCursor: null };
  const list = await callStripe(
    'invoices.list',
    () =>
      deps.stripe.invoices.list({
        customer: customerId,
        limit: page.limit,
        ...(page.startingAfter ? { starting_after: page.startingAfter } : {}),
      }),
    deps.log,
    // A cursor Stripe does not know (or that is another customer's invoice) is the caller's input.
    { input: { starting_after: 'startingAfter' } },
  );
  // Drafts are Stripe's working copies, not bills; the user sees them once finalized.
  const invoices = list.data.filter((invoice) => invoice.status !== 'draft').map(toInvoice);
  const last = list.data.at(-1);
  return { invoices, hasMore: list.has_more, nextCursor: list.has_more && last?.id ? last.id : null };
}
