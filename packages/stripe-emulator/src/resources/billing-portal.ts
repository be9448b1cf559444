import type Stripe from 'stripe';
import { type ApiRoutes, type Deps, mustGet } from '../api.ts';
import { wallNow } from '../clock.ts';
import { missingParam } from '../errors.ts';
import { httpUrl, str } from '../form.ts';
import { newId } from '../ids.ts';

export function registerBillingPortal(routes: ApiRoutes, deps: Deps): void {
  const { core } = deps;
  routes.post('/v1/billing_portal/sessions', ({ params }) => {
    const customerId = str(params, 'customer');
    if (!customerId) throw missingParam('customer');
    mustGet(core.state.customers, customerId, 'customer', 'customer');
    const id = newId('bps');
    const session: Stripe.BillingPortal.Session = {
      id,
      object: 'billing_portal.session',
      configuration: 'bpc_emulator_default',
      created: wallNow(),
      customer: customerId,
      customer_account: null,
      flow: null,
      livemode: false,
      locale: null,
      on_behalf_of: null,
      return_url: httpUrl(params, 'return_url') ?? null,
      url: `${core.baseUrl}/portal/${id}`,
    };
    core.state.portalSessions[id] = session;
    core.store.changed();
    return session;
  });
}
