import type { FastifyInstance } from 'fastify';
import type Stripe from 'stripe';
import type { Deps } from '../api.ts';
import { cardError } from '../errors.ts';
import { type Params, parseForm } from '../form.ts';
import { attachPaymentMethod, paymentMethodFromCard } from '../resources/payment-methods.ts';
import { cardFields, formatDate, formatMoney, html, page, statusBadge } from './html.ts';
import { type PdfLine, renderPdf } from './pdf.ts';

function field(params: Params, key: string): string {
  const value = params[key];
  return typeof value === 'string' ? value : '';
}

function invoicePage(deps: Deps, inv: Stripe.Invoice, message?: { ok: boolean; text: string }): string {
  const customer = typeof inv.customer === 'string' ? deps.core.state.customers[inv.customer] : undefined;
  const pmId = deps.engine.paymentMethodFor(inv);
  const pm = pmId ? deps.core.state.paymentMethods[pmId] : undefined;
  const body = html`
<section class="card" aria-labelledby="invoice-title">
  <h1 id="invoice-title">Invoice ${inv.number ?? inv.id}</h1>
  <p>${statusBadge(inv.status)}</p>
  ${message ? html`<p class="${message.ok ? 'notice' : 'error'}" role="${message.ok ? 'status' : 'alert'}" id="form-error">${message.text}</p>` : ''}
  <p>Billed to ${customer?.name ?? ''} ${customer?.email ?? ''}</p>
  <p>Issued ${formatDate(inv.status_transitions.finalized_at ?? inv.created)} · Period ${formatDate(inv.period_start)} – ${formatDate(inv.period_end)}</p>
  <table><thead><tr><th scope="col">Description</th><th scope="col">Amount</th></tr></thead><tbody>
  ${inv.lines.data.map((line) => html`<tr><td>${line.description}</td><td>${formatMoney(line.amount, line.currency)}</td></tr>`)}
  </tbody></table>
  <p><strong>Total: ${formatMoney(inv.total, inv.currency)}</strong> · Amount due: ${formatMoney(inv.amount_due, inv.currency)} · Paid: ${formatMoney(inv.amount_paid, inv.currency)}</p>
  <p><a href="/invoices/${inv.id}/pdf">Download PDF</a></p>
</section>
${
  inv.status === 'open'
    ? html`<section class="card" aria-labelledby="pay-title"><h2 id="pay-title">Pay ${formatMoney(inv.amount_remaining, inv.currency)}</h2>
  ${pm?.card ? html`<form method="post" action="/invoices/${inv.id}/pay"><button type="submit" name="use" value="default">Pay with ${pm.card.brand.toUpperCase()} •••• ${pm.card.last4}</button></form>` : ''}
  <form method="post" action="/invoices/${inv.id}/pay" novalidate>${cardFields({ name: customer?.name ?? '' }, message && !message.ok ? 'cardNumber' : undefined)}
  <p><button type="submit" name="use" value="new">Pay with this card</button></p></form></section>`
    : ''
}`;
  return page(`Invoice ${inv.number ?? inv.id}`, body, { narrow: true });
}

function invoicePdf(deps: Deps, inv: Stripe.Invoice): Buffer {
  const customer = typeof inv.customer === 'string' ? deps.core.state.customers[inv.customer] : undefined;
  const lines: PdfLine[] = [
    { text: `Invoice ${inv.number ?? inv.id}`, size: 20, bold: true },
    { text: inv.account_name ?? 'Stripe emulator', gapBefore: 6 },
    { text: `Billed to: ${customer?.name ?? ''} ${customer?.email ?? ''}`, gapBefore: 10 },
    { text: `Date of issue: ${formatDate(inv.status_transitions.finalized_at ?? inv.created)}` },
    { text: `Period: ${formatDate(inv.period_start)} - ${formatDate(inv.period_end)}` },
    { text: `Status: ${inv.status ?? ''}` },
    { text: 'Description', bold: true, gapBefore: 14 },
    ...inv.lines.data.map((line) => ({
      text: `${line.description ?? ''}    ${formatMoney(line.amount, line.currency)}`,
    })),
    { text: `Total: ${formatMoney(inv.total, inv.currency)}`, bold: true, gapBefore: 14 },
    { text: `Amount due: ${formatMoney(inv.amount_due, inv.currency)}` },
    { text: `Amount paid: ${formatMoney(inv.amount_paid, inv.currency)}` },
    { text: 'Test mode - issued by the Stripe emulator.', size: 9, gapBefore: 20 },
  ];
  return renderPdf(lines);
}

export function registerInvoicePages(app: FastifyInstance, deps: Deps): void {
  const { core, engine } = deps;
  const notFound = () =>
    page('Not found', html`<section class="card"><h1>Not found</h1><p>No such invoice.</p></section>`);

  app.get<{ Params: { id: string } }>('/invoices/:id', (req, reply) => {
    const inv = core.state.invoices[req.params.id];
    reply.type('text/html; charset=utf-8');
    if (!inv || inv.status === 'draft') return reply.code(404).send(notFound());
    return reply.send(invoicePage(deps, inv));
  });

  app.get<{ Params: { id: string } }>('/invoices/:id/pdf', (req, reply) => {
    const inv = core.state.invoices[req.params.id];
    if (!inv || inv.status === 'draft')
      return reply.code(404).type('text/html; charset=utf-8').send(notFound());
    return reply
      .type('application/pdf')
      .header('content-disposition', `inline; filename="invoice-${inv.number ?? inv.id}.pdf"`)
      .send(invoicePdf(deps, inv));
  });

  /** Paying on the hosted invoice page is on-session: the customer is present (3-D Secure passes). */
  app.post<{ Params: { id: string } }>('/invoices/:id/pay', (req, reply) => {
    const inv = core.state.invoices[req.params.id];
    reply.type('text/html; charset=utf-8');
    if (!inv || inv.status === 'draft') return reply.code(404).send(notFound());
    if (inv.status !== 'open') return reply.send(invoicePage(deps, inv));
    const params = parseForm(typeof req.body === 'string' ? req.body : '');
    const customer = core.state.customers[inv.customer as string];
    const at = core.now(inv.customer as string);
    let pmId: string | undefined;
    if (field(params, 'use') === 'new' && customer) {
      try {
        const pm = paymentMethodFromCard(deps, { number: field(params, 'cardNumber') }, at, {
          name: field(params, 'name') || null,
        });
        attachPaymentMethod(deps, pm, customer);
        pmId = pm.id;
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        return reply.code(402).send(invoicePage(deps, inv, { ok: false, text: message }));
      }
    }
    const outcome = engine.payInvoice(inv, at, { onSession: true, paymentMethod: pmId });
    if (outcome.kind === 'succeeded')
      return reply.send(invoicePage(deps, inv, { ok: true, text: 'Payment succeeded. Thank you!' }));
    const text =
      outcome.kind === 'failed'
        ? outcome.message
        : cardError('Authentication failed.', 'authentication_required').message;
    return reply.code(402).send(invoicePage(deps, inv, { ok: false, text }));
  });
}
