import type Stripe from 'stripe';
import { type ApiRoutes, type Deps, mustGet, newestFirst, paginate } from '../api.ts';
import { wallNow } from '../clock.ts';
import { invalidRequest, missingParam } from '../errors.ts';
import { bool, int, mergeMetadata, nullableStr, obj, type Params, str, strArr } from '../form.ts';
import { buildPrice, buildProduct, buildRecurring } from '../objects/products.ts';
import { decimalString } from '../objects/shared.ts';

const INTERVALS = ['day', 'week', 'month', 'year'] as const;

function createProduct(deps: Deps, params: Params): Stripe.Product {
  const name = str(params, 'name');
  if (!name) throw missingParam('name');
  const id = str(params, 'id');
  if (id && deps.core.state.products[id]) {
    throw invalidRequest(`Product already exists.`, 'id', 'resource_already_exists');
  }
  const product = buildProduct({ name, created: wallNow() });
  if (id) product.id = id;
  product.description = str(params, 'description') ?? null;
  product.active = bool(params, 'active') ?? true;
  product.metadata = mergeMetadata({}, params);
  deps.core.state.products[product.id] = product;
  deps.core.emit('product.created', product, product.created);
  return product;
}

function createPrice(deps: Deps, params: Params): Stripe.Price {
  const { core } = deps;
  let productId = str(params, 'product');
  const productData = obj(params, 'product_data');
  if (!productId && productData) productId = createProduct(deps, productData).id;
  if (!productId) throw missingParam('product');
  mustGet(core.state.products, productId, 'product', 'product');
  const currency = str(params, 'currency');
  if (!currency) throw missingParam('currency');
  const unitAmount = int(params, 'unit_amount');
  if (unitAmount === undefined) throw missingParam('unit_amount');
  const recurringParams = obj(params, 'recurring');
  let recurring: Stripe.Price.Recurring | null = null;
  if (recurringParams) {
    const interval = str(recurringParams, 'interval') as (typeof INTERVALS)[number] | undefined;
    if (!interval || !INTERVALS.includes(interval))
      throw invalidRequest('Invalid recurring[interval]', 'recurring[interval]');
    recurring = buildRecurring(interval, int(recurringParams, 'interval_count') ?? 1);
  }
  const lookupKey = str(params, 'lookup_key') ?? null;
  if (lookupKey) claimLookupKey(deps, lookupKey, bool(params, 'transfer_lookup_key') ?? false, null);
  const price = buildPrice({
    product: productId,
    currency: currency.toLowerCase(),
    unit_amount: unitAmount,
    created: wallNow(),
    recurring,
    lookup_key: lookupKey,
    nickname: str(params, 'nickname') ?? null,
    metadata: mergeMetadata({}, params),
    active: bool(params, 'active') ?? true,
  });
  price.unit_amount_decimal = decimalString(unitAmount);
  core.state.prices[price.id] = price;
  core.emit('price.created', price, price.created);
  const product = core.state.products[productId]!;
  if (!product.default_price) product.default_price = price.id;
  return price;
}

/** A lookup key names one price; `transfer_lookup_key` moves it from the price that holds it. */
function claimLookupKey(deps: Deps, key: string, transfer: boolean, selfId: string | null): void {
  const holder = Object.values(deps.core.state.prices).find((p) => p.lookup_key === key && p.id !== selfId);
  if (!holder) return;
  if (!transfer) {
    throw invalidRequest(
      `A price (\`${holder.id}\`) already uses that lookup key.`,
      'lookup_key',
      'lookup_key_already_used',
    );
  }
  holder.lookup_key = null;
}

export function registerProducts(routes: ApiRoutes, deps: Deps): void {
  const { core } = deps;

  routes.post('/v1/products', ({ params }) => createProduct(deps, params));
  routes.get('/v1/products/:id', ({ path }) => mustGet(core.state.products, path.id, 'product'));
  routes.post('/v1/products/:id', ({ path, params }) => {
    const product = mustGet(core.state.products, path.id, 'product');
    const before = structuredClone(product);
    product.name = str(params, 'name') ?? product.name;
    const description = nullableStr(params, 'description');
    if (description !== undefined) product.description = description;
    product.active = bool(params, 'active') ?? product.active;
    const defaultPrice = str(params, 'default_price');
    if (defaultPrice)
      product.default_price = mustGet(core.state.prices, defaultPrice, 'price', 'default_price').id;
    product.metadata = mergeMetadata(product.metadata, params);
    product.updated = wallNow();
    core.emit('product.updated', product, product.updated, {
      name: before.name,
      active: before.active,
      metadata: before.metadata,
    });
    return product;
  });
  routes.del('/v1/products/:id', ({ path }) => {
    const product = mustGet(core.state.products, path.id, 'product');
    if (Object.values(core.state.prices).some((p) => p.product === product.id)) {
      throw invalidRequest('This product cannot be deleted because it has one or more user-created prices.');
    }
    delete core.state.products[product.id];
    core.emit('product.deleted', product, wallNow());
    return { id: product.id, object: 'product', deleted: true } satisfies Stripe.DeletedProduct;
  });
  routes.get('/v1/products', ({ params }) => {
    const active = bool(params, 'active');
    const ids = strArr(params, 'ids');
    const all = newestFirst(core.state.products).filter(
      (p) => (active === undefined || p.active === active) && (!ids || ids.includes(p.id)),
    );
    return paginate(all, params, '/v1/products');
  });

  routes.post('/v1/prices', ({ params }) => createPrice(deps, params));
  routes.get('/v1/prices/:id', ({ path }) => mustGet(core.state.prices, path.id, 'price'));
  routes.post('/v1/prices/:id', ({ path, params }) => {
    const price = mustGet(core.state.prices, path.id, 'price');
    const before = structuredClone(price);
    price.active = bool(params, 'active') ?? price.active;
    const nickname = nullableStr(params, 'nickname');
    if (nickname !== undefined) price.nickname = nickname;
    const lookupKey = nullableStr(params, 'lookup_key');
    if (lookupKey !== undefined) {
      if (lookupKey) claimLookupKey(deps, lookupKey, bool(params, 'transfer_lookup_key') ?? false, price.id);
      price.lookup_key = lookupKey;
    }
    price.metadata = mergeMetadata(price.metadata, params);
    core.emit('price.updated', price, wallNow(), {
      active: before.active,
      lookup_key: before.lookup_key,
      metadata: before.metadata,
      nickname: before.nickname,
    });
    return price;
  });
  routes.get('/v1/prices', ({ params }) => {
    const active = bool(params, 'active');
    const product = str(params, 'product');
    const type = str(params, 'type');
    const currency = str(params, 'currency');
    const lookupKeys = strArr(params, 'lookup_keys');
    const recurring = obj(params, 'recurring');
    const interval = recurring ? str(recurring, 'interval') : undefined;
    const all = newestFirst(core.state.prices).filter(
      (p) =>
        (active === undefined || p.active === active) &&
        (product === undefined || p.product === product) &&
        (type === undefined || p.type === type) &&
        (currency === undefined || p.currency === currency) &&
        (!lookupKeys || (p.lookup_key !== null && lookupKeys.includes(p.lookup_key))) &&
        (interval === undefined || p.recurring?.interval === interval),
    );
    return paginate(all, params, '/v1/prices');
  });
}
