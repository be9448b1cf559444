/** The Stripe emulator's API (any sk_test_ key) and its control API, for moving time in tests. */
const KEY = 'sk_test_e2e';

export async function testClockOf(emulatorUrl: string, email: string): Promise<string> {
  const response = await fetch(`${emulatorUrl}/v1/customers?email=${encodeURIComponent(email)}`, {
    headers: { Authorization: `Bearer ${KEY}` },
  });
  const body = (await response.json()) as { data: { id: string; test_clock: string | null }[] };
  const clock = body.data[0]?.test_clock;
  if (!clock) throw new Error(`the emulator has no customer with a test clock for ${email}`);
  return clock;
}

/**
 * Advances the customer's clock; everything due (renewals, charges) has run when this returns.
 * The webhooks it caused are still on their way: callers wait for what the user would see.
 * (Not `/_emulator/webhooks/flush`: that also waits out retries of unrelated deliveries, such as
 * the catalogue events the server emits while starting, which can take a minute.)
 */
export async function advanceClock(emulatorUrl: string, clockId: string, seconds: number): Promise<void> {
  const response = await fetch(`${emulatorUrl}/_emulator/test_clocks/${clockId}/advance`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ seconds: String(seconds) }),
  });
  if (!response.ok)
    throw new Error(`advancing the clock failed: ${response.status} ${await response.text()}`);
}
