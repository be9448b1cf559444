import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import { Writable } from 'node:stream';
import { PGlite } from '@electric-sql/pglite';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import { inject, vi } from 'vitest';
import { type BuildOptions, buildApp } from '../src/app.ts';
import { type Config, loadConfig } from '../src/config.ts';
import { withDatabase } from './global-setup.ts';

/** One fresh, migrated database for a test file (or shared by several app instances). */
export interface TestDatabase {
  /** Set on PostgreSQL runs. */
  databaseUrl?: string;
  /** Set on PGlite runs: the in-memory instance every app built on this database shares. */
  pglite?: PGlite;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const template = inject('postgresTemplate');
  const baseUrl = process.env.DATABASE_URL;
  if (template && baseUrl) {
    const name = `tierbase_t_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: baseUrl });
    await admin.connect();
    await admin.query(`create database "${name}" template "${template}"`);
    await admin.end();
    return {
      databaseUrl: withDatabase(baseUrl, name),
      async drop() {
        const client = new pg.Client({ connectionString: baseUrl });
        await client.connect();
        await client.query(`drop database if exists "${name}" with (force)`);
        await client.end();
      },
    };
  }
  const snapshot = fs.readFileSync(inject('pgliteSnapshot'));
  const pglite = await PGlite.create({ loadDataDir: new Blob([snapshot]) });
  return {
    pglite,
    async drop() {
      if (!pglite.closed) await pglite.close();
    },
  };
}

/** Log lines the app wrote during a test, to assert what they never contain. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: string, callback: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    callback();
  }
  get text(): string {
    return this.lines.join('\n');
  }
}

export interface TestApp {
  app: FastifyInstance;
  config: Config;
  database: TestDatabase;
  logs: LogCapture;
  close(): Promise<void>;
}

export interface TestAppOptions extends Omit<BuildOptions, 'pglite' | 'logStream'> {
  env?: Record<string, string>;
  /** Build on an existing test database (e.g. a second instance); it is then not dropped on close. */
  database?: TestDatabase;
  /** Adds routes of the test's own to the built app before it starts (e.g. to show a route policy applies). */
  routes?: (app: FastifyInstance) => void;
}

/**
 * Builds the real app on a real database: PGlite in memory by default, a fresh PostgreSQL database
 * when DATABASE_URL is set, and Redis when REDIS_URL is set (under a key prefix of its own).
 */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const ownsDatabase = !options.database;
  const database = options.database ?? (await createTestDatabase());
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    REDIS_URL: process.env.REDIS_URL,
    REDIS_KEY_PREFIX: `tierbase-test:${randomBytes(6).toString('hex')}:`,
    // A scheduled reconciliation would make Stripe calls in the middle of other tests.
    RECONCILE_CRON: 'off',
    // No load shedding: the suite shares two cores and PGlite holds the event loop while it works,
    // so a lag no user would see could answer a test 503. ops-load-shedding.test.ts turns it on.
    MAX_EVENT_LOOP_DELAY_MS: '0',
    ...(database.databaseUrl ? { DATABASE_URL: database.databaseUrl } : {}),
    ...options.env,
  });
  const logs = new LogCapture();
  const app = await buildApp(config, {
    ...(database.pglite ? { pglite: database.pglite } : {}),
    ...(options.workers === undefined ? {} : { workers: options.workers }),
    ...(options.webRoot ? { webRoot: options.webRoot } : {}),
    logStream: logs,
  });
  options.routes?.(app);
  await app.ready();
  return {
    app,
    config,
    database,
    logs,
    async close() {
      await app.close();
      if (ownsDatabase) await database.drop();
    },
  };
}

/**
 * A browser-like client over `inject`: keeps cookies, fetches the CSRF token once and sends it
 * back on unsafe methods, as the SPA does.
 */
export class TestClient {
  readonly cookies = new Map<string, string>();
  constructor(readonly app: FastifyInstance) {}

  get cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  async request(options: InjectOptions): Promise<LightMyRequestResponse> {
    const method = (options.method ?? 'GET').toUpperCase();
    const headers: Record<string, string> = { ...(options.headers as Record<string, string> | undefined) };
    if (!['GET', 'HEAD', 'OPTIONS'].includes(method) && !('x-csrftoken' in headers)) {
      headers['x-csrftoken'] = await this.csrfToken();
    }
    if (this.cookies.size > 0 && !('cookie' in headers)) headers.cookie = this.cookieHeader;
    const response = await this.app.inject({ ...options, headers });
    for (const cookie of response.cookies) {
      if (cookie.maxAge === 0 || (cookie.expires && cookie.expires.getTime() < Date.now())) {
        this.cookies.delete(cookie.name);
      } else {
        this.cookies.set(cookie.name, cookie.value);
      }
    }
    return response;
  }

  async csrfToken(): Promise<string> {
    const existing = this.cookies.get('csrftoken');
    if (existing) return existing;
    const response = await this.request({ method: 'GET', url: '/api/csrf/' });
    return (response.json() as { data: { csrfToken: string } }).data.csrfToken;
  }

  get(url: string) {
    return this.request({ method: 'GET', url });
  }
  post(url: string, payload?: unknown) {
    return this.request({
      method: 'POST',
      url,
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  }
  patch(url: string, payload?: unknown) {
    return this.request({
      method: 'PATCH',
      url,
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  }
}

/** A TCP port nothing listens on right now, on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A fixed pause, only where the time itself is under test: "nothing happens within N ms" (a
 * duplicate that must not arrive, a job that must not run) or a stage of a request held open on
 * purpose. To wait for something to happen, use `waitFor` / `vi.waitFor` / `expect.poll`.
 */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `vi.waitFor` for a check that answers with a value: polls `check` until it returns something
 * truthy (returned), or fails after `timeoutMs`.
 */
export function waitFor<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
  intervalMs = 50,
): Promise<T> {
  return vi.waitFor(
    async () => {
      const value = await check();
      if (!value) throw new Error('timed out waiting');
      return value;
    },
    { timeout: timeoutMs, interval: intervalMs },
  );
}
