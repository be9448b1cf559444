import { createHmac } from 'node:crypto';
import type Stripe from 'stripe';
import { type Core, endpointWants } from './core.ts';
import { newId } from './ids.ts';
import type { WebhookDelivery } from './store.ts';

/** Roughly Stripe's schedule: retries with growing gaps over about three days. */
export const DEFAULT_WEBHOOK_RETRY_DELAYS_MS = [
  60_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3600_000,
  5 * 3600_000,
  10 * 3600_000,
  24 * 3600_000,
  24 * 3600_000,
];

export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;

/** `Stripe-Signature: t=…,v1=…`: HMAC-SHA256 of `t.payload` keyed with the endpoint's secret. */
export function signPayload(payload: string, secret: string, timestamp: number): string {
  const signature = createHmac('sha256', secret).update(`${timestamp}.${payload}`).digest('hex');
  return `t=${timestamp},v1=${signature}`;
}

/**
 * Delivers events to webhook endpoints: one ordered queue per endpoint, failed attempts retried
 * on a backoff schedule (without blocking the queue), every attempt recorded on the delivery.
 * Switches for tests: duplicate each delivery, shuffle order within a window, delay delivery.
 */
export class WebhookDispatcher {
  private duplicates = 1;
  private shuffleWindowMs = 0;
  private delayMs = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly queues = new Map<string, Promise<void>>();
  private shuffleBuffer: WebhookDelivery[] = [];
  private shuffleTimer: NodeJS.Timeout | null = null;
  private readonly controllers = new Set<AbortController>();
  private pending = 0; // deliveries scheduled or in flight
  private idleWaiters: (() => void)[] = [];
  private stopped = false;
  /** Bumped by cancelAll, so attempts started before a reset do not settle deliveries made after it. */
  private generation = 0;

  constructor(
    private readonly core: Core,
    private readonly retryDelaysMs: number[],
    private readonly timeoutMs = DEFAULT_WEBHOOK_TIMEOUT_MS,
  ) {
    core.onEvent((event) => this.enqueue(event));
  }

  setDuplicates(n: number): void {
    this.duplicates = Math.max(1, Math.floor(n));
  }
  setShuffleWindow(ms: number): void {
    this.shuffleWindowMs = Math.max(0, ms);
  }
  setDelay(ms: number): void {
    this.delayMs = Math.max(0, ms);
  }
  config(): { duplicates: number; shuffleWindowMs: number; delayMs: number } {
    return { duplicates: this.duplicates, shuffleWindowMs: this.shuffleWindowMs, delayMs: this.delayMs };
  }

  /** Resolves when every scheduled or in-flight attempt (retries included) has finished. */
  flush(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Re-sends an event to every endpoint that wants it (the dashboard's "resend"). */
  resend(eventId: string): number {
    const event = this.core.state.events[eventId];
    if (!event) return 0;
    return this.enqueue(event);
  }

  /** Picks up deliveries that were pending when the state was saved. */
  resumePending(): void {
    const now = Date.now();
    for (const delivery of Object.values(this.core.state.deliveries)) {
      if (delivery.status !== 'pending') continue;
      this.pending++;
      this.schedule(delivery, Math.max(0, (delivery.nextAttemptAt ?? now) - now));
    }
  }

  enqueue(event: Stripe.Event): number {
    if (this.stopped) return 0;
    const endpoints = Object.values(this.core.state.webhookEndpoints).filter((e) =>
      endpointWants(e, event.type),
    );
    let count = 0;
    for (const endpoint of endpoints) {
      for (let copy = 0; copy < this.duplicates; copy++) {
        const delivery: WebhookDelivery = {
          id: newId('whdel'),
          eventId: event.id,
          eventType: event.type,
          endpointId: endpoint.id,
          status: 'pending',
          attempts: [],
          nextAttemptAt: Date.now() + this.delayMs,
        };
        this.core.state.deliveries[delivery.id] = delivery;
        this.pending++;
        count++;
        if (this.shuffleWindowMs > 0) this.addToShuffle(delivery);
        else if (this.delayMs > 0) this.schedule(delivery, this.delayMs);
        else this.dispatch(delivery);
      }
    }
    this.core.store.changed();
    return count;
  }

  private addToShuffle(delivery: WebhookDelivery): void {
    this.shuffleBuffer.push(delivery);
    if (this.shuffleTimer) return;
    this.shuffleTimer = setTimeout(() => {
      this.shuffleTimer = null;
      const batch = this.shuffleBuffer;
      this.shuffleBuffer = [];
      for (let i = batch.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [batch[i], batch[j]] = [batch[j]!, batch[i]!];
      }
      for (const d of batch) {
        if (this.delayMs > 0) this.schedule(d, this.delayMs);
        else this.dispatch(d);
      }
    }, this.shuffleWindowMs);
  }

  private schedule(delivery: WebhookDelivery, ms: number): void {
    const generation = this.generation;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (generation === this.generation) this.dispatch(delivery);
    }, ms);
    this.timers.add(timer);
  }

