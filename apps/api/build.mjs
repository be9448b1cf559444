// Bundles the API for `npm start` and the Docker image: src/server.ts and src/cli.ts → dist/*.js.
// npm packages stay external (node_modules is present at runtime, and native or WASM packages such
// as PGlite must not be bundled); the workspace package @tierbase/contracts is TypeScript source,
// which Node cannot load from node_modules, so it is bundled in. The Stripe emulator is not: it is a
// development dependency, built to its own dist/ and imported at run time only in local billing
// mode (src/billing/local-stripe.ts), so the production server carries none of it.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.dirname(fileURLToPath(import.meta.url));
// `--outdir DIR`: a test builds into a folder of its own rather than replacing dist/ under others.
const outdirFlag = process.argv.indexOf('--outdir');
const outdir = outdirFlag > 0 ? process.argv[outdirFlag + 1] : 'dist';
if (!outdir) throw new Error('--outdir needs a folder');
const dist = path.resolve(root, outdir);

/** Our own workspace packages: bundled, although `packages: 'external'` would skip them. */
const WORKSPACE_PACKAGES = /^@tierbase\//;
/** Loaded from node_modules at run time, never bundled (see above). */
const EMULATOR = '@tierbase/stripe-emulator';

const bundleWorkspacePackages = {
  name: 'bundle-workspace-packages',
  setup(build) {
    build.onResolve({ filter: WORKSPACE_PACKAGES }, (args) => {
      if (args.path === EMULATOR) return { path: args.path, external: true };
      // Resolved as Node would (the workspace symlink and its package.json "exports"); esbuild's own
      // resolver cannot be asked, as it applies `packages: 'external'` to these paths too.
      const require = createRequire(args.importer);
      return { path: require.resolve(args.path) };
    });
  },
};

fs.rmSync(dist, { recursive: true, force: true });

const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: {
    server: 'src/server.ts',
    cli: 'src/cli.ts',
  },
  outdir: dist,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  plugins: [bundleWorkspacePackages],
  sourcemap: true,
  // No code splitting: modules that locate files from their own URL (db/migrate.ts, http/spa.ts)
  // must end up directly in dist/, not in a chunks/ subfolder.
  metafile: true,
  logLevel: 'warning',
});

// src/db/migrate.ts finds its SQL relative to its own module URL; bundled, that is dist/.
fs.cpSync(path.join(root, 'src/db/migrations'), path.join(dist, 'migrations'), { recursive: true });

const bundled = Object.keys(result.metafile.inputs).filter((input) => input.includes('packages/contracts'));
if (bundled.length === 0) {
  throw new Error('@tierbase/contracts was not bundled: check the workspace resolution in build.mjs');
}
const emulatorSources = Object.keys(result.metafile.inputs).filter((input) =>
  input.includes('packages/stripe-emulator'),
);
if (emulatorSources.length > 0) {
  throw new Error(`the Stripe emulator was bundled into the server: ${emulatorSources.join(', ')}`);
}
const outputs = Object.entries(result.metafile.outputs).filter(([file]) => file.endsWith('.js'));
for (const [file, output] of outputs) {
  process.stdout.write(
    `  ${path.relative(root, path.resolve(root, file))}  ${(output.bytes / 1024).toFixed(0)} KB\n`,
  );
}
process.stdout.write('  dist/migrations (copied)\n');
