#!/usr/bin/env node
/**
 * The `stripe-emulator` bin (`npm run emulator` in this repository): listens on port 12111 unless
 * told otherwise, prints its URL and its webhook secret, and stops cleanly on SIGINT/SIGTERM.
 * Flags win over the environment; the README lists both.
 */
import { parseArgs } from 'node:util';
import { startEmulator } from './index.ts';

const USAGE = `Usage: stripe-emulator [--port N] [--host ADDRESS] [--state FILE]

A local, stateful Stripe API for the official stripe SDK (http://HOST:PORT/v1, dashboard at /).

  --port N         port to listen on (default 12111, STRIPE_EMULATOR_PORT; 0 picks a free one)
  --host ADDRESS   interface to listen on (default 127.0.0.1, STRIPE_EMULATOR_HOST)
  --state FILE     JSON file the state is loaded from and saved to (STRIPE_EMULATOR_STATE_FILE)
  -h, --help       this text

Environment: STRIPE_WEBHOOK_URL, STRIPE_WEBHOOK_SECRET, STRIPE_EMULATOR_API_KEY,
STRIPE_EMULATOR_FINAL_ACTION (cancel | unpaid | past_due), STRIPE_EMULATOR_PUBLIC_URL.
`;

const FINAL_ACTIONS = ['cancel', 'unpaid', 'past_due'] as const;
type FinalAction = (typeof FINAL_ACTIONS)[number];

function fail(message: string): never {
  process.stderr.write(`stripe-emulator: ${message}\n\n${USAGE}`);
  process.exit(2);
}

let flags: { port?: string; host?: string; state?: string; help?: boolean };
try {
  flags = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      state: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }).values;
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
if (flags.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

const env = process.env;
const portText = flags.port ?? env.STRIPE_EMULATOR_PORT ?? '12111';
const port = Number(portText);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`invalid port: ${portText}`);
const finalAction = env.STRIPE_EMULATOR_FINAL_ACTION || undefined;
if (finalAction !== undefined && !FINAL_ACTIONS.includes(finalAction as FinalAction)) {
  fail(`STRIPE_EMULATOR_FINAL_ACTION must be one of ${FINAL_ACTIONS.join(', ')}`);
}

const emulator = await startEmulator({
  port,
  host: flags.host ?? env.STRIPE_EMULATOR_HOST ?? '127.0.0.1',
  webhookUrl: env.STRIPE_WEBHOOK_URL || undefined,
  webhookSecret: env.STRIPE_WEBHOOK_SECRET || undefined,
  stateFile: flags.state ?? (env.STRIPE_EMULATOR_STATE_FILE || undefined),
  apiKey: env.STRIPE_EMULATOR_API_KEY || undefined,
  finalAction: finalAction as FinalAction | undefined,
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