  /** Appends the attempt to the endpoint's queue so deliveries to one endpoint go out in order. */
  private dispatch(delivery: WebhookDelivery): void {
    const previous = this.queues.get(delivery.endpointId) ?? Promise.resolve();
    const next = previous.then(() => this.attempt(delivery));
    this.queues.set(delivery.endpointId, next);
  }

  private async attempt(delivery: WebhookDelivery): Promise<void> {
    const generation = this.generation;
    const endpoint = this.core.state.webhookEndpoints[delivery.endpointId];
    const event = this.core.state.events[delivery.eventId];
    if (this.stopped || !endpoint || !event || !endpoint.secret) {
      delivery.status = 'failed';
      delivery.nextAttemptAt = null;
      this.settle(generation);
      return;
    }
    const payload = JSON.stringify(event, null, 2);
    // Always the wall clock, never a test clock's frozen time: receivers reject stale timestamps.
    const timestamp = Math.floor(Date.now() / 1000);
    const controller = new AbortController();
    this.controllers.add(controller);
    const timeout = setTimeout(() => controller.abort(), this.timeoutMs);
    const started = Date.now();
    let status: number | null = null;
    let error: string | null = null;
    try {
      const response = await fetch(endpoint.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
          'stripe-signature': signPayload(payload, endpoint.secret, timestamp),
        },
        body: payload,
        signal: controller.signal,
      });
      status = response.status;
      await response.text().catch(() => '');
    } catch (err) {
      error = controller.signal.aborted ? 'timeout' : err instanceof Error ? err.message : String(err);
    } finally {
      clearTimeout(timeout);
      this.controllers.delete(controller);
    }
    delivery.attempts.push({ at: started, status, error, durationMs: Date.now() - started });
    const ok = status !== null && status >= 200 && status < 300;
    if (ok) {
      delivery.status = 'succeeded';
      delivery.nextAttemptAt = null;
      this.markDelivered(event);
    } else {
      const delay = this.retryDelaysMs[delivery.attempts.length - 1];
      if (delay === undefined || this.stopped) {
        delivery.status = 'failed';
        delivery.nextAttemptAt = null;
      } else if (generation === this.generation) {
        delivery.nextAttemptAt = Date.now() + delay;
        this.core.store.changed();
        this.schedule(delivery, delay);
        return; // still pending
      }
    }
    this.core.store.changed();
    this.settle(generation);
  }

  private markDelivered(event: Stripe.Event): void {
    const remaining = Object.values(this.core.state.deliveries).filter(
      (d) => d.eventId === event.id && d.status === 'pending',
    ).length;
    event.pending_webhooks = Math.max(0, remaining - 1);
  }

  private settle(generation: number): void {
    if (generation !== this.generation) return;
    this.pending = Math.max(0, this.pending - 1);
    if (this.pending === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** Drops all scheduled work (used by reset): pending deliveries are marked failed. */
  cancelAll(): void {
    this.generation++;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    if (this.shuffleTimer) clearTimeout(this.shuffleTimer);
    this.shuffleTimer = null;
    this.shuffleBuffer = [];
    for (const controller of this.controllers) controller.abort();
    this.pending = 0;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelAll();
    await Promise.allSettled([...this.queues.values()]);
  }
}
