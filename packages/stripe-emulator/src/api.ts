/** What resource modules share: the route table type, lookups, pagination and `expand[]`. */
import type Stripe from 'stripe';
import type { BillingEngine } from './billing/engine.ts';
import type { Core } from './core.ts';
import { invalidRequest, noSuch } from './errors.ts';
import { int, type Params, str } from './form.ts';
import type { State } from './store.ts';

export interface ApiRequest {
  /** Body parameters for POST, query parameters for GET and DELETE. */
  params: Params;
  path: Record<string, string>;
  expand: string[];
}

export type ApiHandler = (req: ApiRequest) => unknown;

export interface ApiRoutes {
  get(path: string, handler: ApiHandler): void;
  post(path: string, handler: ApiHandler): void;
  del(path: string, handler: ApiHandler): void;
}

export interface Deps {
  core: Core;
  engine: BillingEngine;
}

type Collection = keyof Omit<State, 'version' | 'internal' | 'deliveries' | 'idempotency'>;

/** Which collection an id belongs to, from its prefix (what `expand[]` needs). */
const PREFIXES: Record<string, Collection> = {
  cus: 'customers',
  prod: 'products',
  price: 'prices',
  pm: 'paymentMethods',
  sub: 'subscriptions',
  in: 'invoices',
  ii: 'invoiceItems',
  inpay: 'invoicePayments',
  pi: 'paymentIntents',
  re: 'refunds',
  cs: 'checkoutSessions',
  bps: 'portalSessions',
  evt: 'events',
  we: 'webhookEndpoints',
  clock: 'testClocks',
};

export function lookupById(state: State, id: string): object | undefined {
  const collection = PREFIXES[id.slice(0, id.indexOf('_'))];
  if (collection) return (state[collection] as Record<string, object>)[id];
  // Products may be created with an id of the caller's choosing, without a prefix.
  return state.products[id];
}

export function mustGet<T>(
  collection: Record<string, T>,
  id: string | undefined,
  kind: string,
  param = 'id',
): T {
  const found = id === undefined ? undefined : collection[id];
  if (!found) throw noSuch(kind, id ?? '', param);
  return found;
}

/** Replaces ids with the objects they name along each dotted path (`data.` reaches into lists). */
export function expandPaths<T>(state: State, value: T, paths: string[]): T {
  if (paths.length === 0) return value;
  const copy = structuredClone(value);
  for (const path of paths) expandOne(state, copy, path.split('.'));
  return copy;
}

function expandOne(state: State, node: unknown, segments: string[]): void {
  if (typeof node !== 'object' || node === null || segments.length === 0) return;
  const record = node as Record<string, unknown>;
  if (record.object === 'list' || record.object === 'search_result') {
    if (segments[0] === 'data') {
      for (const item of record.data as unknown[]) expandOne(state, item, segments.slice(1));
    }
    return;
  }
  const [head, ...rest] = segments;
  if (head === undefined) return;
  // `payments` on an invoice is an includable list, present only when expanded.
  if (record.object === 'invoice' && head === 'payments' && record.payments === undefined) {
    const payments = Object.values(state.invoicePayments).filter((p) => p.invoice === record.id);
    record.payments = {
      object: 'list',
      data: structuredClone(payments),
      has_more: false,
      url: '/v1/invoice_payments',
    };
  }
  let child = record[head];
  if (typeof child === 'string') {
    const found = lookupById(state, child);
    if (found) {
      child = structuredClone(found);
      record[head] = child;
    }
  } else if (Array.isArray(child)) {
    record[head] = child.map((entry) => {
      if (typeof entry === 'string') return structuredClone(lookupById(state, entry) ?? entry);
      expandOne(state, entry, rest);
      return entry;
    });
    return;
  }
  expandOne(state, child, rest);
}

/**
 * Stripe's list envelope: newest first, `limit` (1–100, default 10), `starting_after` /
 * `ending_before` cursors, `has_more`.
 */
export function paginate<T extends { id: string }>(
  newestFirst: T[],
  params: Params,
  url: string,
): Stripe.ApiList<T> {
  const limit = int(params, 'limit') ?? 10;
  if (limit < 1 || limit > 100) throw invalidRequest('Invalid limit: must be between 1 and 100', 'limit');
  const startingAfter = str(params, 'starting_after');
  const endingBefore = str(params, 'ending_before');
  let data: T[];
  let hasMore: boolean;
  if (endingBefore) {
    const index = newestFirst.findIndex((item) => item.id === endingBefore);
    if (index < 0) throw noSuch('object', endingBefore, 'ending_before');
    const before = newestFirst.slice(0, index);
    data = before.slice(Math.max(0, before.length - limit));
    hasMore = before.length > limit;
  } else {
    let start = 0;
    if (startingAfter) {
      const index = newestFirst.findIndex((item) => item.id === startingAfter);
      if (index < 0) throw noSuch('object', startingAfter, 'starting_after');
      start = index + 1;
    }
    data = newestFirst.slice(start, start + limit);
    hasMore = start + limit < newestFirst.length;
  }
  return { object: 'list', data, has_more: hasMore, url };
}

/** `created[gte]=…` style filters on list endpoints. */
export function matchesCreated(created: number, params: Params): boolean {
  const filter = params.created;
  if (filter === undefined) return true;
  if (typeof filter === 'string') return created === Number(filter);
  const range = filter as Record<string, string>;
  if (range.gt !== undefined && !(created > Number(range.gt))) return false;
  if (range.gte !== undefined && !(created >= Number(range.gte))) return false;
  if (range.lt !== undefined && !(created < Number(range.lt))) return false;
  if (range.lte !== undefined && !(created <= Number(range.lte))) return false;
  return true;
}

export function newestFirst<T>(record: Record<string, T>): T[] {
  return Object.values(record).reverse();
}
