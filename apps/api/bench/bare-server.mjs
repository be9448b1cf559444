// The ceiling for `npm run bench -- --compare`: a bare node:http server on this machine answering the
// bench's scenarios from memory, with no framework, database, Redis, logging or security layer. The
// webhook route still reads the body and checks its Stripe signature (HMAC-SHA256 over the raw
// bytes), which any receiver must do. Started by bench/run.ts as a child process: PORT, HOST,
// WEBHOOK_SECRET in the environment; with WEB_CONCURRENCY > 1 it forks that many processes, as the
// API does.
import cluster from 'node:cluster';
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';

const port = Number(process.env.PORT);
const host = process.env.HOST ?? '127.0.0.1';
const secret = process.env.WEBHOOK_SECRET ?? '';
const workers = Number(process.env.WEB_CONCURRENCY ?? 1);

const HEALTH = JSON.stringify({ success: true, data: { status: 'ok', checks: { database: 'ok' } } });
const PROFILE = JSON.stringify({
  success: true,
  data: {
    user: {
      id: '00000000-0000-0000-0000-000000000000',
      email: 'bench@example.com',
      name: 'Bench',
      emailVerified: false,
      isStaff: false,
      createdAt: new Date(0).toISOString(),
      twoFactorEnabled: false,
    },
    isPro: false,
    subscription: null,
    trialEnd: null,
  },
});
const RECEIVED = JSON.stringify({ success: true, data: { received: true, outcome: 'recorded' } });

function send(response, status, body) {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  response.end(body);
}

function verified(body, header) {
  if (typeof header !== 'string') return false;
  const parts = Object.fromEntries(header.split(',').map((part) => part.split('=')));
  if (!parts.t || !parts.v1) return false;
  const expected = createHmac('sha256', secret).update(`${parts.t}.${body}`).digest();
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function serve() {
  http
    .createServer((request, response) => {
      const path = request.url?.split('?')[0];
      if (request.method === 'GET' && path === '/health/') return send(response, 200, HEALTH);
      if (request.method === 'GET' && path === '/api/profile/') {
        return request.headers.cookie ? send(response, 200, PROFILE) : send(response, 401, '{}');
      }
      if (request.method === 'POST' && path === '/api/stripe/webhook/') {
        const chunks = [];
        request.on('data', (chunk) => chunks.push(chunk));
        request.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if (!verified(body, request.headers['stripe-signature'])) return send(response, 400, '{}');
          JSON.parse(body);
          send(response, 200, RECEIVED);
        });
        return;
      }
      send(response, 404, '{}');
    })
    .listen(port, host);
}

if (workers > 1 && cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
  process.on('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill();
    process.exit(0);
  });
} else {
  serve();
}
