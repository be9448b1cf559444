/**
 * What the tests of the deployment files (deploy-files, deploy-k8s) share: the files as read from
 * the repository, the values an operator sets, and the variables config.ts and .env.example know.
 */
import fs from 'node:fs';
import net from 'node:net';

/** A file of the repository, by its path from the root. */
export const read = (file: string) => fs.readFileSync(new URL(`../../../${file}`, import.meta.url), 'utf8');

export const exists = (file: string) => fs.existsSync(new URL(`../../../${file}`, import.meta.url));

/**
 * Values the files leave to the operator (compose `${VAR}` without a default, Render's `sync: false`
 * and generated or linked values, the Kubernetes Secret's placeholders), as an operator would set
 * them in production.
 */
const OPERATOR_VALUES: Record<string, string> = {
  SECRET_KEY: 'k'.repeat(44),
  APP_URL: 'https://app.example.com',
  STRIPE_SECRET_KEY: 'sk_live_placeholder',
  STRIPE_WEBHOOK_SECRET: 'whsec_placeholder',
  SMTP_URL: 'smtps://user:password@smtp.example.com:465',
  DATABASE_URL: 'postgresql://tierbase:password@dpg-example:5432/tierbase',
  REDIS_URL: 'redis://red-example:6379',
};

export function operatorValue(name: string): string {
  const value = OPERATOR_VALUES[name];
  if (value === undefined) throw new Error(`the test has no production value for ${name}: add one`);
  return value;
}

export const dockerfile = read('deploy/Dockerfile');
/** The final stage: the API image, the default target. */
export const apiStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
/** The Stripe emulator's image (target stripe-emulator), for demos. */
export const emulatorStage = (() => {
  const start = dockerfile.indexOf(' AS stripe-emulator\n');
  return start < 0 ? '' : dockerfile.slice(start, dockerfile.indexOf('\nFROM ', start));
})();

/** The image's own ENV (the final stage), which a container's environment overrides. */
export function dockerfileEnv(): Record<string, string> {
  const finalStage = apiStage;
  const env: Record<string, string> = {};
  for (const line of finalStage.split('\n').filter((l) => l.startsWith('ENV '))) {
    for (const pair of line.slice(4).trim().split(/\s+/)) {
      const [name = '', value = ''] = pair.split('=');
      env[name] = value;
    }
  }
  return env;
}

/** Names of the variables documented in .env.example (`# NAME=…` or `NAME=…`). */
export const documented = new Set(
  [...read('.env.example').matchAll(/^#? ?([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]),
);

/** Names of the variables config.ts's schema reads. */
export const readByConfig = new Set(
  [...read('apps/api/src/config.ts').matchAll(/^ {2}([A-Z][A-Z0-9_]*): /gm)].map((m) => m[1]),
);

/** The entry points apps/api/build.mjs bundles into apps/api/dist/<name>.js. */
export function builtEntryPoints(): Set<string> {
  const buildScript = read('apps/api/build.mjs');
  const start = buildScript.indexOf('entryPoints: {');
  const entries = buildScript.slice(start, buildScript.indexOf('},', start));
  return new Set([...entries.matchAll(/^\s+'?([\w-]+)'?: '/gm)].map((m) => m[1] ?? ''));
}

/** A BlockList of TRUSTED_PROXIES-style entries: addresses and CIDR ranges. */
export function blockList(entries: string[]): net.BlockList {
  const list = new net.BlockList();
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/');
    const family = net.isIPv6(address) ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(prefix), family);
  }
  return list;
}

/** Addresses no proxy of ours ever has: trusting any of them lets clients forge their address. */
const PUBLIC = ['8.8.8.8', '203.0.113.7', '198.51.100.23', '2001:db8::1'];

/** What makes a TRUSTED_PROXIES list trust too much (a range wider than /8, a public address). */
export function trustProblems(entries: string[]): string[] {
  const problems: string[] = [];
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/');
    if (net.isIP(address) === 0) problems.push(`${entry}: not an address`);
    if (prefix !== undefined && Number(prefix) < 8) problems.push(`${entry}: wider than /8`);
  }
  const list = blockList(entries);
  for (const address of PUBLIC) {
    if (list.check(address, net.isIPv6(address) ? 'ipv6' : 'ipv4')) problems.push(`trusts ${address}`);
  }
  return problems;
}
