/** Server-rendered HTML helpers: every interpolated value goes through `escapeHtml`. */

export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** A tagged template that escapes interpolations unless they are already `SafeHtml`. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}

function render(value: unknown): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(value);
}

export { formatMoney } from '../money.ts';

export function formatDate(seconds: number | null | undefined): string {
  if (!seconds) return '—';
  return new Date(seconds * 1000).toLocaleDateString('en-US', {
    year: 'numeric',
    month: 'long',
    day: 'numeric',
    timeZone: 'UTC',
  });
}

export function formatDateTime(seconds: number | null | undefined): string {
  if (!seconds) return '—';
  return new Date(seconds * 1000)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
}

const STYLES = `
:root { color-scheme: light; --fg: #1a1f36; --muted: #4f566b; --accent: #4b3fd6; --border: #c9ced8; --bg: #f6f8fa; --danger: #b3261e; --ok: #146c2e; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
main { max-width: 960px; margin: 0 auto; padding: 24px; }
.narrow { max-width: 520px; }
.wide { max-width: 1280px; }
.card { background: #fff; border: 1px solid var(--border); border-radius: 8px; padding: 20px; margin: 0 0 16px; }
h1 { font-size: 1.5rem; margin: 0 0 12px; } h2 { font-size: 1.15rem; margin: 0 0 10px; }
.muted { color: var(--muted); }
.price { font-size: 2rem; font-weight: 700; }
label { display: block; font-weight: 600; margin: 12px 0 4px; }
input, select { width: 100%; padding: 10px; font: inherit; border: 1px solid #8a93a6; border-radius: 6px; color: var(--fg); background: #fff; }
.row { display: flex; gap: 12px; } .row > div { flex: 1; }
button, .button { display: inline-block; padding: 10px 16px; font: inherit; font-weight: 600; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; text-decoration: none; margin: 4px 4px 4px 0; }
button.secondary, .button.secondary { background: #fff; color: var(--accent); }
button.danger { background: var(--danger); border-color: var(--danger); }
button:focus-visible, a:focus-visible, input:focus-visible, select:focus-visible { outline: 3px solid #ffb020; outline-offset: 2px; }
a { color: var(--accent); }
.error { color: var(--danger); font-weight: 600; margin: 8px 0; }
.notice { color: var(--ok); font-weight: 600; }
table { width: 100%; border-collapse: collapse; font-size: 0.9rem; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--border); vertical-align: top; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; background: #e3e8ee; font-size: 0.85rem; }
.badge.ok { background: #d7f7c2; color: #05400a; } .badge.bad { background: #ffe7f2; color: #8a0b37; }
form.inline { display: inline; }
code { font-size: 0.85rem; }
.test-banner { background: #ffdca8; color: #5c3c00; padding: 6px 24px; font-size: 0.9rem; text-align: center; }
`;

export function page(title: string, body: SafeHtml, opts: { narrow?: boolean; wide?: boolean } = {}): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>${new SafeHtml(STYLES)}</style>
</head>
<body>
<div class="test-banner" role="note">Test mode — Stripe emulator. No real money moves.</div>
<main class="${opts.narrow ? 'narrow' : opts.wide ? 'wide' : ''}">
${body}
</main>
</body>
</html>`.value;
}

export function statusBadge(status: string | null | undefined): SafeHtml {
  const good = ['active', 'trialing', 'paid', 'succeeded', 'complete', 'ready'];
  const bad = [
    'past_due',
    'unpaid',
    'canceled',
    'incomplete_expired',
    'failed',
    'void',
    'uncollectible',
    'expired',
  ];
  const cls = good.includes(status ?? '') ? 'ok' : bad.includes(status ?? '') ? 'bad' : '';
  return html`<span class="badge ${cls}">${status ?? '—'}</span>`;
}

/** The card fields shared by Checkout, Portal and invoice pages. */
export function cardFields(
  values: { name?: string } = {},
  errorField?: string,
  errorId = 'form-error',
): SafeHtml {
  // The field in error is marked for assistive technology and takes focus, so the fix starts there.
  const invalid = (field: string) =>
    errorField === field ? new SafeHtml(` aria-invalid="true" aria-describedby="${errorId}" autofocus`) : '';
  return html`
<label for="cardNumber">Card number</label>
<input id="cardNumber" name="cardNumber" inputmode="numeric" autocomplete="cc-number" placeholder="4242 4242 4242 4242" required${invalid('cardNumber')}>
<div class="row">
  <div><label for="expiry">Expiration (MM / YY)</label>
  <input id="expiry" name="expiry" autocomplete="cc-exp" placeholder="12 / 34" required${invalid('expiry')}></div>
  <div><label for="cvc">CVC</label>
  <input id="cvc" name="cvc" inputmode="numeric" autocomplete="cc-csc" placeholder="123" required${invalid('cvc')}></div>
</div>
<label for="name">Name on card</label>
<input id="name" name="name" autocomplete="cc-name" value="${values.name ?? ''}">`;
}
