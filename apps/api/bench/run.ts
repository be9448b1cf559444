/**
 * `npm run bench [-- flags]`: builds the API, starts it as a child process on loopback, and drives
 * it with autocannon, one scenario at a time. Prints requests/s, p50 and p99 latency, and the
 * server's peak resident memory for each scenario.
 *
 * Database: real PostgreSQL by default — the server in DATABASE_URL, else
 * postgres://postgres@127.0.0.1:5432/ — in a fresh `tierbase_bench` database created for the run
 * and dropped after it; `--pglite` uses the embedded database in a temporary folder instead.
 * REDIS_URL, when set, is passed on (shared rate-limit counters, as in production).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { formatSummary, summarize } from './cpu-profile.ts';
import { prepareSeedStack, seedStackCommand, seedStackVersion } from './seed-stack.ts';

const HELP = `Usage: npm run bench -- [options]

  --pglite               embedded database instead of PostgreSQL
  --duration <s>         seconds per scenario (default 10, at most 120)
  --connections <n>      concurrent connections (default 50, at most 1000)
  --rate <n>             fixed total rate in requests/s (e.g. 1000) instead of as fast as possible
  --warmup <s>           unmeasured seconds before each scenario (default 2)
  --scenarios <list>     comma-separated subset of: health,profile,login,webhook (default all)
  --rounds <n>           run every scenario n times, taking turns with the servers it is raced
                         against (default 1); the tables show each scenario's median round, and a
                         last table every round's figures, to show how far runs spread
  --log-level <level>    the server's LOG_LEVEL (default info, as in production; logs go to a file)
  --workers <n>          the server's WEB_CONCURRENCY: processes serving requests (default 1)
  --compare              race a bare node:http server (bench/bare-server.mjs, same --workers) on the
                         same scenarios in the same run, and print each figure's ratio to it
  --django               race the seed's stack too (bench/seed-django: Django + DRF + Gunicorn on the
                         same PostgreSQL and Redis; Debian's python3-django and friends, see
                         docs/benchmarks.md) and print Tierbase's figures as multiples of its
  --django-workers <n>   its Gunicorn workers (default 5, as the issue's race ran it)
  --server <file>        run this built server.js instead of building apps/api (to race another
                         commit's build, made with its own apps/api/build.mjs)
  --cpu-prof <dir>       run the server under --cpu-prof, write its profiles to <dir> and print
                         where the time went (self time by file or package, per hook, top functions)
  --help
`;

const BENCH_DATABASE = 'tierbase_bench';
/**
 * The server runs as in production, behind a TLS-terminating proxy (nginx in deploy/): the bench
 * plays that proxy, so every request says it arrived over HTTPS from a trusted address.
 */
const PROXY_HEADERS = { 'x-forwarded-proto': 'https' };
const HOST = '127.0.0.1';
/** The server verifies webhook signatures with this secret; the bench signs with it. */
const WEBHOOK_SECRET = `whsec_bench${randomBytes(16).toString('hex')}`;
const apiDir = path.resolve(import.meta.dirname, '..');

interface Options {
  pglite: boolean;
  durationSeconds: number;
  connections: number;
  rate: number | undefined;
  warmupSeconds: number;
  scenarios: string[];
  rounds: number;
  logLevel: string;
  workers: number;
  compare: boolean;
  django: boolean;
  djangoWorkers: number;
  cpuProfDir: string | undefined;
  server: string | undefined;
}

interface Scenario {
  name: string;
  title: string;
  /**
   * A cap on --connections. Login is bound by password hashing (scrypt, 32 MiB and tens of ms of
   * CPU each, by design): 50 concurrent logins on 2 cores only measure the queue in front of it.
   */
  maxConnections?: number;
  request: (session: Session) => Pick<autocannon.Options, 'method' | 'headers' | 'body'> & {
    path: string;
    /** Rewrites each request before it is sent (a fresh, signed webhook event each time). */
    setupRequest?: autocannon.Request['setupRequest'];
  };
}

let eventCounter = 0;

