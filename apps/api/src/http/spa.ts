import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import { isPagePath } from '@tierbase/contracts';
import type { FastifyInstance } from 'fastify';

/** Where the built SPA lives: apps/web/dist, from the source tree or from apps/api/dist. */
export function findWebDist(): string | undefined {
  const candidates = ['../../../web/dist', '../../web/dist'].map((relative) =>
    fileURLToPath(new URL(relative, import.meta.url)),
  );
  return candidates.find((dir) => fs.existsSync(`${dir}/index.html`));
}

/**
 * Serves the built SPA from the API's own origin: hashed assets cached for a year, index.html
 * never cached, and every non-API GET falls back to index.html so client routes load directly:
 * with 200 for the SPA's pages (`PAGES`, the list its router is built from), with 404 for any
 * other path, so crawlers and monitors see a missing page as missing while the app still renders
 * its Not Found page.
 */
export async function spaPlugin(app: FastifyInstance, options: { root?: string } = {}): Promise<void> {
  const root = options.root ?? findWebDist();
  if (!root) return;
  await app.register(fastifyStatic, {
    root,
    wildcard: false,
    preCompressed: true,
    setHeaders(reply, filePath) {
      if (filePath.includes('/assets/')) reply.header('Cache-Control', 'public, max-age=31536000, immutable');
      else reply.header('Cache-Control', 'no-cache');
    },
  });
  app.get('/*', { schema: { hide: true } }, (request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    // A missing hashed asset (an old tab after a deploy) is a 404, not index.html served as script.
    if (
      path.startsWith('/api/') ||
      path.startsWith('/health') ||
      path.startsWith('/dev/') ||
      path.startsWith('/assets/')
    ) {
      return reply.callNotFound();
    }
    reply.header('Cache-Control', 'no-cache');
    return reply.code(isPagePath(path) ? 200 : 404).sendFile('index.html');
  });
}
