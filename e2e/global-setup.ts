import { execSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeOpenAi } from './support/fake-openai.ts';
import { OIDC_IDENTITY, startOidcProvider } from './support/oidc-provider.ts';
import { startServer } from './support/server.ts';
import { CONTEXT_VARIABLE, type E2eContext } from './support/test.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Starts the built server once for every e2e file (PGlite in a temp folder, or a fresh PostgreSQL
 * database when DATABASE_URL is set) with its own Stripe emulator on a free port and a fake
 * OpenAI-compatible provider, so the Pro page's assistant answers. The function it returns is
 * Playwright's global teardown: it stops them all.
 */
export default async function globalSetup(): Promise<() => Promise<void>> {
  const built =
    fs.existsSync(path.join(root, 'apps/api/dist/server.js')) &&
    fs.existsSync(path.join(root, 'apps/web/dist/index.html')) &&
    // The built server loads the emulator (a package of its own) from its dist/.
    fs.existsSync(path.join(root, 'packages/stripe-emulator/dist/index.js'));
  if (!built) {
    console.log(
      '[e2e] apps/api/dist, apps/web/dist or packages/stripe-emulator/dist is missing: running `npm run build` first',
    );
    execSync('npm run build', { cwd: root, stdio: 'inherit' });
  }
  // Screenshots are this run's artifacts only.
  fs.rmSync(path.join(root, 'e2e/artifacts/screenshots'), { recursive: true, force: true });
  const ai = await startFakeOpenAi();
  const staff = { email: 'staff-e2e@example.com', password: 'Staff-Console-Battery-2031' };
  // "Continue with Google" leads to a local OpenID provider.
  const oidc = await startOidcProvider();
  const server = await startServer(
    root,
    {
      OPENAI_BASE_URL: ai.baseUrl,
      AI_MODEL: 'e2e-test-model',
      OAUTH_GOOGLE_CLIENT_ID: 'tierbase-e2e',
      OAUTH_GOOGLE_CLIENT_SECRET: 'e2e-google-secret',
      OAUTH_GOOGLE_ISSUER_URL: oidc.issuerUrl,
    },
    staff,
  );
  console.log(`[e2e] server on ${server.appUrl} (${server.database}); emulator on ${server.emulatorUrl}`);
  // Workers start after this and inherit the environment: support/test.ts's inject() reads it.
  const context: E2eContext = {
    appUrl: server.appUrl,
    emulatorUrl: server.emulatorUrl,
    staffEmail: staff.email,
    staffPassword: staff.password,
    oidcEmail: OIDC_IDENTITY.email,
  };
  process.env[CONTEXT_VARIABLE] = JSON.stringify(context);
  return async () => {
    await server.stop();
    await ai.stop();
    await oidc.stop();
  };
}
