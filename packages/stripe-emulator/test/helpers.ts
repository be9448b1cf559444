import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { type EmulatorOptions, type RunningEmulator, startEmulator } from '../src/index.ts';

export interface TestEmulator {
  emulator: RunningEmulator;
  stripe: Stripe;
}

export async function startTestEmulator(
  opts: EmulatorOptions = {},
  maxNetworkRetries = 0,
): Promise<TestEmulator> {
  const emulator = await startEmulator(opts);
  const stripe = new Stripe('sk_test_emulator', {
    host: emulator.host,
    port: emulator.port,
    protocol: emulator.protocol,
    maxNetworkRetries,
  });
  return { emulator, stripe };
}

/**
 * An emulator for the tests of one describe block: started before them, reset before each, stopped
 * after. Call it at the top of the block; `emulator` and `stripe` are there once it has started.
 */
export function useTestEmulator(opts: EmulatorOptions = {}): TestEmulator {
  let started: TestEmulator | undefined;
  beforeAll(async () => {
    started = await startTestEmulator(opts);
  });
  afterAll(async () => {
    await started?.emulator.stop();
  });
  beforeEach(async () => {
    await started?.emulator.reset();
  });
  const get = () => {
    if (!started) throw new Error('useTestEmulator: the emulator starts in beforeAll');
    return started;
  };
  return {
    get emulator() {
      return get().emulator;
    },
    get stripe() {
      return get().stripe;
    },
  };
}

export interface ReceivedWebhook {
  body: string;
  headers: IncomingHttpHeaders;
  receivedAt: number;
}

/** A small local HTTP server standing in for the app's webhook endpoint. */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  /** Status codes to answer with, in order; 200 once exhausted. */
  respondWith: number[] = [];
  /** Milliseconds to wait before answering the next requests, in order. */
  delays: number[] = [];
  private server: Server | null = null;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => {
        body += chunk;
      });
      req.on('end', () => {
        this.received.push({ body, headers: req.headers, receivedAt: Date.now() });
        const status = this.respondWith.shift() ?? 200;
        setTimeout(() => {
          res.statusCode = status;
          res.end('ok');
        }, this.delays.shift() ?? 0);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/webhook`;
    return this;
  }

  types(): string[] {
    return this.received.map((r) => (JSON.parse(r.body) as { type: string }).type);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

/** Event types in the order they were emitted (the API lists newest first). */
export async function eventTypesSince(stripe: Stripe, afterEventId: string | null): Promise<string[]> {
  const all: Stripe.Event[] = [];
  for await (const event of stripe.events.list({ limit: 100 })) {
    if (event.id === afterEventId) break;
    all.push(event);
  }
  return all.reverse().map((e) => e.type);
}

export async function latestEventId(stripe: Stripe): Promise<string | null> {
  const list = await stripe.events.list({ limit: 1 });
  return list.data[0]?.id ?? null;
}

export async function createPlan(
  stripe: Stripe,
): Promise<{ product: Stripe.Product; monthly: Stripe.Price; yearly: Stripe.Price }> {
  const product = await stripe.products.create({ name: 'Pro' });
  const monthly = await stripe.prices.create({
    product: product.id,
    currency: 'usd',
    unit_amount: 1000,
    recurring: { interval: 'month' },
    lookup_key: 'pro_monthly',
  });
  const yearly = await stripe.prices.create({
    product: product.id,
    currency: 'usd',
    unit_amount: 10000,
    recurring: { interval: 'year' },
    lookup_key: 'pro_yearly',
  });
  return { product, monthly, yearly };
}

export const DAY = 86400;
