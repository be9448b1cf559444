import type { Config } from '../config.ts';
import type { DatabaseHandle } from '../db/client.ts';
import type { Mailer } from '../email/mailer.ts';
import { syncPlans } from './catalog.ts';
import { createRunLock, describeRun, reconcile } from './reconcile.ts';
import { createBillingContext, stripeFromConfig } from './service.ts';
import { replayEvents } from './webhooks.ts';

type Print = (line: string) => void;

/** `stripe:sync-plans`: create or update the products and prices of billing/plans.ts. */
export async function syncPlansCommand(
  config: Config,
  database: DatabaseHandle,
  print: Print,
): Promise<void> {
  const stripe = stripeFromConfig(config);
  if (!stripe) {
    throw new Error(
      'STRIPE_SECRET_KEY is not set. (`npm start` without a key syncs the plans into the local emulator itself.)',
    );
  }
  for (const price of await syncPlans(stripe, database.db)) {
    print(`${price.lookupKey.padEnd(24)} ${price.priceId.padEnd(32)} ${price.action}`);
  }
}

/** `webhooks:replay <event_id>|--failed`: process recorded events again. */
export async function replayCommand(
  config: Config,
  database: DatabaseHandle,
  mailer: Mailer,
  args: string[],
  print: Print,
): Promise<boolean> {
  const [target] = args;
  if (!target) throw new Error('Usage: webhooks:replay <event_id> | --failed');
  const context = createBillingContext(config, database, mailer, () => {});
  if (!context)
    throw new Error('Billing is not configured: set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET.');
  const results = await replayEvents(context, target === '--failed' ? { failed: true } : { eventId: target });
  if (results.length === 0) print('No unprocessed events.');
  for (const result of results)
    print(`${result.eventId} ${result.ok ? 'processed' : `failed: ${result.error}`}`);
  return results.every((result) => result.ok);
}

/**
 * `stripe:reconcile [--json]`: one reconciliation now (see billing/reconcile.ts), its report printed.
 * False (exit status 1) when something could not be reconciled, or another run was in progress.
 */
export async function reconcileCommand(
  config: Config,
  database: DatabaseHandle,
  mailer: Mailer,
  args: string[],
  print: Print,
): Promise<boolean> {
  const unknown = args.filter((arg) => arg !== '--json');
  if (unknown.length > 0) throw new Error('Usage: stripe:reconcile [--json]');
  const context = createBillingContext(config, database, mailer, () => {});
  if (!context)
    throw new Error('Billing is not configured: set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET.');
  const run = await reconcile(context, createRunLock(database), {
    trigger: 'cli',
    eventAgeMinutes: config.reconcile.eventAgeMinutes,
  });
  if (!run?.report) {
    print(
      args.includes('--json')
        ? JSON.stringify({ skipped: 'another run is in progress' })
        : 'Another reconciliation is in progress; nothing was done.',
    );
    return false;
  }
  if (args.includes('--json')) print(JSON.stringify(run, null, 2));
  else for (const line of describeRun(run.report)) print(line);
  return run.report.errors.length === 0 && run.report.eventsReplayed.every((event) => event.ok);
}
