// `npm run dev`: the API (tsx watch: restarts on change) on $PORT (default 8000) and Vite with hot
// reload on $VITE_PORT (default 3000), which proxies /api, /health and /dev to the API, so the
// browser sees one origin and cookies stay first-party. Ctrl-C (or SIGTERM) stops both.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const apiPort = process.env.PORT || '8000';
const vitePort = process.env.VITE_PORT || '3000';
/** How long the two may take to stop before they are killed. */
const STOP_TIMEOUT_MS = 10_000;

const children = [
  start('api', bin('tsx'), ['watch', '--clear-screen=false', 'apps/api/src/server.ts'], root, {
    PORT: apiPort,
    // Links in emails and Stripe's return URLs lead back to the page with hot reload.
    APP_URL: process.env.APP_URL || `http://localhost:${vitePort}`,
  }),
  start('web', bin('vite'), ['--port', vitePort, '--strictPort'], path.join(root, 'apps/web'), {
    API_PROXY_TARGET: `http://127.0.0.1:${apiPort}`,
  }),
];

/**
 * The children stay in this process's group: Ctrl-C in a terminal reaches all of them at once,
 * and whoever started `npm run dev` can stop the whole group.
 */
function start(name, command, args, cwd, env) {
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = `[${name}] `;
  for (const stream of [child.stdout, child.stderr]) {
    let pending = '';
    stream.on('data', (chunk) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) process.stdout.write(`${prefix}${line}\n`);
    });
  }
  child.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  child.once('exit', (code) => {
    if (!stopping) {
      process.stdout.write(`${prefix}exited (${code}); stopping the other\n`);
      void stop(code || 1);
    }
  });
  return child;
}

let stopping = false;
/**
 * Stops both and exits. After a terminal's Ctrl-C the children got SIGINT themselves (a second
 * signal would make the API skip its drain), so they are only signalled if still running later.
 */
async function stop(exitCode, { signalledByTerminal = false } = {}) {
  if (stopping) return;
  stopping = true;
  const running = () => children.filter((child) => child.exitCode === null && child.signalCode === null);
  const signalAll = (signal) => {
    for (const child of running()) child.kill(signal);
  };
  const timers = [
    setTimeout(() => signalAll('SIGTERM'), signalledByTerminal ? 2000 : 0),
    setTimeout(() => signalAll('SIGKILL'), STOP_TIMEOUT_MS),
  ];
  await Promise.all(children.map((child) => child.exited));
  for (const timer of timers) clearTimeout(timer);
  process.exit(exitCode);
}

process.on('SIGINT', () => void stop(0, { signalledByTerminal: true }));
process.on('SIGTERM', () => void stop(0));
// `npm run dev` runs this under a shell; a SIGTERM to npm ends that shell but is not passed on to
// us. Seeing our parent gone is the cue to stop, so the API and Vite are never left behind.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) void stop(0);
}, 500).unref();
