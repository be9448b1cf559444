import {
  type BillingStatus,
  billingStatusSchema,
  checkoutRequest,
  ErrorCode,
  errorEnvelopeSchema,
  invoicesQuery,
  invoicesResponse,
  planChangePreviewRequest,
  planChangePreviewSchema,
  planChangeRequest,
  planChangeResponse,
  plansResponse,
  successEnvelope,
  syncRequest,
  urlResponse,
} from '@tierbase/contracts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { aiUsageFor } from '../ai/service.ts';
import { AppError } from '../errors.ts';
import { errorResponses, ok } from '../http/envelope.ts';
import { makeLimiter } from '../http/rate-limit.ts';
import { requireUser } from '../users/guards.ts';
import { createCheckout, createPortal, requireBillingManager } from './checkout.ts';
import { listInvoices } from './invoices.ts';
import { changePlan, previewPlanChange } from './plan-change.ts';
import { PLANS } from './plans.ts';
import { type BillingContext, billingNotConfigured } from './service.ts';
import { billingStatus } from './status.ts';
import { syncCheckoutSession, syncCustomer } from './subscription-sync.ts';
import type { SubscriptionRow } from './subscriptions.ts';
import { receiveWebhook } from './webhooks.ts';

const tags = ['billing'];
const errors = errorResponses(400, 401, 403, 404, 409, 502, 503);

/** The public view of the plan catalogue: no Stripe ids, no lookup keys. */
const publicPlans = {
  plans: PLANS.map((plan) => ({
    id: plan.id,
    name: plan.name,
    description: plan.description,
    features: plan.features,
    limits: plan.limits,
    prices: plan.prices.map(({ interval, unitAmount, currency }) => ({ interval, unitAmount, currency })),
    trialDays: plan.trialDays,
  })),
};

