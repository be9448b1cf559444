import net from 'node:net';
import { expect, it } from 'vitest';
import { createTestApp, sleep, waitFor } from './helper.ts';

/**
 * nginx keeps its connections to an instance open between requests. One that is busy when the
 * instance begins shutting down must be closed after its answer: left open it would hold the
 * shutdown for the keep-alive timeout (72 s), past the drain deadline, and the process would be
 * killed instead of exiting cleanly (seen in `npm run test:scale`).
 */
it('a keep-alive connection busy when shutdown begins is answered, then closed, so close() does not wait for it', async () => {
  const t = await createTestApp();
  let socket: net.Socket | undefined;
  try {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.server.address() as net.AddressInfo;
    const body = JSON.stringify({ email: 'drain@example.com', password: 'not the right one at all' });
    const half = Math.floor(body.length / 2);
    const csrf = await t.app.inject({ method: 'GET', url: '/api/csrf/' });
    const token = (csrf.json() as { data: { csrfToken: string } }).data.csrfToken;

    const connected = net.connect(port, '127.0.0.1');
    socket = connected;
    let answer = '';
    connected.setEncoding('utf8');
    connected.on('data', (chunk: string) => {
      answer += chunk;
    });
    const ended = new Promise<void>((resolve) => connected.once('close', () => resolve()));
    await new Promise<void>((resolve) => connected.once('connect', () => resolve()));
    // A request whose body is still arriving: the connection is busy, not idle.
    connected.write(
      [
        'POST /api/login/ HTTP/1.1',
        'Host: 127.0.0.1',
        'Connection: keep-alive',
        'Content-Type: application/json',
        `Cookie: csrftoken=${token}`,
        `X-CSRFToken: ${token}`,
        `Content-Length: ${Buffer.byteLength(body)}`,
        '',
        body.slice(0, half),
      ].join('\r\n'),
    );
    // A fixed pause on purpose: the first half reaches the server before close() starts (nothing
    // observable says it has been read).
    await sleep(100);

    let closed = false;
    const closing = t.app.close().then(() => {
      closed = true;
    });
    // The rest arrives while close() is draining: the pause is the scenario under test.
    await sleep(100);
    connected.write(body.slice(half));

    await waitFor(() => answer.includes('\r\n\r\n'), 5000);
    const head = answer.slice(0, answer.indexOf('\r\n\r\n')).toLowerCase();
    // Answered by the app (a wrong password), not refused as a new request would be (503).
    expect(head).toMatch(/^http\/1\.1 401/);
    expect(head).toContain('connection: close');
    await waitFor(() => closed, 5000);
    await ended;
    await closing;
  } finally {
    socket?.destroy();
    await t.app.close();
    await t.database.drop();
  }
});
