import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, waitFor } from './helper.ts';
import { type ServerProcess, spawnNode } from './server-process.ts';

/**
 * The built server (apps/api/build.mjs), as `npm start` and the Docker image run it. It is built
 * here into a folder of this file's own (beside node_modules, so its external packages resolve),
 * with the Stripe emulator built from source into that folder's node_modules: nothing shared with
 * other tests or the developer's dist/ is replaced.
 */
const run = promisify(execFile);
const apiDir = fileURLToPath(new URL('..', import.meta.url));
const repoRoot = path.resolve(apiDir, '../..');
const buildDir = path.join(apiDir, 'node_modules', '.cache', `tierbase-ops-build-${process.pid}`);
const serverJs = path.join(buildDir, 'server.js');
const withoutEmulator = fileURLToPath(new URL('./fixtures/without-stripe-emulator.mjs', import.meta.url));
const dataDirs: string[] = [];
/** A start (migrations included) on a loaded 2-core machine has taken two minutes. */
const STARTUP_MS = 180_000;

beforeAll(async () => {
  await run(process.execPath, ['build.mjs', '--outdir', buildDir], { cwd: apiDir });
  // What `npm run build` puts in packages/stripe-emulator/dist, found first by the built server.
  const emulatorDir = path.join(buildDir, 'node_modules', '@tierbase', 'stripe-emulator');
  const emulatorSource = path.join(repoRoot, 'packages/stripe-emulator');
  fs.mkdirSync(emulatorDir, { recursive: true });
  fs.copyFileSync(path.join(emulatorSource, 'package.json'), path.join(emulatorDir, 'package.json'));
  await run(
    process.execPath,
    [
      path.join(repoRoot, 'node_modules/typescript/bin/tsc'),
      '-p',
      path.join(emulatorSource, 'tsconfig.build.json'),
      '--outDir',
      path.join(emulatorDir, 'dist'),
    ],
    { cwd: repoRoot },
  );
}, 180_000);

