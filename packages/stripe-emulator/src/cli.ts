#!/usr/bin/env node
/**
 * Standalone entry (the `stripe-emulator` bin; `npm run emulator` in this repository): port 12111 (STRIPE_EMULATOR_PORT), prints its URL and its
 * webhook secret. Honours STRIPE_WEBHOOK_URL, STRIPE_WEBHOOK_SECRET, STRIPE_EMULATOR_STATE_FILE
 * (or --state <file>), STRIPE_EMULATOR_HOST and STRIPE_EMULATOR_PUBLIC_URL.
 */
import { startEmulator } from './index.ts';

function argValue(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

const env = process.env;
const port = Number(argValue('--port') ?? env.STRIPE_EMULATOR_PORT ?? 12111);
const emulator = await startEmulator({
  port,
  host: env.STRIPE_EMULATOR_HOST ?? '127.0.0.1',
  webhookUrl: env.STRIPE_WEBHOOK_URL || undefined,
  webhookSecret: env.STRIPE_WEBHOOK_SECRET || undefined,
  stateFile: argValue('--state') ?? (env.STRIPE_EMULATOR_STATE_FILE || undefined),
  apiKey: env.STRIPE_EMULATOR_API_KEY || undefined,
  finalAction:
    (env.STRIPE_EMULATOR_FINAL_ACTION as 'cancel' | 'unpaid' | 'past_due' | undefined) || undefined,
  publicUrl: env.STRIPE_EMULATOR_PUBLIC_URL || undefined,
  log: (line) => console.error(`[stripe-emulator] ${line}`),
});

console.log(`Stripe emulator listening on ${emulator.url} (dashboard: ${emulator.url}/)`);
// The secret is printed once, deliberately: the developer pastes it into STRIPE_WEBHOOK_SECRET.
console.log(`Webhook signing secret: ${emulator.webhookSecret}`);
if (env.STRIPE_WEBHOOK_URL) console.log(`Delivering webhooks to ${env.STRIPE_WEBHOOK_URL}`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    emulator.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  });
}
