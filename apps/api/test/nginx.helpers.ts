import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitFor } from './helper.ts';

export const NGINX_BIN = '/usr/sbin/nginx';
export const SHIPPED_NGINX_CONF = fileURLToPath(new URL('../../../deploy/nginx.conf', import.meta.url));

/** Why nginx tests cannot run here, or undefined when they can. */
export function nginxUnavailableReason(): string | undefined {
  return fs.existsSync(NGINX_BIN)
    ? undefined
    : `${NGINX_BIN} is not installed (apt-get install nginx; .ci/run does)`;
}

export interface RunningNginx {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  /** The access log so far: one parsed JSON object per request (the shipped log format). */
  accessLog(): Record<string, unknown>[];
  /** The access log once it holds `count` lines: nginx writes a line after sending the response. */
  waitForAccessLog(count: number): Promise<Record<string, unknown>[]>;
  /** Everything nginx wrote to stdout (access log) and stderr (error log) so far, raw. */
  output(): string;
  stop(): Promise<void>;
}

function replaceOnce(text: string, pattern: RegExp, replace: (match: string) => string): string {
  const matches = text.match(new RegExp(pattern.source, `${pattern.flags.replace('g', '')}g`)) ?? [];
  if (matches.length !== 1) {
    throw new Error(`deploy/nginx.conf: expected exactly one match of ${pattern}, found ${matches.length}`);
  }
  return text.replace(pattern, replace);
}

/**
 * The shipped deploy/nginx.conf, made runnable on the host: only the upstream's `server` lines, the
 * `listen` line and the temp paths change. Everything else (headers, logs, error pages, retries) is
 * what production runs.
 */
export function hostNginxConf(shipped: string, options: { port: number; upstreams: string[]; dir: string }) {
  let conf = replaceOnce(shipped, /upstream tierbase_api \{[^}]*\}/, (block) =>
    block.replace(
      /^(\s*)server [^;]+;\n/m,
      (_line, indent: string) => `${options.upstreams.map((u) => `${indent}server ${u};\n`).join('')}`,
    ),
  );
  conf = replaceOnce(conf, /^\s*listen 80;$/m, () => `    listen 127.0.0.1:${options.port};`);
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((kind) => `  ${kind}_temp_path ${path.join(options.dir, `${kind}_temp`)};`)
    .join('\n');
  conf = replaceOnce(conf, /^http \{$/m, (line) => `${line}\n${temp}`);
  return conf;
}

/**
 * Starts real nginx with the shipped config in front of `upstreams` (host:port) and waits until it
 * accepts connections. Its access log (stdout) and error log (stderr) are kept for assertions.
 */
export async function startNginx(options: { upstreams: string[] }): Promise<RunningNginx> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tierbase-nginx-'));
  // Worker processes run as an unprivileged user when nginx starts as root: they need to reach
  // their temp folders inside this one.
  fs.chmodSync(dir, 0o755);
  const port = await freePort();
  const confPath = path.join(dir, 'nginx.conf');
  fs.writeFileSync(
    confPath,
    hostNginxConf(fs.readFileSync(SHIPPED_NGINX_CONF, 'utf8'), { port, upstreams: options.upstreams, dir }),
  );

  // Files, not pipes: nginx opens /dev/stdout by name, which fails on the socket Node would give it.
  const stdoutPath = path.join(dir, 'stdout.log');
  const stderrPath = path.join(dir, 'stderr.log');
  const stdoutFd = fs.openSync(stdoutPath, 'a');
  const stderrFd = fs.openSync(stderrPath, 'a');
  const child: ChildProcess = spawn(
    NGINX_BIN,
    ['-p', dir, '-c', confPath, '-e', 'stderr', '-g', `daemon off; pid ${path.join(dir, 'nginx.pid')};`],
    { stdio: ['ignore', stdoutFd, stderrFd] },
  );
  fs.closeSync(stdoutFd);
  fs.closeSync(stderrFd);
  let spawnError = '';
  const read = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '');
  const output = () => `${read(stdoutPath)}${read(stderrPath)}${spawnError}`;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', (error) => {
      spawnError = String(error);
      resolve();
    });
  });
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });

  const stop = async () => {
    if (!hasExited) {
      child.kill('SIGQUIT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };

  try {
    await waitFor(async () => {
      if (hasExited) throw new Error(`nginx exited at start:\n${output()}`);
      return canConnect(port);
    }, 10_000);
  } catch (error) {
    await stop();
    throw error;
  }

  const accessLog = () =>
    read(stdoutPath)
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    accessLog,
    waitForAccessLog: (count) =>
      waitFor(() => {
        const lines = accessLog();
        return lines.length >= count ? lines : undefined;
      }, 5000),
    output,
    stop,
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Sends raw bytes (for requests no HTTP client would send) and returns everything answered. */
export function rawRequest(port: number, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(payload));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      answer += chunk;
    });
    socket.once('error', reject);
    socket.once('end', () => resolve(answer));
    socket.setTimeout(5000, () => socket.destroy(new Error('raw request timed out')));
  });
}
