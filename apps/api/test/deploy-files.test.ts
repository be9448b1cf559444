/**
 * The deployment files (deploy/) against the code they deploy. There is no Docker engine or Render
 * account in the test environment: these tests read the files as Docker and Render would, and run
 * what they configure through the real code (loadConfig, the app's proxy trust).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../src/config.ts';
import {
  apiStage,
  blockList,
  builtEntryPoints,
  dockerfile,
  dockerfileEnv,
  documented,
  emulatorStage,
  operatorValue,
  read,
  readByConfig,
  trustProblems,
} from './deploy.helpers.ts';
import { createTestApp } from './helper.ts';

interface ComposeService {
  build?: { context?: string; dockerfile?: string; target?: string };
  command?: string[];
  environment?: Record<string, string | number | boolean>;
  healthcheck?: { test?: string[] };
  depends_on?: Record<string, { condition?: string }> | string[];
  networks?: string[] | Record<string, { ipv4_address?: string } | null>;
}
interface Compose {
  services: Record<string, ComposeService>;
  networks?: Record<string, { ipam?: { config?: { subnet?: string }[] } } | null>;
}
interface RenderEnvVar {
  key: string;
  value?: string | number;
  generateValue?: boolean;
  sync?: boolean;
  fromDatabase?: unknown;
  fromService?: { type: string };
}
interface RenderService {
  type: string;
  name: string;
  buildCommand?: string;
  startCommand?: string;
  preDeployCommand?: string;
  healthCheckPath?: string;
  envVars?: RenderEnvVar[];
}

const compose = parse(read('deploy/docker-compose.yml')) as Compose;
const render = parse(read('deploy/render.yaml')) as { services: RenderService[] };

/** Compose's interpolation: ${VAR:-default} and ${VAR-default} use the default; others the operator's. */
function interpolate(value: string): string {
  return value.replace(
    /\$\{(\w+)(?:(:?[-?+])([^}]*))?\}/g,
    (_match, name: string, op?: string, arg?: string) =>
      op?.endsWith('-') ? (arg ?? '') : operatorValue(name),
  );
}

const builtFromImage = (service: ComposeService) => service.build?.dockerfile === 'deploy/Dockerfile';
/** Services that run the API image's CMD (the API server) rather than another entry point. */
const composeApiServices = Object.entries(compose.services).filter(
  ([, service]) => builtFromImage(service) && !service.build?.target && !service.command,
);
const composeEmulatorServices = Object.entries(compose.services).filter(
  ([, service]) => builtFromImage(service) && service.build?.target === 'stripe-emulator',
);
const renderApiServices = render.services.filter((service) => service.startCommand?.includes('server.js'));

function composeEnv(service: ComposeService): Record<string, string> {
  return Object.fromEntries(
    Object.entries(service.environment ?? {}).map(([name, value]) => [name, interpolate(String(value))]),
  );
}

function renderEnv(service: RenderService): Record<string, string> {
  return Object.fromEntries(
    (service.envVars ?? []).map((envVar) => [
      envVar.key,
      envVar.value === undefined ? operatorValue(envVar.key) : String(envVar.value),
    ]),
  );
}

/** Every API environment the files define: what the server process sees. */
const apiEnvironments: [string, Record<string, string>][] = [
  ...composeApiServices.map(([name, service]): [string, Record<string, string>] => [
    `docker-compose.yml ${name}`,
    { ...dockerfileEnv(), ...composeEnv(service) },
  ]),
  // Render's Node runtime runs the start command directly (no image) and sets PORT itself.
  ...renderApiServices.map((service): [string, Record<string, string>] => [
    `render.yaml ${service.name}`,
    { PORT: '10000', ...renderEnv(service) },
  ]),
];