export async function registerBillingRoutes(app: FastifyInstance, billing: BillingContext | undefined) {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const need = () => {
    if (!billing) throw billingNotConfigured();
    return billing;
  };
  // Stripe failures are logged by the request they happen in, so the line carries its request id.
  const logOf = (request: FastifyRequest) => (details: Record<string, unknown>, message: string) =>
    request.log.warn(details, message);
  const withAiUsage = async (
    status: BillingStatus,
    caller: { userId: string; organizationId: string },
    row: SubscriptionRow | undefined,
  ) => ({
    ...status,
    aiUsage: await aiUsageFor(app.database.db, { ...caller, isPro: status.isPro }, row),
  });

  routes.get(
    '/api/billing/plans',
    {
      schema: {
        tags,
        summary: 'Plans, prices, features, limits and trial length',
        response: { 200: successEnvelope(plansResponse) },
      },
    },
    async () => ok(publicPlans),
  );

  routes.get(
    '/api/billing/status',
    {
      schema: {
        tags,
        summary: "The active workspace's subscription and AI usage (any member)",
        response: { 200: successEnvelope(billingStatusSchema), ...errors },
      },
    },
    async (request) => {
      // The session's query read the workspace's subscription (users/sessions.ts).
      const { user, workspace, subscription } = requireUser(request);
      const row = subscription ?? undefined;
      return ok(
        await withAiUsage(
          billingStatus(row, app.config.billing.pastDueGraceDays),
          { userId: user.id, organizationId: workspace.id },
          row,
        ),
      );
    },
  );

  routes.post(
    '/api/billing/checkout',
    {
      schema: {
        tags,
        summary:
          'Start Stripe Checkout for a plan, for the active workspace (owner or admin; 409 with the portal link when already subscribed)',
        body: checkoutRequest,
        response: { 200: successEnvelope(urlResponse), ...errors },
      },
    },
    async (request) => {
      const caller = requireUser(request);
      const deps = need();
      return ok(
        await createCheckout(
          { ...deps, log: logOf(request) },
          caller,
          request.body.plan,
          request.body.interval,
        ),
      );
    },
  );

  routes.post(
    '/api/billing/sync',
    {
      schema: {
        tags,
        summary: 'Re-read the subscription from Stripe (on return from Checkout or the portal)',
        body: syncRequest.optional(),
        response: { 200: successEnvelope(billingStatusSchema), ...errors },
      },
    },
    async (request) => {
      const { user, workspace, subscription } = requireUser(request);
      const deps = need();
      const sessionId = request.body?.sessionId;
      const owner = { organizationId: workspace.id, legacyUserId: workspace.personal ? user.id : undefined };
      const synced = sessionId
        ? await syncCheckoutSession({ ...deps, log: logOf(request) }, owner, sessionId)
        : subscription
          ? await syncCustomer({ ...deps, log: logOf(request) }, subscription.stripeCustomerId)
          : undefined;
      const row = synced?.row;
      return ok(
        await withAiUsage(
          billingStatus(row ?? undefined, deps.graceDays),
          { userId: user.id, organizationId: workspace.id },
          row ?? undefined,
        ),
      );
    },
  );

  routes.post(
    '/api/billing/plan-change/preview',
    {
      schema: {
        tags,
        summary:
          "What switching the active workspace's subscription to another interval charges now (prorated) and next (owner or admin)",
        body: planChangePreviewRequest,
        response: { 200: successEnvelope(planChangePreviewSchema), ...errors },
      },
    },
    async (request) => {
      const { workspace, subscription } = requireUser(request);
      requireBillingManager(workspace);
      const deps = need();
      return ok(
        await previewPlanChange(
          { ...deps, log: logOf(request) },
          subscription ?? undefined,
          request.body.interval,
        ),
      );
    },
  );

  routes.post(
    '/api/billing/plan-change',
    {
      schema: {
        tags,
        summary:
          "Switch the active workspace's subscription interval, charging the previewed prorated amount (owner or admin; 402 when the card is declined)",
        body: planChangeRequest,
        response: { 200: successEnvelope(planChangeResponse), 402: errorEnvelopeSchema, ...errors },
      },
    },
    async (request) => {
      const { user, workspace, subscription } = requireUser(request);
      requireBillingManager(workspace);
      const deps = need();
      const { synced, invoice } = await changePlan(
        { ...deps, log: logOf(request) },
        subscription ?? undefined,
        request.body.interval,
        request.body.prorationDate,
      );
      const written = synced?.row;
      return ok({
        billing: await withAiUsage(
          billingStatus(written, deps.graceDays),
          { userId: user.id, organizationId: workspace.id },
          written,
        ),
        invoice: invoice?.id
          ? {
              id: invoice.id,
              status: invoice.status,
              total: invoice.total,
              amountPaid: invoice.amount_paid,
              currency: invoice.currency,
            }
          : null,
      });
    },
  );

  routes.get(
    '/api/stripe/portal',
    {
      schema: {
        tags,
        summary:
          "Redirect (302) to the Stripe Billing Portal of the active workspace's customer (owner or admin)",
        response: errors,
      },
    },
    async (request, reply) => {
      return reply.redirect(
        await createPortal({ ...need(), log: logOf(request) }, requireUser(request)),
        302,
      );
    },
  );

  routes.get(
    '/api/invoices',
    {
      schema: {
        tags,
        summary: "The active workspace's invoices, newest first (owner or admin)",
        querystring: invoicesQuery,
        response: { 200: successEnvelope(invoicesResponse), ...errors },
      },
    },
    async (request) => {
      const { workspace, subscription } = requireUser(request);
      // Invoices carry the payer's billing details: for those who manage billing only.
      requireBillingManager(workspace);
      return ok(
        await listInvoices({ ...need(), log: logOf(request) }, subscription?.stripeCustomerId, request.query),
      );
    },
  );

  // The webhook gets the raw bytes: the signature is over them, not over re-serialized JSON.
  await app.register(async (webhook) => {
    webhook.removeAllContentTypeParsers();
    webhook.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) =>
      done(null, body),
    );
    // Only requests that fail verification count, per IP: a flood of forged or unsigned posts
    // is slowed down without ever holding back a genuine event from Stripe.
    const limitInvalid = makeLimiter(webhook, {
      name: 'stripe-webhook-invalid',
      max: app.config.rateLimits.webhookPerMinute,
      windowMs: 60_000,
      key: (request) => request.ip,
      failOpen: true,
    });
    webhook.post(
      '/api/stripe/webhook',
      {
        schema: { tags, summary: 'Stripe events (signed; no CSRF token)', hide: false },
        // Called by Stripe, not a browser: authenticated by its signature, never redirected (a
        // redirected POST is lost), and outside the per-IP limit (a verified event is never refused).
        config: { csrf: false, httpsRedirect: false, limits: { perIp: false }, sessionEffect: 'none' },
      },
      async (request, reply) => {
        const deps = need();
        const signature = request.headers['stripe-signature'];
        let result: Awaited<ReturnType<typeof receiveWebhook>>;
        try {
          result = await receiveWebhook(
            { ...deps, log: logOf(request) },
            request.body as Buffer,
            typeof signature === 'string' ? signature : undefined,
          );
        } catch (error) {
          // Verification is the first step, so nothing was recorded; past the limit this is a 429.
          if (error instanceof AppError && error.code === ErrorCode.INVALID_SIGNATURE) {
            await limitInvalid(request);
          }
          throw error;
        }
        request.log.info(
          { eventId: result.eventId, type: result.type, outcome: result.outcome },
          'stripe webhook',
        );
        return reply.code(200).send(ok({ received: true, outcome: result.outcome }));
      },
    );
  });
}
