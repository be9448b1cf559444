import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { notFound } from '../errors.ts';
import { ok } from '../http/envelope.ts';
import { routePolicy } from '../http/route-policy.ts';
import { findOutboxMessage, listOutbox, type OutboxRow } from './outbox.ts';
import { escapeHtml } from './templates/layout.ts';

/**
 * The mail outbox in the browser, for development and end-to-end tests: every email the app
 * "sent", newest first, each readable as HTML and as text. Registered only outside production.
 *
 * Email HTML carries inline styles, so these pages get a CSP of their own that allows inline styles
 * and nothing else: no scripts, no frames, no forms, no requests.
 */
const DEV_MAIL_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data: https: http:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const idParams = z.object({ id: z.uuid() });

function messageJson(row: OutboxRow) {
  return {
    id: row.id,
    to: row.toAddress,
    subject: row.subject,
    template: row.template,
    status: row.status,
    attempts: row.attempts,
    text: row.text,
    html: row.html,
    createdAt: row.createdAt.toISOString(),
    sentAt: row.sentAt?.toISOString() ?? null,
  };
}

function htmlPage(reply: FastifyReply, html: string): FastifyReply {
  return reply
    .header('content-security-policy', DEV_MAIL_CSP)
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(html);
}

function listPage(rows: OutboxRow[]): string {
  const body = rows
    .map((row) => {
      const base = `/dev/mail/messages/${row.id}`;
      const status = row.lastError
        ? `${row.status} (${row.attempts} attempts; last error: ${row.lastError})`
        : row.status;
      return [
        '<tr>',
        `<td>${escapeHtml(row.createdAt.toISOString().replace('T', ' ').slice(0, 19))}</td>`,
        `<td>${escapeHtml(row.toAddress)}</td>`,
        `<td>${escapeHtml(row.subject)}</td>`,
        `<td><code>${escapeHtml(row.template)}</code></td>`,
        `<td>${escapeHtml(status)}</td>`,
        `<td><a href="${base}/html">HTML</a> · <a href="${base}/text">Text</a></td>`,
        '</tr>',
      ].join('');
    })
    .join('');
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Mail outbox</title>',
    '<style>body{font:14px/1.5 system-ui,sans-serif;margin:24px;color:#18181b}',
    'table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:6px 10px;',
    'border-bottom:1px solid #e4e4e7;vertical-align:top}th{background:#f4f4f5}</style></head><body>',
    '<h1>Mail outbox</h1>',
    '<p>Every email the app sent, newest first. This page exists only outside production.</p>',
    rows.length === 0
      ? '<p>No mail yet.</p>'
      : `<table><thead><tr><th>Time (UTC)</th><th>To</th><th>Subject</th><th>Template</th><th>Status</th><th>View</th></tr></thead><tbody>${body}</tbody></table>`,
    '</body></html>',
  ].join('');
}

export async function devMailRoutes(app: FastifyInstance): Promise<void> {
  // A developer's tool, not the API: outside the per-user limit.
  routePolicy(app, { limits: { perUser: false } });
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const db = app.database.db;

  routes.get('/dev/mail', { schema: { hide: true } }, async (_request, reply) => {
    return htmlPage(reply, listPage(await listOutbox(db, { limit: 200 })));
  });

  routes.get(
    '/dev/mail/messages',
    {
      schema: {
        hide: true,
        querystring: z.object({
          to: z.string().optional(),
          limit: z.coerce.number().int().min(1).max(500).optional(),
        }),
      },
    },
    async (request) => {
      const rows = await listOutbox(db, { to: request.query.to, limit: request.query.limit ?? 100 });
      return ok({ messages: rows.map(messageJson) });
    },
  );

  routes.get('/dev/mail/messages/:id', { schema: { hide: true, params: idParams } }, async (request) => {
    const row = await findOutboxMessage(db, request.params.id);
    if (!row) throw notFound('No such message.');
    return ok(messageJson(row));
  });

  routes.get(
    '/dev/mail/messages/:id/html',
    { schema: { hide: true, params: idParams } },
    async (request, reply) => {
      const row = await findOutboxMessage(db, request.params.id);
      if (!row) throw notFound('No such message.');
      return htmlPage(reply, row.html);
    },
  );

  routes.get(
    '/dev/mail/messages/:id/text',
    { schema: { hide: true, params: idParams } },
    async (request, reply) => {
      const row = await findOutboxMessage(db, request.params.id);
      if (!row) throw notFound('No such message.');
      return reply.header('cache-control', 'no-store').type('text/plain; charset=utf-8').send(row.text);
    },
  );
}
