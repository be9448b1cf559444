import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, waitFor } from './helper.ts';

/**
 * `npm run dev` as a developer types it: the API (tsx watch) and Vite with hot reload from one
 * command, on ports of the caller's choosing, and both gone after one SIGTERM.
 */
const root = path.resolve(import.meta.dirname, '../../..');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tierbase-dev-'));
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

describe('npm run dev', () => {
  it('serves the SPA from Vite with hot reload, proxies /api to the API on $PORT, and stops on SIGTERM', async () => {
    const apiPort = await freePort();
    const vitePort = await freePort();
    let output = '';
    const dev: ChildProcess = spawn('npm', ['run', 'dev'], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: os.tmpdir(),
        PORT: String(apiPort),
        VITE_PORT: String(vitePort),
        DATA_DIR: dataDir,
        STRIPE_EMULATOR_PORT: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: if the test fails, everything it started is killed with it.
      detached: true,
    });
    dev.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    dev.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    // npm passes SIGTERM on to the script and then ends by that signal itself.
    const exited = new Promise<number | string | null>((resolve) =>
      dev.once('exit', (code, signal) => resolve(code ?? signal)),
    );
    const vite = `http://localhost:${vitePort}`;
    try {
      const html = await waitFor(async () => {
        const response = await fetch(`${vite}/`).catch(() => null);
        return response?.ok ? response.text() : undefined;
      }, 60_000).catch(() => {
        throw new Error(`Vite did not answer:\n${output}`);
      });
      expect(html).toContain('<div id="root">');
      expect(html).toContain('/@vite/client');

      // Through Vite's proxy to the API, once the API has started.
      const csrf = await waitFor(async () => {
        const response = await fetch(`${vite}/api/csrf/`).catch(() => null);
        return response?.status === 200 ? response : undefined;
      }, 60_000).catch(() => {
        throw new Error(`the API did not answer through Vite's proxy:\n${output}`);
      });
      expect(((await csrf.json()) as { success: boolean }).success).toBe(true);
      const ready = await fetch(`${vite}/health/ready`);
      expect(ready.status).toBe(200);
      expect(output).toContain(`listening on http://127.0.0.1:${apiPort}`);

      const signalledAt = Date.now();
      dev.kill('SIGTERM');
      const code = await Promise.race([
        exited,
        new Promise((resolve) => setTimeout(resolve, 20_000, 'timeout')),
      ]);
      expect([0, 'SIGTERM'], output).toContain(code);
      // The API and Vite stop too, within the script's bound: nothing is left listening.
      const closed = async (url: string) =>
        (await fetch(url).then(
          () => false,
          () => true,
        )) || undefined;
      await waitFor(() => closed(`http://127.0.0.1:${apiPort}/health/live`), 15_000);
      await waitFor(() => closed(`${vite}/`), 15_000);
      expect(Date.now() - signalledAt).toBeLessThan(20_000);
    } finally {
      // The whole group npm leads: npm, the script, the API and Vite, whatever state they are in.
      try {
        if (dev.pid) process.kill(-dev.pid, 'SIGKILL');
      } catch {
        // All gone already.
      }
    }
  }, 150_000);
});
