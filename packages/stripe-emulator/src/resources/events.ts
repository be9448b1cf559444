import type Stripe from 'stripe';
import { type ApiRoutes, type Deps, matchesCreated, mustGet, newestFirst, paginate } from '../api.ts';
import { wallNow } from '../clock.ts';
import { API_VERSION } from '../core.ts';
import { missingParam } from '../errors.ts';
import { httpUrl, mergeMetadata, nullableStr, str, strArr } from '../form.ts';
import { buildWebhookEndpoint } from '../objects/webhook-endpoints.ts';

/** Stripe shows an endpoint's secret only in the response that creates it. */
function withoutSecret(endpoint: Stripe.WebhookEndpoint): Stripe.WebhookEndpoint {
  const { secret: _secret, ...rest } = endpoint;
  return rest;
}

export function registerEvents(routes: ApiRoutes, deps: Deps): void {
  const { core } = deps;

  routes.get('/v1/events', ({ params }) => {
    const type = str(params, 'type');
    const types = strArr(params, 'types');
    const matchesType = (t: string) => {
      if (types) return types.includes(t);
      if (!type) return true;
      if (type.endsWith('*')) return t.startsWith(type.slice(0, -1));
      return t === type;
    };
    const all = newestFirst(core.state.events).filter(
      (e) => matchesType(e.type) && matchesCreated(e.created, params),
    );
    return paginate(all, params, '/v1/events');
  });
  routes.get('/v1/events/:id', ({ path }) => mustGet(core.state.events, path.id, 'event'));

  routes.post('/v1/webhook_endpoints', ({ params }) => {
    const url = httpUrl(params, 'url');
    if (!url) throw missingParam('url');
    const events = strArr(params, 'enabled_events');
    if (!events || events.length === 0) throw missingParam('enabled_events');
    // Every endpoint shares the emulator's secret, so STRIPE_WEBHOOK_SECRET works for endpoints the app creates.
    const endpoint = buildWebhookEndpoint(
      url,
      core.options.webhookSecret,
      events,
      wallNow(),
      str(params, 'api_version') ?? API_VERSION,
    );
    endpoint.description = str(params, 'description') ?? null;
    endpoint.metadata = mergeMetadata({}, params);
    core.state.webhookEndpoints[endpoint.id] = endpoint;
    core.store.changed();
    return endpoint;
  });
  routes.get('/v1/webhook_endpoints/:id', ({ path }) =>
    withoutSecret(mustGet(core.state.webhookEndpoints, path.id, 'webhook endpoint')),
  );
  routes.post('/v1/webhook_endpoints/:id', ({ path, params }) => {
    const endpoint = mustGet(core.state.webhookEndpoints, path.id, 'webhook endpoint');
    endpoint.url = httpUrl(params, 'url') ?? endpoint.url;
    endpoint.enabled_events = strArr(params, 'enabled_events') ?? endpoint.enabled_events;
    const description = nullableStr(params, 'description');
    if (description !== undefined) endpoint.description = description;
    const disabled = str(params, 'disabled');
    if (disabled !== undefined) endpoint.status = disabled === 'true' ? 'disabled' : 'enabled';
    endpoint.metadata = mergeMetadata(endpoint.metadata, params);
    core.store.changed();
    return withoutSecret(endpoint);
  });
  routes.del('/v1/webhook_endpoints/:id', ({ path }) => {
    const endpoint = mustGet(core.state.webhookEndpoints, path.id, 'webhook endpoint');
    delete core.state.webhookEndpoints[endpoint.id];
    core.store.changed();
    return {
      id: endpoint.id,
      object: 'webhook_endpoint',
      deleted: true,
    } satisfies Stripe.DeletedWebhookEndpoint;
  });
  routes.get('/v1/webhook_endpoints', ({ params }) =>
    paginate(newestFirst(core.state.webhookEndpoints).map(withoutSecret), params, '/v1/webhook_endpoints'),
  );
}
