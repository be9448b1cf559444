import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUDGETED_PAGES, FIRST_LOAD_BUDGET_BYTES } from '../build/bundle-report.ts';

/**
 * The real production build, as `npm start` runs it, into a temporary folder: it must succeed and
 * produce React's production build even when the shell says NODE_ENV=development, and the
 * JavaScript a first visit downloads must stay within budget (checked here, not in the build, so
 * starting the product never fails on it).
 */
const webDir = path.resolve(import.meta.dirname, '..');
const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tierbase-web-build-'));

interface ManifestChunk {
  file: string;
  imports?: string[];
  isEntry?: boolean;
}

let build: { code: number; output: string };
let manifest: Record<string, ManifestChunk>;

beforeAll(async () => {
  const vite = path.join(webDir, 'node_modules/.bin/vite');
  const bin = fs.existsSync(vite) ? vite : path.join(webDir, '../../node_modules/.bin/vite');
  try {
    const { stdout, stderr } = await promisify(execFile)(
      bin,
      ['build', '--outDir', outDir, '--emptyOutDir', '--manifest'],
      { cwd: webDir, env: { ...process.env, NODE_ENV: 'development' }, timeout: 120_000 },
    );
    build = { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    build = { code: failed.code ?? 1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
  if (build.code === 0) {
    manifest = JSON.parse(fs.readFileSync(path.join(outDir, '.vite/manifest.json'), 'utf8'));
  }
}, 150_000);

afterAll(() => fs.rmSync(outDir, { recursive: true, force: true }));

describe('the production build', () => {
  it('succeeds with NODE_ENV=development and bundles React for production', () => {
    expect(build.code, build.output).toBe(0);
    const js = fs
      .readdirSync(path.join(outDir, 'assets'))
      .filter((file) => file.endsWith('.js'))
      .map((file) => fs.readFileSync(path.join(outDir, 'assets', file), 'utf8'))
      .join('\n');
    // React's development build compiles JSX to jsxDEV and has no minified error links.
    expect(js.includes('jsxDEV'), 'React development build (jsxDEV) in the bundle').toBe(false);
    expect(js.includes('react.dev/errors/'), "React's production error links in the bundle").toBe(true);
    expect(fs.existsSync(path.join(outDir, 'index.html'))).toBe(true);
  });

  it.each(Object.entries(BUDGETED_PAGES))(
    'first visit to %s stays within the JavaScript budget (gzip)',
    (page, label) => {
      expect(build.code, build.output).toBe(0);
      const entry = Object.keys(manifest).find((key) => manifest[key]?.isEntry);
      expect(entry, 'an entry chunk').toBeDefined();
      expect(manifest[page], `${page} is its own chunk`).toBeDefined();
      // The entry, the page's chunk and everything they import statically: what the browser fetches.
      const files = new Set<string>();
      const visit = (key: string) => {
        const chunk = manifest[key];
        if (!chunk || files.has(chunk.file)) return;
        files.add(chunk.file);
        for (const imported of chunk.imports ?? []) visit(imported);
      };
      visit(entry as string);
      visit(page);
      const gzipped = [...files]
        .filter((file) => file.endsWith('.js'))
        .reduce((sum, file) => sum + gzipSync(fs.readFileSync(path.join(outDir, file))).length, 0);
      expect(gzipped, `${label}: ${(gzipped / 1024).toFixed(1)} KB`).toBeGreaterThan(10 * 1024);
      expect(gzipped, `${label}: ${(gzipped / 1024).toFixed(1)} KB`).toBeLessThanOrEqual(
        FIRST_LOAD_BUDGET_BYTES,
      );
    },
  );
});