afterAll(() => {
  fs.rmSync(buildDir, { recursive: true, force: true });
  for (const dir of dataDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** The built server with only the given environment (never the developer's DATABASE_URL, keys…). */
function startBuiltServer(
  env: Record<string, string>,
  preload: string[] = [],
  entry = serverJs,
): ServerProcess {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tierbase-ops-build-'));
  dataDirs.push(dataDir);
  return spawnNode([...preload.flatMap((file) => ['--import', file]), entry], os.tmpdir(), {
    DATA_DIR: dataDir,
    ...env,
  });
}

async function stopServer(server: ServerProcess): Promise<void> {
  if (server.child.exitCode === null) server.child.kill('SIGKILL');
  await server.exited;
}

describe('the built server', () => {
  it('bundles none of the Stripe emulator: it imports the package at run time', () => {
    const bundle = fs.readFileSync(serverJs, 'utf8');
    const map = JSON.parse(fs.readFileSync(`${serverJs}.map`, 'utf8')) as { sources: string[] };
    expect(map.sources.filter((source) => source.includes('stripe-emulator'))).toEqual([]);
    // Strings only the emulator's code has (its billing engine, its invoices, its standalone entry).
    for (const emulatorOnly of [
      'billing engine: runaway schedule',
      'Tierbase (Stripe emulator)',
      'Stripe emulator listening on',
      'api_version_unsupported',
    ]) {
      expect(bundle, emulatorOnly).not.toContain(emulatorOnly);
    }
    expect(bundle).toContain('import("@tierbase/stripe-emulator")');
    // Still bundled: the shared contracts, which are TypeScript source.
    expect(map.sources.some((source) => source.includes('packages/contracts'))).toBe(true);
  });

  it(
    'runs billing against the emulator package without keys, as `npm start` does',
    async () => {
      const port = await freePort();
      const server = startBuiltServer({ PORT: String(port), STRIPE_EMULATOR_PORT: '0' });
      try {
        const emulatorUrl = await waitFor(
          () => /local Stripe emulator at (http:\/\/[^\s)"]+)/.exec(server.output())?.[1],
          STARTUP_MS,
          100,
        );
        const url = new URL(emulatorUrl);
        const stripe = new Stripe('sk_test_ops_build', {
          host: url.hostname,
          port: Number(url.port),
          protocol: 'http',
        });
        // The server syncs its plans into the emulator just after listening.
        const products = await waitFor(
          async () => {
            const list = await stripe.products.list({ limit: 100 });
            return list.data.length > 0 ? list.data : undefined;
          },
          30_000,
          250,
        );
        expect(products.length).toBeGreaterThan(0);
        expect((await fetch(`http://127.0.0.1:${port}/health/ready`)).status).toBe(200);
      } finally {
        await stopServer(server);
      }
    },
    STARTUP_MS + 60_000,
  );

  it(
    'starts with real Stripe keys where the emulator is not installed, and never asks for it',
    async () => {
      const port = await freePort();
      const server = startBuiltServer(
        {
          PORT: String(port),
          NODE_ENV: 'production',
          SECRET_KEY: 'a-production-secret-that-is-long-enough-0123456789',
          APP_URL: 'https://app.example.com',
          TRUSTED_PROXIES: '127.0.0.1',
          STRIPE_SECRET_KEY: 'sk_test_ops_build_production',
          STRIPE_WEBHOOK_SECRET: 'whsec_ops_build_production',
          // Nothing listens there: the start must not need Stripe at all.
          STRIPE_API_BASE: `http://127.0.0.1:${await freePort()}`,
        },
        [withoutEmulator],
      );
      try {
        await waitFor(
          async () => {
            if (server.child.exitCode !== null) throw new Error(`exited:\n${server.output()}`);
            const response = await fetch(`http://127.0.0.1:${port}/health/ready`, {
              headers: { 'x-forwarded-proto': 'https' },
            }).catch(() => undefined);
            return response?.status === 200 ? true : undefined;
          },
          STARTUP_MS,
          100,
        );
        expect(server.output()).not.toContain('asked for @tierbase/stripe-emulator');
        expect(server.output()).not.toContain('local Stripe emulator');
      } finally {
        await stopServer(server);
      }
    },
    STARTUP_MS + 60_000,
  );

  it(
    'refuses local billing with a clear message when the emulator is not installed',
    async () => {
      const server = startBuiltServer({ PORT: String(await freePort()), STRIPE_EMULATOR_PORT: '0' }, [
        withoutEmulator,
      ]);
      try {
        expect(await server.exited).toBe(1);
        const output = server.output();
        expect(output).toContain('asked for @tierbase/stripe-emulator');
        expect(output).toContain('Tierbase cannot start.');
        expect(output).toContain('@tierbase/stripe-emulator cannot be loaded (not installed)');
        expect(output).toContain('Set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET');
        // Stopped before the database: nothing was migrated into the data folder.
        expect(output).not.toContain('listening');
      } finally {
        await stopServer(server);
      }
    },
    STARTUP_MS,
  );

  it(
    'says the emulator is not built when its package has no dist/ yet',
    async () => {
      // The server beside an emulator package that was installed (linked) but never built.
      const unbuilt = path.join(buildDir, 'unbuilt');
      fs.mkdirSync(path.join(unbuilt, 'node_modules/@tierbase/stripe-emulator'), { recursive: true });
      fs.copyFileSync(
        path.join(repoRoot, 'packages/stripe-emulator/package.json'),
        path.join(unbuilt, 'node_modules/@tierbase/stripe-emulator/package.json'),
      );
      fs.copyFileSync(serverJs, path.join(unbuilt, 'server.js'));
      fs.cpSync(path.join(buildDir, 'migrations'), path.join(unbuilt, 'migrations'), { recursive: true });
      const server = startBuiltServer(
        { PORT: String(await freePort()), STRIPE_EMULATOR_PORT: '0' },
        [],
        path.join(unbuilt, 'server.js'),
      );
      try {
        expect(await server.exited).toBe(1);
        expect(server.output()).toContain('@tierbase/stripe-emulator cannot be loaded (not built)');
      } finally {
        await stopServer(server);
      }
    },
    STARTUP_MS,
  );
});
