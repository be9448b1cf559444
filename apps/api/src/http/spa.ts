import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
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
 * never cached, and every non-API GET falls back to index.html so client routes load directly.
 */
export async function spaPlugin(app: FastifyInstance): Promise<void> {
  const root = findWebDist();
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
    return reply.sendFile('index.html');
  });
}
