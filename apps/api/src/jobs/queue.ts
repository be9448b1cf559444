import type { DatabaseHandle } from '../db/client.ts';

/** Options for one job; `singletonKey` makes a second send with the same key a no-op. */
export interface SendOptions {
  singletonKey?: string;
  startAfterSeconds?: number;
  retryLimit?: number;
}

export type JobHandler<T> = (data: T) => Promise<void>;

/** The app's durable job queue (pg-boss on the app's own database). */
export interface JobQueue {
  send<T extends object>(name: string, data: T, options?: SendOptions): Promise<string | null>;
  work<T extends object>(name: string, handler: JobHandler<T>): Promise<void>;
  /** Stops taking jobs and waits for those in flight. */
  stop(): Promise<void>;
}

// TODO(helper): replace with pg-boss.
export async function createJobQueue(_database: DatabaseHandle): Promise<JobQueue> {
  const handlers = new Map<string, JobHandler<object>>();
  return {
    async send(name, data) {
      const handler = handlers.get(name);
      if (handler) await handler(data);
      return null;
    },
    async work(name, handler) {
      handlers.set(name, handler as JobHandler<object>);
    },
    async stop() {},
  };
}
