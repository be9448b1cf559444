/**
 * Test clock objects. Every field the pinned API version has, typed with the `stripe` package's
 * own types so the compiler checks what the emulator emits.
 */
import type Stripe from 'stripe';
import { newId } from '../ids.ts';

export function buildTestClock(
  frozenTime: number,
  name: string | null,
  created: number,
): Stripe.TestHelpers.TestClock {
  return {
    id: newId('clock'),
    object: 'test_helpers.test_clock',
    created,
    deletes_after: created + 30 * 86400,
    frozen_time: frozenTime,
    livemode: false,
    name,
    status: 'ready',
    status_details: {},
  };
}
