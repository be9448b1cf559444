/**
 * The seed's stack for `npm run bench -- --django`: bench/seed-django is a reconstruction of the
 * seed's Django + DRF + Gunicorn backend as its TECHNICAL_ARCHITECTURE.md describes it, reduced to
 * the three endpoints the bench races (health, the signed-in profile, Stripe's webhook) with the
 * middleware stack, session store, throttles and webhook bookkeeping in front of them. It runs on
 * Debian's packages of Django, DRF and Gunicorn (the seed's own pins come from PyPI).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const PYTHON = '/usr/bin/python3';
export const SEED_STACK_DIR = path.resolve(import.meta.dirname, 'seed-django');
const MODULES = [
  'django',
  'rest_framework',
  'gunicorn',
  'stripe',
  'django_redis',
  'psycopg2',
  'whitenoise',
  'corsheaders',
];
const PACKAGES =
  'python3-django python3-djangorestframework gunicorn python3-psycopg2 python3-redis python3-stripe ' +
  'python3-django-redis python3-whitenoise python3-django-cors-headers';

/** Django's version, or an error that says which Debian packages to install. */
export function seedStackVersion(): string {
  try {
    return execFileSync(PYTHON, ['-c', `import ${MODULES.join(', ')}; print(django.get_version())`], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
  } catch {
    throw new Error(
      `--django needs Python's Django, DRF and Gunicorn from Debian: apt-get install -y ${PACKAGES}`,
    );
  }
}

/** Migrates the seed's database and signs its bench user in; returns the session cookie. */
export function prepareSeedStack(env: Record<string, string>): string {
  const run = (...args: string[]) =>
    execFileSync(PYTHON, ['manage.py', ...args], {
      cwd: SEED_STACK_DIR,
      env: { PATH: process.env.PATH ?? '', ...env },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  run('migrate', '--verbosity', '0');
  const sessionKey = run('bench_session').trim();
  return `sessionid=${sessionKey}`;
}

/**
 * Gunicorn with the given number of worker processes, each serving one request at a time, with one
 * access-log line per request, as Tierbase logs one. The workers are gthread with one thread rather
 * than the default sync ones: a sync worker closes the connection after every answer, which a
 * keep-alive client such as autocannon meets with resets and stalls of seconds (a bench of the
 * client, not of Django); one thread per worker keeps sync's one request at a time, and holds
 * connections open as the nginx in front of the seed does for its clients.
 */
export function seedStackCommand(port: number, workers: number, accessLog: string): [string, string[]] {
  return [
    PYTHON,
    [
      '-m',
      'gunicorn',
      'seedbench.wsgi:application',
      '--worker-class',
      'gthread',
      '--threads',
      '1',
      '--chdir',
      SEED_STACK_DIR,
      '--workers',
      String(workers),
      '--bind',
      `127.0.0.1:${port}`,
      '--access-logfile',
      accessLog,
    ],
  ];
}
