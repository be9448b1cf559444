import type Stripe from 'stripe';
import type { Deps } from '../api.ts';
import { invoiceSubscriptionId } from '../resources/invoices.ts';
import { formatDateTime, formatMoney, html, page, type SafeHtml, statusBadge } from './html.ts';

const ADVANCE_CHOICES: [number, string][] = [
  [3600, '1 hour'],
  [86400, '1 day'],
  [3 * 86400, '3 days'],
  [7 * 86400, '1 week'],
  [32 * 86400, '32 days (past a monthly renewal)'],
  [366 * 86400, '366 days'],
];

function advanceForm(clock: Stripe.TestHelpers.TestClock): SafeHtml {
  return html`<form method="post" action="/_emulator/test_clocks/${clock.id}/advance" class="inline">
    <label for="adv-${clock.id}" class="muted" style="display:inline;font-weight:400">Advance</label>
    <select id="adv-${clock.id}" name="seconds" style="width:auto">${ADVANCE_CHOICES.map(([s, label]) => html`<option value="${s}">${label}</option>`)}</select>
    <button type="submit">Advance clock</button></form>`;
}

/** The emulator's own dashboard at `/`: what it holds, and buttons to move time and resend events. */
export function dashboardPage(deps: Deps): string {
  const { state } = deps.core;
  const customers = Object.values(state.customers).reverse();
  const subs = Object.values(state.subscriptions).reverse();
  const invoices = Object.values(state.invoices).reverse().slice(0, 100);
  const events = Object.values(state.events).reverse().slice(0, 100);
  const deliveries = Object.values(state.deliveries);
  const endpoints = Object.values(state.webhookEndpoints);
  const standaloneClocks = Object.values(state.testClocks).filter(
    (clock) => !customers.some((c) => c.test_clock === clock.id),
  );
  const body = html`
<h1>Stripe emulator</h1>
<p class="muted">API at <code>${deps.core.baseUrl}/v1</code>. State as JSON: <a href="/_emulator/state">/_emulator/state</a>.</p>
<section class="card" aria-labelledby="wh-title"><h2 id="wh-title">Webhook endpoints</h2>
${endpoints.length === 0 ? html`<p>None. Set STRIPE_WEBHOOK_URL or create one with POST /v1/webhook_endpoints.</p>` : html`<ul>${endpoints.map((e) => html`<li><code>${e.url}</code> ${statusBadge(e.status)} (${e.enabled_events.join(', ')})</li>`)}</ul>`}
</section>
<section class="card" aria-labelledby="cus-title"><h2 id="cus-title">Customers</h2>
${
  customers.length === 0
    ? html`<p>No customers yet.</p>`
    : html`<table><thead><tr><th scope="col">Customer</th><th scope="col">Email</th><th scope="col">Test clock time</th><th scope="col">Move time</th></tr></thead><tbody>
${customers.map((c) => {
  const clock = typeof c.test_clock === 'string' ? state.testClocks[c.test_clock] : undefined;
  return html`<tr><td><code>${c.id}</code><br>${c.name ?? ''}</td><td>${c.email ?? ''}</td><td>${clock ? formatDateTime(clock.frozen_time) : 'wall clock'}</td><td>${clock ? advanceForm(clock) : ''}</td></tr>`;
})}</tbody></table>`
}
${standaloneClocks.length > 0 ? html`<h3>Other test clocks</h3><ul>${standaloneClocks.map((clock) => html`<li><code>${clock.id}</code> ${clock.name ?? ''} at ${formatDateTime(clock.frozen_time)} ${advanceForm(clock)}</li>`)}</ul>` : ''}
</section>
<section class="card" aria-labelledby="sub-title"><h2 id="sub-title">Subscriptions</h2>
${
  subs.length === 0
    ? html`<p>No subscriptions yet.</p>`
    : html`<table><thead><tr><th scope="col">Subscription</th><th scope="col">Customer</th><th scope="col">Status</th><th scope="col">Price</th><th scope="col">Period end</th><th scope="col">Cancel at</th></tr></thead><tbody>
${subs.map((s) => {
  const item = s.items.data[0];
  return html`<tr><td><code>${s.id}</code></td><td><code>${s.customer as string}</code></td><td>${statusBadge(s.status)}</td>
  <td>${item ? `${formatMoney(item.price.unit_amount, item.price.currency)} / ${item.price.recurring?.interval ?? ''}` : ''}</td>
  <td>${formatDateTime(item?.current_period_end)}</td><td>${s.cancel_at ? formatDateTime(s.cancel_at) : ''}</td></tr>`;
})}</tbody></table>`
}
</section>
<section class="card" aria-labelledby="inv-title"><h2 id="inv-title">Invoices</h2>
${
  invoices.length === 0
    ? html`<p>No invoices yet.</p>`
    : html`<table><thead><tr><th scope="col">Invoice</th><th scope="col">Subscription</th><th scope="col">Status</th><th scope="col">Total</th><th scope="col">Attempts</th><th scope="col">Next attempt</th><th scope="col">Links</th></tr></thead><tbody>
${invoices.map(
  (
    i,
  ) => html`<tr><td><code>${i.id}</code><br>${i.number ?? ''}</td><td><code>${invoiceSubscriptionId(i) ?? ''}</code></td><td>${statusBadge(i.status)}</td>
  <td>${formatMoney(i.total, i.currency)}</td><td>${i.attempt_count}</td><td>${formatDateTime(i.next_payment_attempt ?? i.automatically_finalizes_at)}</td>
  <td>${i.hosted_invoice_url ? html`<a href="/invoices/${i.id}">page</a> · <a href="/invoices/${i.id}/pdf">PDF</a>` : ''}</td></tr>`,
)}</tbody></table>`
}
</section>
<section class="card" aria-labelledby="evt-title"><h2 id="evt-title">Events (newest first)</h2>
${
  events.length === 0
    ? html`<p>No events yet.</p>`
    : html`<table><thead><tr><th scope="col">Event</th><th scope="col">Type</th><th scope="col">Created (object time)</th><th scope="col">Deliveries</th><th scope="col">Resend</th></tr></thead><tbody>
${events.map((e) => {
  const mine = deliveries.filter((d) => d.eventId === e.id);
  return html`<tr><td><code>${e.id}</code></td><td>${e.type}</td><td>${formatDateTime(e.created)}</td>
  <td>${mine.length === 0 ? html`<span class="muted">none</span>` : mine.map((d) => html`<div>${statusBadge(d.status)} ${d.attempts.length} attempt(s)${d.attempts.length > 0 ? `, last: ${d.attempts.at(-1)?.status ?? d.attempts.at(-1)?.error ?? ''}` : ''}</div>`)}</td>
  <td><form method="post" action="/_emulator/events/${e.id}/resend" class="inline"><button type="submit" class="secondary" aria-label="Resend ${e.type} ${e.id}">Resend</button></form></td></tr>`;
})}</tbody></table>`
}
</section>`;
  return page('Stripe emulator', body, { wide: true });
}
