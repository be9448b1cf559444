import { ErrorCode } from '@tierbase/contracts';
import { eq } from 'drizzle-orm';
import type Stripe from 'stripe';
import type { Database } from '../db/client.ts';
import { stripePrices } from '../db/schema/billing.ts';
import { AppError } from '../errors.ts';
import { type BillingInterval, findPrice, PLANS, type Plan, type PlanPrice } from './plans.ts';

export interface SyncedPrice {
  lookupKey: string;
  priceId: string;
  productId: string;
  action: 'created' | 'unchanged' | 'replaced';
}

const productIdFor = (plan: Plan) => `tierbase_${plan.id}`;

/**
 * Makes Stripe's products and prices match billing/plans.ts and records the price ids. Idempotent:
 * a product is found by its fixed id, a price by its lookup key. Stripe prices are immutable, so a
 * changed amount creates a new price that takes over the lookup key; the old one is archived
 * (existing subscribers keep it until they change plan).
 */
export async function syncPlans(stripe: Stripe, db: Database): Promise<SyncedPrice[]> {
  const results: SyncedPrice[] = [];
  for (const plan of PLANS) {
    if (plan.prices.length === 0) continue;
    const productId = await ensureProduct(stripe, plan);
    for (const price of plan.prices) {
      const synced = await ensurePrice(stripe, productId, plan, price);
      await db
        .insert(stripePrices)
        .values({
          lookupKey: price.lookupKey,
          priceId: synced.priceId,
          productId,
          unitAmount: price.unitAmount,
          currency: price.currency,
          interval: price.interval,
        })
        .onConflictDoUpdate({
          target: stripePrices.lookupKey,
          set: {
            priceId: synced.priceId,
            productId,
            unitAmount: price.unitAmount,
            currency: price.currency,
            interval: price.interval,
            syncedAt: new Date(),
          },
        });
      results.push({ lookupKey: price.lookupKey, productId, ...synced });
    }
  }
  return results;
}

async function ensureProduct(stripe: Stripe, plan: Plan): Promise<string> {
  const id = productIdFor(plan);
  const fields = {
    name: `Tierbase ${plan.name}`,
    description: plan.description,
    metadata: { plan_id: plan.id },
  };
  try {
    const existing = await stripe.products.retrieve(id);
    if (existing.name !== fields.name || existing.description !== fields.description || !existing.active) {
      await stripe.products.update(id, { ...fields, active: true });
    }
    return id;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== 404) throw error;
    await stripe.products.create({ id, ...fields }, { idempotencyKey: `product:${id}` });
    return id;
  }
}

async function ensurePrice(
  stripe: Stripe,
  productId: string,
  plan: Plan,
  price: PlanPrice,
): Promise<{ priceId: string; action: SyncedPrice['action'] }> {
  const found = await stripe.prices.list({ lookup_keys: [price.lookupKey], active: true, limit: 1 });
  const current = found.data[0];
  const matches =
    current &&
    current.unit_amount === price.unitAmount &&
    current.currency === price.currency &&
    current.recurring?.interval === price.interval &&
    (typeof current.product === 'string' ? current.product : current.product.id) === productId;
  if (current && matches) return { priceId: current.id, action: 'unchanged' };
  const created = await stripe.prices.create({
    product: productId,
    unit_amount: price.unitAmount,
    currency: price.currency,
    recurring: { interval: price.interval },
    lookup_key: price.lookupKey,
    transfer_lookup_key: true,
    nickname: `${plan.name} (${price.interval}ly)`,
    metadata: { plan_id: plan.id },
  });
  if (current) await stripe.prices.update(current.id, { active: false });
  return { priceId: created.id, action: current ? 'replaced' : 'created' };
}

/** The Stripe price id for a plan and interval, as recorded by the last sync. */
export async function priceIdFor(db: Database, planId: string, interval: BillingInterval): Promise<string> {
  const price = findPrice(planId, interval);
  if (!price)
    throw new AppError({
      status: 400,
      code: ErrorCode.VALIDATION_ERROR,
      message: 'Unknown plan or interval.',
      details: {
        plan: ['Unknown plan.'],
      },
    });
  const [row] = await db.select().from(stripePrices).where(eq(stripePrices.lookupKey, price.lookupKey));
  if (!row) {
    throw new AppError({
      status: 503,
      code: ErrorCode.SERVICE_UNAVAILABLE,
      message: 'Billing is not set up yet: run `npm run cli -- stripe:sync-plans`.',
    });
  }
  return row.priceId;
}
