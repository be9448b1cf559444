import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import { isPagePath } from '@tierbase/contracts';
import type { FastifyInstance } from 'fastify';
import { routePolicy } from './route-policy.ts';

/** Where the built SPA lives: apps/web/dist, from the source tree or from apps/api/dist. */
export function findWebDist(): string | undefined {
  const candidates = ['../../../web/dist', '../../web/dist'].map((relative) =>
    fileURLToPath(new URL(relative, import.meta.url)),
  );
  return candidates.find((dir) => fs.existsSync(`${dir}/index.html`));
}

/**
 * The first path segments the server's own routes use (`api`, `health`, `metrics`, `dev`, and
 * `assets` from the SPA's built files), collected as routes are added: call it before any is.
 * Under one of them a path no route has is that namespace's 404 in the envelope, never the SPA's
 * page, and a new namespace needs no list kept in step with it.
 */
export function trackRouteNamespaces(app: FastifyInstance): ReadonlySet<string> {
  const namespaces = new Set<string>();
  app.addHook('onRoute', (route) => {
    const first = firstSegment(route.url);
    // The SPA's own catch-all, and `/` (its index), claim nothing.
    if (first && !first.startsWith('*')) namespaces.add(first);
  });
  return namespaces;
}

function firstSegment(path: string): string {
  return path.split('/')[1] ?? '';
}

export interface SpaOptions {
  /** The built SPA; default apps/web/dist. Without one nothing is served. */
  root?: string;
  /** From `trackRouteNamespaces`: the segments that belong to the server, not to the SPA. */
  namespaces?: ReadonlySet<string>;
}

/**
 * Serves the built SPA from the API's own origin: hashed assets cached for a year, index.html
 * never cached, and every other GET falls back to index.html so client routes load directly:
 * with 200 for the SPA's pages (`PAGES`, the list its router is built from), with 404 for any
 * other path, so crawlers and monitors see a missing page as missing while the app still renders
 * its Not Found page. A path under a server namespace (an unknown `/api/…`, a missing hashed asset
 * from an old tab after a deploy) is the JSON 404, not index.html served as data or script.
 */
export async function spaPlugin(app: FastifyInstance, options: SpaOptions = {}): Promise<void> {
  const root = options.root ?? findWebDist();
  if (!root) return;
  const namespaces = options.namespaces ?? new Set<string>();
  // Pages and their files are not the API: a signed-in user's page loads never use up its budget.
  routePolicy(app, { limits: { perUser: false } });
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
    const page = isPagePath(path);
    if (!page && namespaces.has(firstSegment(path))) return reply.callNotFound();
    reply.header('Cache-Control', 'no-cache');
    return reply.code(page ? 200 : 404).sendFile('index.html');
  });
}