/** A Stripe event as Stripe sends it: a new id each time and a signature over the exact bytes. */
function signedEvent(): { body: string; signature: string } {
  eventCounter += 1;
  const created = Math.floor(Date.now() / 1000);
  const body = JSON.stringify({
    id: `evt_bench_${process.pid}_${eventCounter}`,
    object: 'event',
    type: 'customer.created',
    api_version: '2026-10-28.endive',
    created,
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    data: { object: { id: `cus_bench_${eventCounter}`, object: 'customer' } },
  });
  const v1 = createHmac('sha256', WEBHOOK_SECRET).update(`${created}.${body}`).digest('hex');
  return { body, signature: `t=${created},v1=${v1}` };
}

interface Session {
  email: string;
  password: string;
  /** Cookie header of the signed-in user (session + CSRF). */
  cookie: string;
  csrfToken: string;
}

const SCENARIOS: Scenario[] = [
  {
    name: 'health',
    title: 'GET /health/',
    request: () => ({ method: 'GET', path: '/health/', headers: PROXY_HEADERS }),
  },
  {
    name: 'profile',
    title: 'GET /api/profile/ (signed in)',
    request: (session) => ({
      method: 'GET',
      path: '/api/profile/',
      headers: { ...PROXY_HEADERS, cookie: session.cookie },
    }),
  },
  {
    name: 'login',
    title: 'POST /api/login/',
    maxConnections: 8,
    request: (session) => ({
      method: 'POST',
      path: '/api/login/',
      headers: {
        ...PROXY_HEADERS,
        'content-type': 'application/json',
        cookie: `csrftoken=${session.csrfToken}`,
        'x-csrftoken': session.csrfToken,
      },
      body: JSON.stringify({ email: session.email, password: session.password }),
    }),
  },
  {
    // Signature check, recording by event id, the claim and the bookkeeping: the ingest path every
    // event takes. The type is one the app records and acknowledges without calling Stripe, so the
    // figure is the app's own, not Stripe's (or the emulator's) latency.
    name: 'webhook',
    title: 'POST /api/stripe/webhook/ (signed)',
    request: () => ({
      method: 'POST',
      path: '/api/stripe/webhook/',
      headers: { ...PROXY_HEADERS, 'content-type': 'application/json' },
      setupRequest: (request) => {
        const { body, signature } = signedEvent();
        return { ...request, body, headers: { ...request.headers, 'stripe-signature': signature } };
      },
    }),
  },
];

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      pglite: { type: 'boolean', default: false },
      duration: { type: 'string', default: '10' },
      connections: { type: 'string', default: '50' },
      rate: { type: 'string' },
      warmup: { type: 'string', default: '2' },
      scenarios: { type: 'string', default: SCENARIOS.map((s) => s.name).join(',') },
      rounds: { type: 'string', default: '1' },
      'log-level': { type: 'string', default: 'info' },
      workers: { type: 'string', default: '1' },
      compare: { type: 'boolean', default: false },
      django: { type: 'boolean', default: false },
      'django-workers': { type: 'string', default: '5' },
      'cpu-prof': { type: 'string' },
      server: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const bounded = (name: string, raw: string, min: number, max: number) => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new Error(`--${name} must be a whole number from ${min} to ${max}`);
    }
    return value;
  };
  const scenarios = values.scenarios.split(',').map((name) => name.trim());
  const unknown = scenarios.filter((name) => !SCENARIOS.some((s) => s.name === name));
  if (unknown.length > 0) throw new Error(`unknown scenario: ${unknown.join(', ')}`);
  return {
    pglite: values.pglite,
    durationSeconds: bounded('duration', values.duration, 1, 120),
    connections: bounded('connections', values.connections, 1, 1000),
    rate: values.rate === undefined ? undefined : bounded('rate', values.rate, 1, 100_000),
    warmupSeconds: bounded('warmup', values.warmup, 0, 30),
    scenarios,
    rounds: bounded('rounds', values.rounds, 1, 20),
    logLevel: values['log-level'],
    workers: bounded('workers', values.workers, 1, 64),
    compare: values.compare,
    django: values.django,
    djangoWorkers: bounded('django-workers', values['django-workers'], 1, 64),
    cpuProfDir: values['cpu-prof'] === undefined ? undefined : path.resolve(values['cpu-prof']),
    server: values.server === undefined ? undefined : path.resolve(values.server),
  };
}

