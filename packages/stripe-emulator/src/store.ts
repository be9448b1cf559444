import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type Stripe from 'stripe';

/** One recorded attempt to deliver an event to a webhook endpoint. */
export interface DeliveryAttempt {
  at: number; // wall clock, ms
  status: number | null; // HTTP status, or null when the request failed (timeout, refused)
  error: string | null;
  durationMs: number;
}

export interface WebhookDelivery {
  id: string;
  eventId: string;
  eventType: string;
  endpointId: string;
  status: 'pending' | 'succeeded' | 'failed';
  attempts: DeliveryAttempt[];
  nextAttemptAt: number | null; // wall clock, ms
}

/** A proration line waiting for the subscription's next invoice (proration_behavior=create_prorations). */
export interface PendingLine {
  description: string;
  amount: number;
  priceId: string;
  periodStart: number;
  periodEnd: number;
  proration: boolean;
  /** Seats the line is for (absent in state files written before quantities were recorded: 1). */
  quantity?: number;
  /** The subscription item the line credits or charges. */
  subscriptionItem?: string | null;
  /** The pending InvoiceItem (`ii_…`) that stands for this line. */
  invoiceItem?: string;
  /** For a credit: the debit it reverses, an earlier invoice's lines or a pending invoice item. */
  credits?: { invoice: string; lines: string[] } | { invoiceItem: string };
}

/** Bookkeeping Stripe keeps about a subscription that is not part of its public shape. */
export interface SubscriptionInternal {
  trialWillEndSent: boolean;
  pendingLines: PendingLine[];
}

export interface CheckoutInternal {
  lineItems: { price: string; quantity: number }[];
  subscriptionData: { trialPeriodDays: number | null; metadata: Record<string, string> };
}

export interface IdempotencyEntry {
  fingerprint: string; // method + path + body: a different body with the same key is rejected
  status: number;
  body: string;
  expiresAt: number; // wall clock, ms
}

export interface State {
  version: 1;
  customers: Record<string, Stripe.Customer>;
  products: Record<string, Stripe.Product>;
  prices: Record<string, Stripe.Price>;
  paymentMethods: Record<string, Stripe.PaymentMethod>;
  subscriptions: Record<string, Stripe.Subscription>;
  invoices: Record<string, Stripe.Invoice>;
  invoiceItems: Record<string, Stripe.InvoiceItem>;
  invoicePayments: Record<string, Stripe.InvoicePayment>;
  paymentIntents: Record<string, Stripe.PaymentIntent>;
  refunds: Record<string, Stripe.Refund>;
  checkoutSessions: Record<string, Stripe.Checkout.Session>;
  portalSessions: Record<string, Stripe.BillingPortal.Session>;
  events: Record<string, Stripe.Event>;
  webhookEndpoints: Record<string, Stripe.WebhookEndpoint>;
  testClocks: Record<string, Stripe.TestHelpers.TestClock>;
  deliveries: Record<string, WebhookDelivery>;
  idempotency: Record<string, IdempotencyEntry>;
  internal: {
    subscriptions: Record<string, SubscriptionInternal>;
    checkoutSessions: Record<string, CheckoutInternal>;
    /** Payment methods authenticated on-session (3-D Secure), so later off-session charges need no action. */
    authenticatedPaymentMethods: Record<string, true>;
    /** Per-customer invoice sequence, for invoice numbers like `ABCD1234-0001`. */
    invoiceSequence: Record<string, number>;
    /** Deleted customers: retrieving one answers `{ id, object: 'customer', deleted: true }`, as Stripe does. */
    deletedCustomers: Record<string, true>;
    /** The generated webhook secret, kept so a restarted emulator signs with the same one. */
    webhookSecret?: string;
  };
}

export function emptyState(): State {
  return {
    version: 1,
    customers: {},
    products: {},
    prices: {},
    paymentMethods: {},
    subscriptions: {},
    invoices: {},
    invoiceItems: {},
    invoicePayments: {},
    paymentIntents: {},
    refunds: {},
    checkoutSessions: {},
    portalSessions: {},
    events: {},
    webhookEndpoints: {},
    testClocks: {},
    deliveries: {},
    idempotency: {},
    internal: {
      subscriptions: {},
      checkoutSessions: {},
      authenticatedPaymentMethods: {},
      invoiceSequence: {},
      deletedCustomers: {},
    },
  };
}

/**
 * Holds the emulator's state in memory and, when given a file, persists it as JSON.
 * Saves are debounced so a burst of changes (one request emits several events) is one write.
 */
export class Store {
  state: State;
  private saveTimer: NodeJS.Timeout | null = null;
  private saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly file: string | undefined,
    private readonly debounceMs = 200,
  ) {
    this.state = file && existsSync(file) ? Store.load(file) : emptyState();
  }

  private static load(file: string): State {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<State>;
    const empty = emptyState();
    // Merge onto an empty state so files written by an older emulator gain newly added collections.
    return { ...empty, ...parsed, internal: { ...empty.internal, ...parsed.internal } } as State;
  }

  reset(): void {
    this.state = emptyState();
    this.changed();
  }

  /** Marks the state as changed; a save follows shortly. */
  changed(): void {
    if (!this.file || this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      void this.save();
    }, this.debounceMs);
    this.saveTimer.unref();
  }

  async save(): Promise<void> {
    const file = this.file;
    if (!file) return;
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      this.saveTimer = null;
    }
    const json = JSON.stringify(this.state);
    // Chain writes so two saves never interleave; write-then-rename so a crash never leaves half a file.
    this.saving = this.saving.then(async () => {
      await mkdir(dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, json);
      await rename(tmp, file);
    });
    await this.saving;
  }
}
