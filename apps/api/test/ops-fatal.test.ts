import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, waitFor } from './helper.ts';

const apiDir = fileURLToPath(new URL('..', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/throw-on-sigwinch.mjs', import.meta.url));
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tierbase-fatal-'));
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

describe('the server process on an uncaught exception', () => {
  it('logs it scrubbed, reports it as fatal to SENTRY_DSN, closes the app and exits 1', async () => {
    const envelopes: string[] = [];
    const ingest = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        envelopes.push(Buffer.concat(chunks).toString('utf8'));
        response.writeHead(200).end('{}');
      });
    });
    await new Promise<void>((resolve) => ingest.listen(0, '127.0.0.1', resolve));
    const port = await freePort();
    let output = '';
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', fixture, 'src/server.ts'], {
      cwd: apiDir,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: os.tmpdir(),
        DATA_DIR: dataDir,
        PORT: String(port),
        STRIPE_EMULATOR_PORT: '0',
        SENTRY_DSN: `http://publickey@127.0.0.1:${(ingest.address() as AddressInfo).port}/7`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitFor(() => output.includes('listening on'), 60_000, 100);
      child.kill('SIGWINCH');
      expect(await exited).toBe(1);
      const fatal = output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { level: number; msg: string; err?: { message: string } })
        .find((entry) => entry.msg === 'uncaught exception');
      expect(fatal?.level).toBe(60);
      expect(fatal?.err?.message).toBe('fatal bug while mailing [email]');
      expect(output).toContain('shutdown complete');
      expect(output).not.toContain('ada.lovelace@example.com');
      const envelope = envelopes.find((body) => body.includes('fatal bug while mailing'));
      expect(envelope).toContain('"level":"fatal"');
      expect(envelope).not.toContain('ada.lovelace@example.com');
    } finally {
      child.kill('SIGKILL');
      await new Promise<void>((resolve) => ingest.close(() => resolve()));
    }
  }, 90_000);
});
