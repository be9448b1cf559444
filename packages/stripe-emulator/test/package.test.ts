import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type StripeType from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The package as its users get it: `npm pack`, the tarball installed into an empty project (its
 * dependencies and the `stripe` peer from the npm registry or npm's cache), the `stripe-emulator`
 * bin started, and a customer created through that project's `stripe` SDK. The build goes to a
 * staging copy, so the package's own dist/ (which other runs may be reading) is left alone.
 */
const run = promisify(execFile);
const packageDir = path.resolve(import.meta.dirname, '..');
const repoRoot = path.resolve(packageDir, '../..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'stripe-emulator-pack-'));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

interface PackResult {
  filename: string;
  files: { path: string }[];
}

async function pack(dir: string, args: string[]): Promise<PackResult> {
  const { stdout } = await run(npm, ['pack', '--json', '--ignore-scripts', ...args], {
    cwd: dir,
    maxBuffer: 16 * 1024 * 1024,
  });
  const [result] = JSON.parse(stdout) as PackResult[];
  if (!result) throw new Error(`npm pack printed no result: ${stdout}`);
  return result;
}

let bin: ChildProcess | undefined;
afterAll(async () => {
  if (bin && bin.exitCode === null) {
    const exited = new Promise((resolve) => bin?.once('exit', resolve));
    bin.kill('SIGTERM');
    await exited;
  }
  fs.rmSync(work, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('ships the built code, its types, the README and the licence, and nothing else', async () => {
    // What `files` selects from the package folder as it is (src/, test/ and configs beside dist/).
    const { files } = await pack(packageDir, ['--dry-run']);
    const paths = files.map((file) => file.path);
    expect(paths).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE']));
    const unexpected = paths.filter(
      (file) =>
        !['package.json', 'README.md', 'LICENSE'].includes(file) && !/^dist\/.+\.(js|d\.ts)$/.test(file),
    );
    expect(unexpected).toEqual([]);
  });
});

describe('the packed package, installed into an empty project', () => {
  const project = path.join(work, 'project');
  let tarball = '';

  beforeAll(async () => {
    const staging = path.join(work, 'staging');
    fs.mkdirSync(staging);
    for (const file of ['package.json', 'README.md', 'LICENSE']) {
      fs.copyFileSync(path.join(packageDir, file), path.join(staging, file));
    }
    await run(
      process.execPath,
      [
        path.join(repoRoot, 'node_modules/typescript/bin/tsc'),
        '-p',
        path.join(packageDir, 'tsconfig.build.json'),
        '--outDir',
        path.join(staging, 'dist'),
      ],
      { cwd: packageDir },
    );
    const packed = await pack(staging, ['--pack-destination', work]);
    expect(packed.files.map((file) => file.path)).toEqual(
      expect.arrayContaining(['dist/index.js', 'dist/index.d.ts', 'dist/cli.js']),
    );
    tarball = path.join(work, packed.filename);
    fs.mkdirSync(project);
    fs.writeFileSync(
      path.join(project, 'package.json'),
      JSON.stringify({ name: 'emulator-consumer', private: true, type: 'module' }),
    );
    await run(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], {
      cwd: project,
      maxBuffer: 16 * 1024 * 1024,
    });
  }, 300_000);

  it('installs the stripe peer dependency beside it', () => {
    const installed = JSON.parse(
      fs.readFileSync(path.join(project, 'node_modules/stripe/package.json'), 'utf8'),
    ) as { version: string };
    const wanted = (
      JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as {
        peerDependencies: Record<string, string>;
      }
    ).peerDependencies.stripe;
    expect(wanted).toMatch(/^\^\d+\./);
    expect(installed.version.split('.')[0]).toBe(wanted?.slice(1).split('.')[0]);
  });

  it('starts with its bin, and the stripe SDK creates and reads a customer there', async () => {
    const binPath = path.join(project, 'node_modules/.bin/stripe-emulator');
    const stateFile = path.join(work, 'state.json');
    let output = '';
    bin = spawn(binPath, ['--port', '0', '--state', stateFile], {
      cwd: project,
      env: { PATH: process.env.PATH ?? '', HOME: work },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    bin.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    bin.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const url = await new Promise<URL>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL printed:\n${output}`)), 30_000);
      const check = () => {
        const match = /listening on (http:\/\/\S+)/.exec(output);
        if (match?.[1] && output.includes('Webhook signing secret: whsec_')) {
          clearTimeout(timer);
          resolve(new URL(match[1]));
        } else setTimeout(check, 50);
      };
      check();
      bin?.once('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)));
    });

    // The consumer's own `stripe` (the peer dependency), not this repository's.
    const sdk = (await import(
      pathToFileURL(path.join(project, 'node_modules/stripe/esm/stripe.esm.node.js')).href
    )) as {
      default: typeof StripeType;
    };
    const stripe = new sdk.default('sk_test_packed', {
      host: url.hostname,
      port: Number(url.port),
      protocol: 'http',
    });
    const customer = await stripe.customers.create({ email: 'packed@example.com', name: 'Packed' });
    expect(customer.id).toMatch(/^cus_/);
    const read = await stripe.customers.retrieve(customer.id);
    expect(read).toMatchObject({ id: customer.id, email: 'packed@example.com', name: 'Packed' });
  }, 60_000);

  it('exports startEmulator with its types to TypeScript and Node', async () => {
    fs.writeFileSync(
      path.join(project, 'consumer.ts'),
      [
        "import { API_VERSION, type RunningEmulator, startEmulator } from '@tierbase/stripe-emulator';",
        'const emulator: RunningEmulator = await startEmulator({ port: 0 });',
        "const version: '2026-10-28.endive' = API_VERSION;",
        'console.log(JSON.stringify({ version, protocol: emulator.protocol, url: emulator.url }));',
        'await emulator.stop();',
        '',
      ].join('\n'),
    );
    fs.writeFileSync(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2023',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          outDir: 'out',
          // The package's own declarations are checked too (Node's types from this repository).
          skipLibCheck: false,
          typeRoots: [path.join(repoRoot, 'node_modules/@types')],
          types: ['node'],
        },
        files: ['consumer.ts'],
      }),
    );
    await run(process.execPath, [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', project], {
      cwd: project,
    });
    const { stdout } = await run(process.execPath, [path.join(project, 'out/consumer.js')], { cwd: project });
    expect(JSON.parse(stdout)).toMatchObject({ version: '2026-10-28.endive', protocol: 'http' });
  }, 60_000);
});
