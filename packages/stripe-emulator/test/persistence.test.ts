import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Stripe from 'stripe';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator } from '../src/index.ts';
import { createPlan, startTestEmulator } from './helpers.ts';

describe('persistence and standalone mode', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  it('saves state to the JSON file and loads it at the next start (same generated webhook secret)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stripe-emulator-'));
    dirs.push(dir);
    const stateFile = join(dir, 'state', 'stripe.json');
    const first = await startTestEmulator({ stateFile });
    const { monthly } = await createPlan(first.stripe);
    const customer = await first.stripe.customers.create({ email: 'keep@example.com' });
    const pm = await first.stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    const sub = await first.stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: monthly.id }],
      default_payment_method: pm.id,
    });
    const secret = first.emulator.webhookSecret;
    await first.emulator.stop();
    const saved = JSON.parse(await readFile(stateFile, 'utf8')) as { customers: Record<string, unknown> };
    expect(Object.keys(saved.customers)).toEqual([customer.id]);

    const second = await startTestEmulator({ stateFile });
    try {
      expect(second.emulator.webhookSecret).toBe(secret);
      expect(((await second.stripe.customers.retrieve(customer.id)) as Stripe.Customer).email).toBe(
        'keep@example.com',
      );
      expect((await second.stripe.subscriptions.retrieve(sub.id)).status).toBe('active');
      // Invoice links point at the new server.
      const invoice = (await second.stripe.invoices.list({ customer: customer.id })).data[0]!;
      expect(invoice.hosted_invoice_url).toBe(`${second.emulator.url}/invoices/${invoice.id}`);
      expect((await fetch(invoice.hosted_invoice_url!)).status).toBe(200);
    } finally {
      await second.emulator.stop();
    }
  });

  it('stop() resolves and is idempotent', async () => {
    const emulator = await startEmulator();
    await Promise.all([emulator.stop(), emulator.stop()]);
    await expect(fetch(`${emulator.url}/v1/customers`)).rejects.toThrow();
  });

  it('the CLI prints its URL and webhook secret and honours the environment', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', '--port', '0'], {
      cwd: join(import.meta.dirname, '..'),
      env: {
        ...process.env,
        STRIPE_WEBHOOK_SECRET: 'whsec_from_env',
        STRIPE_WEBHOOK_URL: 'http://127.0.0.1:9/hook',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      output += chunk;
    });
    await expect.poll(() => output, { timeout: 15_000 }).toContain('Webhook signing secret');
    expect(output).toContain('whsec_from_env');
    const url = /listening on (http:\/\/\S+)/.exec(output)![1]!;
    const port = Number(new URL(url).port);
    const stripe = new Stripe('sk_test_cli', { host: '127.0.0.1', port, protocol: 'http' });
    const endpoints = await stripe.webhookEndpoints.list();
    expect(endpoints.data.map((e) => e.url)).toEqual(['http://127.0.0.1:9/hook']);
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
