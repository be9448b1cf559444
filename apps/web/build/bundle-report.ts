import fs from 'node:fs';
import path from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';

/** The JavaScript budget of a first visit (landing, login), gzip; enforced by test/build.test.ts. */
export const FIRST_LOAD_BUDGET_BYTES = 150 * 1024;

/** Pages whose first load is budgeted: route module → label. */
export const BUDGETED_PAGES: Record<string, string> = {
  'src/pages/HomePage.tsx': 'landing (/)',
  'src/pages/LoginPage.tsx': 'login (/login)',
};

interface ChunkInfo {
  fileName: string;
  code: string;
  imports: string[];
  facadeModuleId: string | null;
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

/**
 * Prints the JavaScript a first visit to each budgeted page downloads (the entry, the page's own
 * chunk and everything they import statically), gzip. It never fails the build: `npm start` must
 * always get its SPA, and the budget is a test's job (test/build.test.ts, in CI). Then writes
 * .gz and .br beside every text asset so the API server can send them precompressed.
 */
export function bundleReport(): Plugin {
  let outDir = 'dist';
  return {
    name: 'tierbase-bundle-report',
    apply: 'build',
    configResolved(config) {
      outDir = path.resolve(config.root, config.build.outDir);
    },
    generateBundle(_options, bundle) {
      const chunks = new Map<string, ChunkInfo>();
      for (const item of Object.values(bundle)) {
        if (item.type === 'chunk') chunks.set(item.fileName, item);
      }
      const closure = (fileName: string, seen = new Set<string>()): Set<string> => {
        if (seen.has(fileName)) return seen;
        seen.add(fileName);
        for (const imported of chunks.get(fileName)?.imports ?? []) closure(imported, seen);
        return seen;
      };
      const entry = [...chunks.values()].find(
        (chunk) => (bundle[chunk.fileName] as { isEntry?: boolean }).isEntry,
      );
      if (!entry) return;
      const gzipSize = (fileName: string) => gzipSync(chunks.get(fileName)?.code ?? '').length;
      const lines = ['', 'First-load JavaScript per page (gzip):'];
      for (const [moduleSuffix, label] of Object.entries(BUDGETED_PAGES)) {
        const page = [...chunks.values()].find((chunk) => chunk.facadeModuleId?.endsWith(moduleSuffix));
        if (!page) this.error(`bundle report: no chunk for ${moduleSuffix}; is the page still lazy-loaded?`);
        const files = closure(page.fileName, closure(entry.fileName));
        const total = [...files].reduce((sum, file) => sum + gzipSize(file), 0);
        lines.push(
          `  ${label.padEnd(16)} ${kb(total).padStart(9)}  (${files.size} files, budget ${kb(FIRST_LOAD_BUDGET_BYTES)})`,
        );
        if (total > FIRST_LOAD_BUDGET_BYTES) lines.push(`    over budget: test/build.test.ts fails`);
      }
      console.log(lines.join('\n'));
    },
    closeBundle() {
      for (const file of walk(outDir)) {
        if (!/\.(js|css|html|svg|json|txt)$/.test(file)) continue;
        const content = fs.readFileSync(file);
        if (content.length < 1024) continue;
        fs.writeFileSync(`${file}.gz`, gzipSync(content, { level: 9 }));
        fs.writeFileSync(
          `${file}.br`,
          brotliCompressSync(content, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
        );
      }
    },
  };
}

function* walk(dir: string): Generator<string> {
  if (!fs.existsSync(dir)) return;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else yield full;
  }
}
