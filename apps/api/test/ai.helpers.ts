import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { vi } from 'vitest';
import { createTestApp, type TestApp, type TestClient } from './helper.ts';
import { type OpenAiStub, startOpenAiStub } from './openai-stub-server.ts';
import { registered } from './users.helpers.ts';

export interface AiHarness {
  t: TestApp;
  stub: OpenAiStub;
  close(): Promise<void>;
}

/** The real app, its AI pointed (through the real SDK) at a local OpenAI-compatible stub. */
export async function startAiHarness(env: Record<string, string> = {}): Promise<AiHarness> {
  const stub = await startOpenAiStub();
  const t = await createTestApp({
    workers: false,
    env: {
      OPENAI_API_KEY: 'sk-test-stub-key',
      OPENAI_BASE_URL: stub.baseUrl,
      AI_MODEL: 'stub-model',
      AI_TIMEOUT_MS: '400',
      AI_MAX_RETRIES: '2',
      AI_RETRY_BASE_DELAY_MS: '5',
      RATE_LIMIT_USER_PER_MINUTE: '1000',
      ...env,
    },
  });
  return {
    t,
    stub,
    async close() {
      await t.close();
      await stub.close();
    },
  };
}

/** The user's personal workspace, by SQL: what a subscription or AI usage of theirs belongs to. */
const personalOrganization = `(select id from organizations where personal_user_id = $1)`;

/**
 * Makes the user's personal workspace Pro the way billing leaves it after a paid checkout: an
 * active `pro` subscription row (billing's own tests cover how rows get there).
 */
export async function makePro(
  t: TestApp,
  userId: string,
  options: { periodEnd?: Date; interval?: 'month' | 'year'; status?: string } = {},
) {
  await makeOrganizationPro(t, { personalOf: userId }, options);
}

/** As makePro, for any organization (by id) or a user's personal workspace. */
export async function makeOrganizationPro(
  t: TestApp,
  target: { organizationId: string } | { personalOf: string },
  options: { periodEnd?: Date; interval?: 'month' | 'year'; status?: string } = {},
) {
  const periodEnd = options.periodEnd ?? new Date(Date.now() + 20 * 24 * 3600 * 1000);
  const organization = 'organizationId' in target ? '$1' : personalOrganization;
  await t.app.database.query(
    `insert into subscriptions (organization_id, stripe_customer_id, stripe_subscription_id, status, plan, interval, current_period_end)
     values (${organization}, $2, $3, $4, 'pro', $5, $6)`,
    [
      'organizationId' in target ? target.organizationId : target.personalOf,
      `cus_${randomBytes(6).toString('hex')}`,
      `sub_${randomBytes(6).toString('hex')}`,
      options.status ?? 'active',
      options.interval ?? 'month',
      periodEnd.toISOString(),
    ],
  );
}

export async function proUser(t: TestApp, options: Parameters<typeof makePro>[2] = {}) {
  const account = await registered(t);
  await makePro(t, account.user.id, options);
  return account;
}

export interface AiRow {
  id: string;
  user_id: string;
  organization_id: string;
  status: string;
  output: string;
  prompt: string;
  total_tokens: number;
  prompt_tokens: number;
  completion_tokens: number;
  error_code: string | null;
  latency_ms: number | null;
  model: string;
}

export async function aiRows(t: TestApp, userId: string): Promise<AiRow[]> {
  return t.app.database.query<AiRow>('select * from ai_requests where user_id = $1 order by created_at, id', [
    userId,
  ]);
}

/** Waits until the user's rows satisfy `predicate` (a streamed call settles after the response). */
export async function waitForRows(
  t: TestApp,
  userId: string,
  predicate: (rows: AiRow[]) => boolean,
  timeoutMs = 5000,
): Promise<AiRow[]> {
  return vi.waitFor(
    async () => {
      const rows = await aiRows(t, userId);
      if (!predicate(rows)) throw new Error(`rows never matched: ${JSON.stringify(rows)}`);
      return rows;
    },
    { timeout: timeoutMs, interval: 20 },
  );
}

/**
 * Completed rows inserted directly, to bring a user's personal workspace (or the organization
 * given) to the edge of its quota.
 */
export async function seedUsage(
  t: TestApp,
  userId: string,
  options: { requests: number; tokensEach: number; at?: Date; organizationId?: string },
) {
  await t.app.database.query(
    `insert into ai_requests (id, user_id, organization_id, status, model, prompt, output, stream, max_tokens,
       reserved_tokens, prompt_tokens, completion_tokens, total_tokens, created_at, finished_at)
     select 'seed-' || $1 || '-' || gen_random_uuid(), $1, coalesce($5, ${personalOrganization}), 'completed',
       'stub-model', 'seeded', 'seeded', false, 10, $2, 0, $2, $2, $3, $3
     from generate_series(1, $4::int) as n`,
    [
      userId,
      options.tokensEach,
      (options.at ?? new Date()).toISOString(),
      options.requests,
      options.organizationId ?? null,
    ],
  );
}

/** Listens on a loopback port, for the tests that need a real connection (streaming). */
export async function listen(t: TestApp): Promise<string> {
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = t.app.server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

/** Headers that make a fetch() act as the client's browser session (cookies + CSRF token). */
export async function browserHeaders(client: TestClient): Promise<Record<string, string>> {
  const csrf = await client.csrfToken();
  return { cookie: client.cookieHeader, 'x-csrftoken': csrf, 'content-type': 'application/json' };
}

export interface SseEvent {
  event: string;
  data: unknown;
}

export function parseSse(text: string): SseEvent[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim())
    .map((block) => {
      const lines = block.split('\n');
      const event = lines.find((line) => line.startsWith('event: '))?.slice(7) ?? 'message';
      const data = lines
        .filter((line) => line.startsWith('data: '))
        .map((line) => line.slice(6))
        .join('\n');
      return { event, data: JSON.parse(data) };
    });
}