/** A fresh database on the PostgreSQL server, dropped by the returned function. */
async function createBenchDatabase(
  serverUrl: string,
  name = BENCH_DATABASE,
): Promise<{ url: string; drop: () => Promise<void> }> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`drop database if exists "${name}" with (force)`);
    await admin.query(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`drop database if exists "${name}" with (force)`);
      await client.end();
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The process and its children (the cluster's workers), by pid. */
function processTree(pid: number): number[] {
  try {
    const children = fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .split(' ')
      .filter(Boolean)
      .map(Number);
    return [pid, ...children.flatMap(processTree)];
  } catch {
    return [pid];
  }
}

/** A /proc/<pid>/status memory field (reported in kB) summed over the process tree, in MiB. */
function procStatusMiB(pid: number, field: 'VmHWM' | 'VmRSS'): number | undefined {
  let total = 0;
  for (const each of processTree(pid)) {
    try {
      const status = fs.readFileSync(`/proc/${each}/status`, 'utf8');
      const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
      if (!match) return undefined;
      total += Number(match[1]) / 1024;
    } catch {
      return undefined;
    }
  }
  return total;
}

/**
 * CPU seconds (user + system) the process tree has used so far (Linux). Per request, it judges a
 * change on a busy machine better than requests/s: other processes' load slows the server down,
 * but barely changes how much CPU each request costs it.
 */
function cpuSeconds(pid: number): number | undefined {
  let ticks = 0;
  for (const each of processTree(pid)) {
    try {
      // Fields after the command name (which may hold spaces): utime and stime are 14th and 15th.
      const stat = fs.readFileSync(`/proc/${each}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      return undefined;
    }
  }
  // USER_HZ is 100 on every Linux Node supports.
  return ticks / 100;
}

/** Resets the peak-RSS mark so the next reading covers one scenario only (Linux; best effort). */
function resetPeakRss(pid: number): boolean {
  try {
    for (const each of processTree(pid)) fs.writeFileSync(`/proc/${each}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

async function waitForHealth(baseUrl: string, server: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) {
      throw new Error(
        `the server exited with ${server.exitCode}; its log:\n${fs.readFileSync(logFile, 'utf8')}`,
      );
    }
    try {
      if ((await fetch(`${baseUrl}/health/`, { headers: PROXY_HEADERS })).ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the server did not answer /health/ within 60 s; see ${logFile}`);
}

/** Registers a user through the API and returns the signed-in session's cookies. */
async function signUp(baseUrl: string): Promise<Session> {
  const csrf = await fetch(`${baseUrl}/api/csrf/`, { headers: PROXY_HEADERS });
  const { data } = (await csrf.json()) as { data: { csrfToken: string } };
  const csrfToken = data.csrfToken;
  const email = `bench.${randomBytes(4).toString('hex')}@example.com`;
  const password = `Bench-${randomBytes(12).toString('base64url')}-9x`;
  const post = (url: string, body: object) =>
    fetch(`${baseUrl}${url}`, {
      method: 'POST',
      headers: {
        ...PROXY_HEADERS,
        'content-type': 'application/json',
        cookie: `csrftoken=${csrfToken}`,
        'x-csrftoken': csrfToken,
      },
      body: JSON.stringify(body),
    });
  const registered = await post('/api/register/', { email, password, name: 'Bench' });
  if (registered.status !== 202)
    throw new Error(`register answered ${registered.status}: ${await registered.text()}`);
  const login = await post('/api/login/', { email, password });
  if (login.status !== 200) throw new Error(`login answered ${login.status}: ${await login.text()}`);
  const cookies = login.headers
    .getSetCookie()
    .map((header) => header.split(';')[0] ?? '')
    .filter((pair) => pair && !pair.endsWith('='));
  const cookie = [...cookies, `csrftoken=${csrfToken}`].join('; ');
  const profile = await fetch(`${baseUrl}/api/profile/`, { headers: { ...PROXY_HEADERS, cookie } });
  if (profile.status !== 200) throw new Error(`profile answered ${profile.status} with the login cookies`);
  return { email, password, cookie, csrfToken };
}

interface Row {
  scenario: string;
  connections: number;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  peakRssMiB: number | undefined;
  /** The server's CPU time per answered request, in ms (user + system, all its processes). */
  cpuMsPerRequest: number | undefined;
}

async function runScenario(
  baseUrl: string,
  scenario: Scenario,
  session: Session,
  options: Options,
  pid: number,
) {
  const { path: requestPath, setupRequest, ...request } = scenario.request(session);
  const connections = Math.min(options.connections, scenario.maxConnections ?? Number.POSITIVE_INFINITY);
  const common = {
    url: `${baseUrl}${requestPath}`,
    ...request,
    connections,
    ...(setupRequest ? { requests: [{ setupRequest }] } : {}),
    ...(options.rate ? { overallRate: options.rate } : {}),
  };
  if (options.warmupSeconds > 0) await autocannon({ ...common, duration: options.warmupSeconds });
  const perScenarioPeak = resetPeakRss(pid);
  const cpuBefore = cpuSeconds(pid);
  const result = await autocannon({ ...common, duration: options.durationSeconds });
  const cpuAfter = cpuSeconds(pid);
  const cpuMsPerRequest =
    cpuBefore === undefined || cpuAfter === undefined || result.requests.total === 0
      ? undefined
      : ((cpuAfter - cpuBefore) * 1000) / result.requests.total;
  return {
    row: {
      scenario: scenario.title,
      connections,
      rps: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      non2xx: result.non2xx,
      errors: result.errors + result.timeouts,
      peakRssMiB: procStatusMiB(pid, 'VmHWM'),
      cpuMsPerRequest,
    } satisfies Row,
    perScenarioPeak,
  };
}

function printAligned(header: string[], body: string[][]): void {
  const widths = header.map((title, i) =>
    Math.max(title.length, ...body.map((cells) => cells[i]?.length ?? 0)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  ');
  process.stdout.write(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const cells of body) process.stdout.write(`${line(cells)}\n`);
}

function printTable(rows: Row[]): void {
  printAligned(
    [
      'scenario',
      'connections',
      'requests/s',
      'p50 ms',
      'p99 ms',
      'non-2xx',
      'errors',
      'peak RSS MiB',
      'server CPU ms/request',
    ],
    rows.map((row) => [
      row.scenario,
      String(row.connections),
      row.rps.toFixed(0),
      row.p50.toFixed(1),
      row.p99.toFixed(1),
      String(row.non2xx),
      String(row.errors),
      row.peakRssMiB === undefined ? 'n/a' : row.peakRssMiB.toFixed(0),
      row.cpuMsPerRequest === undefined ? 'n/a' : row.cpuMsPerRequest.toFixed(3),
    ]),
  );
}

/**
 * Tierbase beside another server of the same run: throughput as a share (or multiple) of the
 * other's, p99 and CPU per request as multiples of the other's.
 */
function printComparison(rows: Row[], others: Map<string, Row>, name: string): void {
  printAligned(
    [
      'scenario',
      'Tierbase req/s',
      `${name} req/s`,
      `Tierbase/${name}`,
      'Tierbase p99',
      `${name} p99`,
      'p99 ×',
      'CPU/request ×',
    ],
    rows.flatMap((row) => {
      const other = others.get(row.scenario);
      if (!other) return [];
      const share = row.rps / other.rps;
      return [
        [
          row.scenario,
          row.rps.toFixed(0),
          other.rps.toFixed(0),
          share < 1 ? `${(100 * share).toFixed(1)}%` : `${share.toFixed(1)}×`,
          `${row.p99.toFixed(0)} ms`,
          `${other.p99.toFixed(0)} ms`,
          `${(row.p99 / Math.max(other.p99, 1)).toFixed(2)}×`,
          row.cpuMsPerRequest && other.cpuMsPerRequest
            ? `${(row.cpuMsPerRequest / other.cpuMsPerRequest).toFixed(2)}×`
            : 'n/a',
        ],
      ];
    }),
  );
}

/** Every round's figures: Tierbase's requests/s and CPU per request, and its ratios in that round. */
function printRounds(rounds: Map<string, { row: Row; bare?: Row; seed?: Row }[]>): void {
  process.stdout.write(
    '\nEvery round, in order (requests/s; server CPU µs/request; share of bare; × Django):\n',
  );
  printAligned(
    ['scenario', 'round', 'Tierbase req/s', 'CPU µs/request', 'Tierbase/bare', 'Tierbase/Django'],
    [...rounds.entries()].flatMap(([scenario, entries]) =>
      entries.map(({ row, bare, seed }, i) => [
        scenario,
        String(i + 1),
        row.rps.toFixed(0),
        row.cpuMsPerRequest === undefined ? 'n/a' : (row.cpuMsPerRequest * 1000).toFixed(0),
        bare ? `${((100 * row.rps) / bare.rps).toFixed(1)}%` : '',
        seed ? `${(row.rps / seed.rps).toFixed(1)}×` : '',
      ]),
    ),
  );
}

/**
 * The scenarios the bare server and the seed's stack answer (the bare server has no password
 * hashing to compare login with, and the seed's stack no login endpoint of the same shape).
 */
const BARE_SCENARIOS = new Set(['health', 'profile', 'webhook']);

interface Started {
  pid: number;
  baseUrl: string;
  logFile: string;
}

/** A Node script, or with `command` any program, whose arguments may name the port it is given. */
async function startProcess(
  cleanups: (() => Promise<void> | void)[],
  args: string[] | ((port: number) => [string, string[]]),
  env: Record<string, string>,
  workDir: string,
  name: string,
): Promise<Started> {
  const port = await freePort();
  const baseUrl = `http://${HOST}:${port}`;
  const logFile = path.join(workDir, `${name}.log`);
  const log = fs.openSync(logFile, 'a');
  const [command, commandArgs] = Array.isArray(args) ? [process.execPath, args] : args(port);
  const server = spawn(command, commandArgs, {
    cwd: workDir,
    env: { PATH: process.env.PATH ?? '', HOST, PORT: String(port), APP_URL: baseUrl, ...env },
    stdio: ['ignore', log, log],
  });
  fs.closeSync(log);
  cleanups.push(async () => {
    if (server.exitCode !== null) return;
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    // A profiled server writes its profiles on the way out: give it the time.
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 30_000))]);
    if (server.exitCode === null) server.kill('SIGKILL');
  });
  await waitForHealth(baseUrl, server, logFile);
  return { pid: server.pid!, baseUrl, logFile };
}

/** The seed's stack on its own database of the same PostgreSQL server, signed in, listening. */
async function startSeedStack(
  cleanups: (() => Promise<void> | void)[],
  options: Options,
  serverUrl: string,
  workDir: string,
): Promise<Started & { version: string; session: Session }> {
  const version = seedStackVersion();
  const redisUrl = process.env.REDIS_URL;
  if (options.pglite || !redisUrl) {
    throw new Error(
      '--django races on PostgreSQL and Redis, as the seed runs: set REDIS_URL, without --pglite',
    );
  }
  const database = await createBenchDatabase(serverUrl, `${BENCH_DATABASE}_django`);
  cleanups.push(database.drop);
  const staticRoot = path.join(workDir, 'django-static');
  fs.mkdirSync(staticRoot);
  const env = {
    DATABASE_URL: database.url,
    REDIS_URL: redisUrl,
    SECRET_KEY: randomBytes(32).toString('hex'),
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    STATIC_ROOT: staticRoot,
    CACHE_KEY_PREFIX: `seedbench-${randomBytes(4).toString('hex')}`,
    // Bench only, as for Tierbase: every request comes from one address and one user.
    THROTTLE_ANON: '100000000/min',
    THROTTLE_USER: '100000000/min',
    WEBHOOK_EVENTS_PER_MINUTE: '100000000',
  };
  const cookie = prepareSeedStack(env);
  const accessLog = path.join(workDir, 'django-access.log');
  const started = await startProcess(
    cleanups,
    (port) => seedStackCommand(port, options.djangoWorkers, accessLog),
    env,
    workDir,
    'django',
  );
  return { ...started, version, session: { email: '', password: '', cookie, csrfToken: '' } };
}

async function main(): Promise<void> {
  const options = parseOptions();
  const cleanups: (() => Promise<void> | void)[] = [];
  const cleanUp = async () => {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
    cleanups.length = 0;
  };
  process.once('SIGINT', () => {
    void cleanUp().finally(() => process.exit(130));
  });

  try {
    if (!options.server) {
      // The server bills against the local Stripe emulator, which it loads from the package's build.
      execFileSync('npm', ['run', 'build', '-w', 'packages/stripe-emulator'], {
        cwd: path.resolve(apiDir, '../..'),
        stdio: 'ignore',
      });
      execFileSync(process.execPath, ['build.mjs'], { cwd: apiDir, stdio: 'ignore' });
    }
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tierbase-bench-'));
    cleanups.push(() => fs.rmSync(workDir, { recursive: true, force: true }));

    let databaseUrl: string | undefined;
    let databaseLabel = 'PGlite (embedded)';
    const serverUrl = process.env.DATABASE_URL || `postgres://postgres@${HOST}:5432/postgres`;
    if (!options.pglite) {
      const database = await createBenchDatabase(serverUrl);
      cleanups.push(database.drop);
      databaseUrl = database.url;
      const shown = new URL(database.url);
      databaseLabel = `PostgreSQL ${shown.host}${shown.pathname}`;
    }

    if (options.cpuProfDir) {
      fs.rmSync(options.cpuProfDir, { recursive: true, force: true });
      fs.mkdirSync(options.cpuProfDir, { recursive: true });
    }
    const nodeFlags = options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`] : [];
    const server = await startProcess(
      cleanups,
      [...nodeFlags, options.server ?? path.join(apiDir, 'dist/server.js')],
      {
        NODE_ENV: 'production',
        SECRET_KEY: randomBytes(32).toString('hex'),
        TRUSTED_PROXIES: HOST,
        DATA_DIR: path.join(workDir, 'data'),
        LOG_LEVEL: options.logLevel,
        WEB_CONCURRENCY: String(options.workers),
        ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
        ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
        // Bench only: every request comes from one address and one user.
        RATE_LIMIT_GLOBAL_PER_MINUTE: '100000000',
        RATE_LIMIT_USER_PER_MINUTE: '100000000',
        RATE_LIMIT_LOGIN_PER_15_MINUTES: '100000000',
        RATE_LIMIT_LOGIN_PER_IP_PER_15_MINUTES: '100000000',
        RATE_LIMIT_WEBHOOK_PER_MINUTE: '100000000',
        // Billing against the in-process emulator; the bench signs its own webhook events.
        STRIPE_EMULATOR: 'true',
        STRIPE_EMULATOR_PORT: '0',
        STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      },
      workDir,
      'server',
    );
    const bare = options.compare
      ? await startProcess(
          cleanups,
          [path.join(apiDir, 'bench/bare-server.mjs')],
          { WEBHOOK_SECRET, WEB_CONCURRENCY: String(options.workers) },
          workDir,
          'bare',
        )
      : undefined;
    const session = await signUp(server.baseUrl);
    const seed = options.django ? await startSeedStack(cleanups, options, serverUrl, workDir) : undefined;

    const mode = options.rate ? `fixed rate ${options.rate} requests/s` : 'as fast as possible';
    process.stdout.write(
      `Tierbase bench: ${databaseLabel}${process.env.REDIS_URL ? ' + Redis' : ''}; Node ${process.version}; ` +
        `${os.cpus().length} CPUs; WEB_CONCURRENCY=${options.workers}; ${options.connections} connections, ` +
        `${options.durationSeconds} s per scenario (+${options.warmupSeconds} s warm-up), ${mode}; ` +
        `server LOG_LEVEL=${options.logLevel}${options.cpuProfDir ? '; under --cpu-prof' : ''}\n`,
    );
    if (seed) {
      process.stdout.write(
        `The seed's stack: Django ${seed.version} + DRF + Gunicorn, ${options.djangoWorkers} workers of one thread, ` +
          'same PostgreSQL server and Redis\n',
      );
    }
    // The client runs on the same machine: a busy machine shows up in every figure.
    const [load1] = os.loadavg();
    process.stdout.write(`Load average before the run: ${load1?.toFixed(2)} (1 min)\n`);
    process.stdout.write(`Idle server RSS: ${procStatusMiB(server.pid, 'VmRSS')?.toFixed(0) ?? 'n/a'} MiB\n`);

    /** Per scenario title, one entry per round: Tierbase's row and those of the servers raced. */
    const rounds = new Map<string, { row: Row; bare?: Row; seed?: Row }[]>();
    let perScenarioPeaks = true;
    for (let round = 1; round <= options.rounds; round++) {
      const ofRound = options.rounds > 1 ? ` (round ${round} of ${options.rounds})` : '';
      for (const name of options.scenarios) {
        const scenario = SCENARIOS.find((s) => s.name === name)!;
        process.stdout.write(`  running ${scenario.title}${ofRound} …\n`);
        const { row, perScenarioPeak } = await runScenario(
          server.baseUrl,
          scenario,
          session,
          options,
          server.pid,
        );
        perScenarioPeaks &&= perScenarioPeak;
        const entry: { row: Row; bare?: Row; seed?: Row } = { row };
        if (bare && BARE_SCENARIOS.has(name)) {
          process.stdout.write(`  running ${scenario.title} against the bare server …\n`);
          entry.bare = (await runScenario(bare.baseUrl, scenario, session, options, bare.pid)).row;
        }
        if (seed && BARE_SCENARIOS.has(name)) {
          process.stdout.write(`  running ${scenario.title} against the seed's stack …\n`);
          entry.seed = (await runScenario(seed.baseUrl, scenario, seed.session, options, seed.pid)).row;
        }
        rounds.set(row.scenario, [...(rounds.get(row.scenario) ?? []), entry]);
      }
    }
    // Each scenario's median round by Tierbase's requests/s, whole: its ratios compare figures
    // taken minutes apart at most, when the machine was the same for all of them.
    const median = [...rounds.values()].map((entries) => {
      const sorted = [...entries].sort((a, b) => a.row.rps - b.row.rps);
      return sorted[Math.floor((sorted.length - 1) / 2)]!;
    });
    const rows = median.map((entry) => entry.row);
    const bareRows = new Map(
      median.flatMap((entry) => (entry.bare ? [[entry.row.scenario, entry.bare]] : [])),
    );
    const seedRows = new Map(
      median.flatMap((entry) => (entry.seed ? [[entry.row.scenario, entry.seed]] : [])),
    );
    if (options.rounds > 1) {
      process.stdout.write(
        `\nThe median round of ${options.rounds} for each scenario (all rounds at the end):\n`,
      );
    }
    printTable(rows);
    process.stdout.write(
      perScenarioPeaks
        ? '\nPeak RSS: the server’s processes’ VmHWM during each scenario (reset before it), summed.\n'
        : '\nPeak RSS: the server’s processes’ VmHWM since they started (could not reset it per scenario).\n',
    );
    if (bare) {
      process.stdout.write(
        '\nAgainst a bare node:http server answering from memory (bench/bare-server.mjs), same run:\n',
      );
      printComparison(rows, bareRows, 'bare');
    }
    if (seed) {
      process.stdout.write(
        "\nAgainst the seed's stack (bench/seed-django), same run; issue 14's target is at least 5× its\n" +
          'requests/s at no more than 1/5 of its p99 (p99 × ≤ 0.20):\n',
      );
      printComparison(rows, seedRows, 'Django');
      process.stdout.write(`\nThe seed's stack, on its own:\n`);
      printTable([...seedRows.values()]);
    }
    if (options.rounds > 1) printRounds(rounds);
    const allRows = [...rounds.values()].flat();
    if (seed && allRows.some((entry) => entry.seed && (entry.seed.non2xx > 0 || entry.seed.errors > 0))) {
      const kept = path.join(os.tmpdir(), `tierbase-bench-django-${Date.now()}.log`);
      fs.copyFileSync(seed.logFile, kept);
      process.stdout.write(`Some requests to the seed's stack failed; its log is in ${kept}.\n`);
      process.exitCode = 1;
    }
    if (allRows.some(({ row }) => row.non2xx > 0 || row.errors > 0)) {
      const kept = path.join(os.tmpdir(), `tierbase-bench-server-${Date.now()}.log`);
      fs.copyFileSync(server.logFile, kept);
      process.stdout.write(`Some requests failed; the server's log is in ${kept}.\n`);
      process.exitCode = 1;
    }
  } finally {
    await cleanUp();
  }
  if (options.cpuProfDir) {
    const files = fs
      .readdirSync(options.cpuProfDir)
      .filter((file) => file.endsWith('.cpuprofile'))
      .map((file) => path.join(options.cpuProfDir!, file));
    process.stdout.write(`\n${files.length} CPU profile(s) in ${options.cpuProfDir}\n`);
    if (files.length > 0) process.stdout.write(`${formatSummary(summarize(files))}\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  if (error instanceof Error && error.cause) process.stderr.write(`  cause: ${String(error.cause)}\n`);
  process.exit(1);
});