describe('deploy files: the API environment', () => {
  it('defines at least the compose and Render API services', () => {
    expect(composeApiServices.map(([name]) => name)).toEqual(['api']);
    expect(renderApiServices.map((service) => service.name)).toEqual(['tierbase']);
    expect(composeEmulatorServices.map(([name]) => name)).toEqual(['stripe']);
  });

  it.each(apiEnvironments)('%s: loads with the real loadConfig, in production', (_name, env) => {
    const config = loadConfig(env);
    expect(config.isProduction).toBe(true);
    expect(config.trustedProxies.length).toBeGreaterThan(0);
  });

  it("nginx's body limit is the API's", () => {
    const [, megabytes] = read('deploy/nginx.conf').match(/client_max_body_size (\d+)m;/) ?? [];
    for (const [, env] of apiEnvironments) {
      expect(Number(megabytes) * 1024 * 1024).toBe(loadConfig(env).bodyLimitBytes);
    }
  });

  it('sets only variables the API reads and .env.example documents', () => {
    expect(readByConfig.size).toBeGreaterThan(20);
    for (const [where, env] of apiEnvironments) {
      for (const name of Object.keys(env)) {
        expect(readByConfig.has(name), `${where}: ${name} is not read by config.ts`).toBe(true);
        expect(documented.has(name), `${where}: ${name} is not in .env.example`).toBe(true);
      }
    }
  });

  it('sets only variables the Stripe emulator reads on its service', () => {
    const cli = read('packages/stripe-emulator/src/cli.ts');
    const readByEmulator = new Set([...cli.matchAll(/env\.([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]));
    for (const [name, service] of composeEmulatorServices) {
      for (const variable of Object.keys(service.environment ?? {})) {
        expect(readByEmulator.has(variable), `${name}: ${variable}`).toBe(true);
      }
    }
  });
});

describe('deploy files: TRUSTED_PROXIES', () => {
  it.each(apiEnvironments)('%s: is not a catch-all', (_name, env) => {
    expect(trustProblems(loadConfig(env).trustedProxies)).toEqual([]);
  });

  /** nginx's fixed address, when nginx is attached to exactly one network (so it always uses it). */
  function composeNginxAddress(): { network: string; address: string } | undefined {
    const networks = compose.services.nginx?.networks;
    if (!networks || Array.isArray(networks)) return undefined;
    const [only, ...others] = Object.entries(networks);
    const address = only?.[1]?.ipv4_address;
    return only && address && others.length === 0 ? { network: only[0], address } : undefined;
  }

  it("docker-compose.yml: trusts exactly nginx's fixed address on the network it shares with the API", () => {
    const nginx = composeNginxAddress();
    expect(nginx).toBeDefined();
    const { network = '', address = '' } = nginx ?? {};
    const api = compose.services.api;
    const apiNetworks = Array.isArray(api?.networks) ? api.networks : Object.keys(api?.networks ?? {});
    expect(apiNetworks).toContain(network);
    const subnet = compose.networks?.[network]?.ipam?.config?.[0]?.subnet ?? '';
    expect(blockList([subnet]).check(address)).toBe(true);
    expect(composeEnv(api ?? {}).TRUSTED_PROXIES).toBe(address);
  });

  // The proxy's address per file: nginx's in compose; one in Render's private network.
  const proxyAddressOf = (where: string) =>
    where.startsWith('docker-compose') ? (composeNginxAddress()?.address ?? '') : '10.20.30.40';

  it.each(apiEnvironments)(
    '%s: the real app takes the client address from the proxy, and from nobody else',
    async (where, env) => {
      const { app, close } = await createTestApp({
        env: { TRUSTED_PROXIES: env.TRUSTED_PROXIES ?? '', RATE_LIMIT_GLOBAL_PER_MINUTE: '1' },
        workers: false,
      });
      try {
        const proxy = proxyAddressOf(where);
        const get = (remoteAddress: string, forwardedFor: string) =>
          app.inject({ url: '/api/csrf/', remoteAddress, headers: { 'x-forwarded-for': forwardedFor } });
        // Two clients behind the proxy: one request each, within the limit of one a minute.
        expect((await get(proxy, '203.0.113.7')).statusCode).toBe(200);
        expect((await get(proxy, '203.0.113.8')).statusCode).toBe(200);
        // A caller that is not the proxy claims to be the first client: it is counted as itself.
        expect((await get('198.51.100.23', '203.0.113.7')).statusCode).toBe(200);
        expect((await get('198.51.100.23', '203.0.113.9')).statusCode).toBe(429);
      } finally {
        await close();
      }
    },
  );
});

describe('deploy files: health checks', () => {
  it('the image probes liveness: a database outage must not get containers restarted', () => {
    const healthcheck = apiStage.slice(apiStage.indexOf('HEALTHCHECK'));
    expect(healthcheck).toMatch(/^HEALTHCHECK [^\n]*\\\n\s+CMD [^\n]*\/health\/live'/);
  });

  it('compose gates nginx on readiness and probes the emulator on its own port', () => {
    const api = compose.services.api;
    expect(api?.healthcheck?.test?.join(' ')).toContain("'http://127.0.0.1:8000/health/ready'");
    expect(compose.services.nginx?.depends_on).toEqual({ api: { condition: 'service_healthy' } });
    for (const [, service] of composeEmulatorServices) {
      expect(service.healthcheck?.test?.join(' ')).toContain("'http://127.0.0.1:12111/'");
    }
  });

  it('Render routes on readiness', () => {
    for (const service of renderApiServices) expect(service.healthCheckPath).toBe('/health/ready');
  });
});

describe('deploy files: the build', () => {
  const rootPackage = JSON.parse(read('package.json')) as {
    workspaces: string[];
    devDependencies: Record<string, string>;
  };

  it('the image installs every workspace, runs npm run build and ships its output', () => {
    const install = dockerfile.slice(0, dockerfile.indexOf('RUN npm ci'));
    for (const workspace of rootPackage.workspaces) {
      expect(install, workspace).toContain(`COPY ${workspace}/package.json ${workspace}/`);
      const scripts = (JSON.parse(read(`${workspace}/package.json`)) as { scripts?: Record<string, string> })
        .scripts;
      // Each workspace that builds, builds into dist/, which the stage that runs it copies: the
      // emulator's only into its own image, the others into the API's.
      if (scripts?.build) {
        const stage = workspace === 'packages/stripe-emulator' ? emulatorStage : apiStage;
        expect(stage, workspace).toContain(`COPY --from=build /app/${workspace}/dist ./${workspace}/dist`);
      }
    }
    expect(dockerfile).toContain('RUN npm run build');
  });

  it('the API image has none of the Stripe emulator; the emulator image starts its bin', () => {
    expect(apiStage).not.toContain('stripe-emulator');
    const emulatorPackage = JSON.parse(read('packages/stripe-emulator/package.json')) as {
      bin: Record<string, string>;
    };
    const binFile = path.posix.join('packages/stripe-emulator', emulatorPackage.bin['stripe-emulator'] ?? '');
    expect(emulatorStage).toContain(`CMD ["node", "${binFile}"]`);
    const apiPackage = JSON.parse(read('apps/api/package.json')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    expect(apiPackage.dependencies['@tierbase/stripe-emulator']).toBeUndefined();
    expect(apiPackage.devDependencies['@tierbase/stripe-emulator']).toBeDefined();
  });

  it('every entry point the files start is one the API build produces', () => {
    const started = [
      ...dockerfile.matchAll(/apps\/api\/dist\/([\w-]+)\.js/g),
      ...read('deploy/docker-compose.yml').matchAll(/apps\/api\/dist\/([\w-]+)\.js/g),
      ...read('deploy/render.yaml').matchAll(/apps\/api\/dist\/([\w-]+)\.js/g),
    ].map((m) => m[1] ?? '');
    expect(new Set(started)).toEqual(new Set(['server', 'cli']));
    const built = builtEntryPoints();
    for (const entry of started) expect(built.has(entry), entry).toBe(true);
  });

  it('Render installs the build tools although NODE_ENV=production makes npm skip devDependencies', () => {
    expect(rootPackage.devDependencies.esbuild).toBeDefined();
    for (const service of renderApiServices) {
      expect(renderEnv(service).NODE_ENV).toBe('production');
      expect(service.buildCommand).toMatch(/^npm ci --include=dev && npm run build$/);
    }
  });

  it("the Docker build context leaves out the host's node_modules, build output, local data and .env", () => {
    const ignored = read('deploy/Dockerfile.dockerignore')
      .split('\n')
      .filter((line) => line && !line.startsWith('#'));
    for (const pattern of ['**/node_modules', '**/dist', '.data', '.env', '.git']) {
      expect(ignored).toContain(pattern);
    }
  });
});
