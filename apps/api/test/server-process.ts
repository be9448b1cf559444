import { type ChildProcess, spawn } from 'node:child_process';
import os from 'node:os';

/** A server (or any Node program) started as a child process, its output collected. */
export interface ServerProcess {
  child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** The JSON log lines written so far. */
  lines(): Record<string, unknown>[];
  /** The exit code, once the process has exited and its output has been read to the end. */
  exited: Promise<number | null>;
}

/**
 * Runs `node <args>` in `cwd` with only `env` on top of PATH, HOME and LOG_LEVEL=info, so the
 * developer's DATABASE_URL, REDIS_URL or Stripe keys never leak into a test's server.
 */
export function spawnNode(args: string[], cwd: string, env: Record<string, string>): ServerProcess {
  let output = '';
  const child = spawn(process.execPath, args, {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const lines = () =>
    output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { child, output: () => output, lines, exited };
}
