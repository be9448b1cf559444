/**
 * Time: finds the scheduled work that is due (renewals, draft finalization, payment retries, trial
 * notices, expiries) and runs it in time order, for the wall clock or a test clock being advanced.
 */
import type Stripe from 'stripe';
import { wallNow } from '../clock.ts';
import type { Core } from '../core.ts';
import { advanceDraft } from './invoicing.ts';
import { payInvoice } from './payments.ts';
import {
  expireIncomplete,
  INCOMPLETE_EXPIRY,
  maybeTrialWillEnd,
  renew,
  TRIAL_WILL_END_LEAD,
} from './renewal.ts';
import { internalOf, updateSubscription } from './shared.ts';

interface DueAction {
  at: number;
  order: number; // tie-break between actions due at the same second
  run: () => void;
}

/**
 * The earliest piece of scheduled work for the customers `owns` selects that is due by their
 * horizon (`until`: their clock's time, or the target of an advance).
 */
function nextDue(
  core: Core,
  owns: (customerId: string) => boolean,
  until: (customerId: string) => number,
): DueAction | null {
  let best: DueAction | null = null;
  let owner = '';
  const consider = (candidate: DueAction) => {
    if (candidate.at > until(owner)) return;
    if (!best || candidate.at < best.at || (candidate.at === best.at && candidate.order < best.order))
      best = candidate;
  };
  for (const sub of Object.values(core.state.subscriptions)) {
    owner = sub.customer as string;
    if (!owns(owner)) continue;
    const periodEnd = sub.items.data[0]?.current_period_end ?? Number.POSITIVE_INFINITY;
    const internal = internalOf(core, sub.id);
    if (sub.status === 'trialing' && sub.trial_end !== null && !internal.trialWillEndSent) {
      const at = Math.max(sub.trial_end - TRIAL_WILL_END_LEAD, sub.trial_start ?? 0);
      consider({ at, order: 0, run: () => maybeTrialWillEnd(core, sub, at) });
    }
    if (sub.status === 'incomplete') {
      const at = sub.created + INCOMPLETE_EXPIRY;
      consider({ at, order: 1, run: () => expireIncomplete(core, sub, at) });
    }
    if (sub.pause_collection?.resumes_at) {
      const at = sub.pause_collection.resumes_at;
      consider({
        at,
        order: 1,
        run: () =>
          updateSubscription(core, sub, at, (s) => {
            s.pause_collection = null;
          }),
      });
    }
    if (['active', 'trialing', 'past_due', 'unpaid'].includes(sub.status)) {
      const cancelAt = sub.cancel_at ?? Number.POSITIVE_INFINITY;
      const at = Math.min(periodEnd, cancelAt);
      consider({ at, order: 2, run: () => renew(core, sub, at) });
    }
  }
  for (const inv of Object.values(core.state.invoices)) {
    owner = inv.customer as string;
    if (!owns(owner)) continue;
    if (inv.status === 'draft' && inv.auto_advance && inv.automatically_finalizes_at !== null) {
      const at = inv.automatically_finalizes_at;
      consider({ at, order: 3, run: () => advanceDraft(core, inv, at) });
    }
    if (inv.status === 'open' && inv.next_payment_attempt !== null) {
      const at = inv.next_payment_attempt;
      consider({ at, order: 4, run: () => payInvoice(core, inv, at, { onSession: false }) });
    }
  }
  return best;
}

/**
 * Runs due work in time order; `setTime` moves the owning clock to each step's time first.
 * Outside any API request's context: like Stripe's own background work, these events carry
 * `request: { id: null }`.
 */
function runDue(
  core: Core,
  owns: (customerId: string) => boolean,
  until: (customerId: string) => number,
  setTime?: (at: number) => void,
): void {
  core.requestContext.exit(() => {
    for (let guard = 0; guard < 100_000; guard++) {
      const due = nextDue(core, owns, until);
      if (!due) return;
      setTime?.(due.at);
      due.run();
    }
    throw new Error('billing engine: runaway schedule');
  });
}

/** Processes whatever is due now: each customer up to its own time (its test clock's, or the wall clock). */
export function catchUp(core: Core): void {
  const now = wallNow();
  runDue(
    core,
    () => true,
    (customerId) => {
      const clockId = core.state.customers[customerId]?.test_clock;
      return typeof clockId === 'string' ? (core.state.testClocks[clockId]?.frozen_time ?? now) : now;
    },
  );
}

/**
 * Moves a test clock to `frozenTime`, running every renewal, finalization, payment and retry due
 * on the way at its own time, between test_helpers.test_clock.advancing and .ready.
 */
export function advanceClock(core: Core, clock: Stripe.TestHelpers.TestClock, frozenTime: number): void {
  const target = frozenTime;
  clock.status = 'advancing';
  clock.status_details = { advancing: { target_frozen_time: target } };
  core.emit('test_helpers.test_clock.advancing', clock, clock.frozen_time);
  runDue(
    core,
    (customerId) => core.state.customers[customerId]?.test_clock === clock.id,
    () => target,
    (at) => {
      clock.frozen_time = at;
    },
  );
  clock.frozen_time = target;
  clock.status = 'ready';
  clock.status_details = {};
  core.emit('test_helpers.test_clock.ready', clock, target);
  core.store.changed();
}
