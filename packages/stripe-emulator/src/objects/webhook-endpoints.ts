/**
 * Webhook endpoint objects. Every field the pinned API version has, typed with the `stripe`
 * package's own types so the compiler checks what the emulator emits.
 */
import type Stripe from 'stripe';
import { newId } from '../ids.ts';

export function buildWebhookEndpoint(
  url: string,
  secret: string,
  enabledEvents: string[],
  created: number,
  apiVersion: string | null,
): Stripe.WebhookEndpoint {
  return {
    id: newId('we'),
    object: 'webhook_endpoint',
    api_version: apiVersion,
    application: null,
    created,
    description: null,
    enabled_events: enabledEvents,
    livemode: false,
    metadata: {},
    secret,
    status: 'enabled',
    url,
  };
}
