import { AsyncLocalStorage } from 'node:async_hooks';
import type Stripe from 'stripe';
import { nowForCustomer } from './clock.ts';
import { newId } from './ids.ts';
import type { State, Store } from './store.ts';

/** The API version the installed `stripe` package pins; object shapes follow it. */
export const API_VERSION = '2026-10-28.endive';

export interface ResolvedOptions {
  retrySchedule: number[];
  finalAction: 'cancel' | 'unpaid' | 'past_due';
  autoTestClock: boolean;
  apiKey: string | undefined;
  webhookSecret: string;
  log: (line: string) => void;
}

export interface RequestInfo {
  id: string;
  idempotencyKey: string | null;
}

type EventListener = (event: Stripe.Event) => void;

/**
 * What every module works with: the store, the resolved options, the current request (for
 * `event.request`), and event emission. Kept free of HTTP so the billing engine can run from a timer.
 */
export class Core {
  readonly requestContext = new AsyncLocalStorage<RequestInfo>();
  private readonly eventListeners: EventListener[] = [];
  baseUrl = 'http://127.0.0.1';

  constructor(
    readonly store: Store,
    readonly options: ResolvedOptions,
  ) {}

  get state(): State {
    return this.store.state;
  }

  now(customerId: string | null | undefined): number {
    return nowForCustomer(this.state, customerId);
  }

  onEvent(listener: EventListener): void {
    this.eventListeners.push(listener);
  }

  /**
   * Records an event with a snapshot of `object` (later changes do not alter it) and hands it to
   * webhook delivery. `created` is the time of the object's customer (its test clock, if any).
   */
  emit(
    type: Stripe.Event.Type,
    object: object,
    created: number,
    previousAttributes?: Record<string, unknown>,
  ): Stripe.Event {
    const request = this.requestContext.getStore();
    const data: { object: unknown; previous_attributes?: unknown } = { object: structuredClone(object) };
    if (previousAttributes && Object.keys(previousAttributes).length > 0) {
      data.previous_attributes = structuredClone(previousAttributes);
    }
    const endpoints = Object.values(this.state.webhookEndpoints).filter((endpoint) =>
      endpointWants(endpoint, type),
    );
    // The event union is discriminated by `type`; callers pass the object that matches it.
    const event = {
      id: newId('evt'),
      object: 'event',
      api_version: API_VERSION,
      created,
      data,
      livemode: false,
      pending_webhooks: endpoints.length,
      request: { id: request?.id ?? null, idempotency_key: request?.idempotencyKey ?? null },
      type,
    } as Stripe.Event;
    this.state.events[event.id] = event;
    this.store.changed();
    for (const listener of this.eventListeners) listener(event);
    return event;
  }
}

export function endpointWants(endpoint: Stripe.WebhookEndpoint, type: string): boolean {
  if (endpoint.status !== 'enabled') return false;
  return endpoint.enabled_events.includes('*') || endpoint.enabled_events.includes(type);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * `data.previous_attributes` as Stripe builds it: the old values of the fields that changed,
 * recursing into nested hashes but taking lists (and arrays) whole.
 */
export function previousAttributes(before: object, after: object): Record<string, unknown> {
  const previous: Record<string, unknown> = {};
  const old = before as Record<string, unknown>;
  const now = after as Record<string, unknown>;
  for (const key of new Set([...Object.keys(old), ...Object.keys(now)])) {
    const a = old[key];
    const b = now[key];
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    if (isPlainObject(a) && isPlainObject(b) && a.object !== 'list' && typeof a.id !== 'string') {
      previous[key] = previousAttributes(a, b);
    } else {
      previous[key] = a ?? null;
    }
  }
  return previous;
}
