import { createHash } from 'node:crypto';

/**
 * A short-lived, per-process cache of resolved sessions, so the authentication hook need not query
 * the database on every request of a signed-in user (docs/decisions/0027).
 *
 * Generic over what the loader returns (the session, its user and whatever else the auth context
 * carries); it only needs the user id of an entry, to drop every session of a user at once.
 * Entries are keyed by a hash of the session token, never the token itself, live `ttlMs` at most,
 * and are dropped on `invalidateUser` / `invalidateAll`, which the app calls (here and, through
 * Redis pub/sub, in every other process) whenever a session, its user or their subscription may
 * have changed. A load that began before an invalidation is not stored: it may have read the state
 * the invalidation announced as gone.
 */
export interface SessionCacheOptions<T> {
  ttlMs: number;
  /** Entries kept at most; the oldest go first. */
  maxEntries: number;
  userIdOf: (value: T) => string;
  /** Entries are not used past this (the session's own expiry). */
  expiresAtOf?: (value: T) => Date;
  now?: () => number;
}

interface Entry<T> {
  value: T;
  userId: string;
  storedAt: number;
}

export class SessionCache<T> {
  readonly #entries = new Map<string, Entry<T>>();
  readonly #keysByUser = new Map<string, Set<string>>();
  readonly #options: SessionCacheOptions<T>;
  /** Bumped by every invalidation; a load that saw another value is not stored. */
  #generation = 0;
  /** While false (the invalidation channel is down), every lookup goes to the loader. */
  #enabled = true;

  constructor(options: SessionCacheOptions<T>) {
    this.#options = options;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The cached value for the token, or the loader's (stored when not null). */
  async get(token: string, load: () => Promise<T | null>): Promise<T | null> {
    if (!this.#enabled) return load();
    const hit = this.peek(token);
    if (hit !== undefined) return hit;
    const now = (this.#options.now ?? Date.now)();
    const generation = this.#generation;
    const value = await load();
    if (value !== null && generation === this.#generation && this.#enabled) {
      this.#store(keyOf(token), value, now);
    }
    return value;
  }

  /** The cached value for the token when there is a fresh one; never loads. */
  peek(token: string): T | undefined {
    if (!this.#enabled) return undefined;
    const key = keyOf(token);
    const hit = this.#entries.get(key);
    if (!hit) return undefined;
    const now = (this.#options.now ?? Date.now)();
    const expiresAt = this.#options.expiresAtOf?.(hit.value).getTime() ?? Number.POSITIVE_INFINITY;
    if (now - hit.storedAt < this.#options.ttlMs && now < expiresAt) return hit.value;
    this.#delete(key);
    return undefined;
  }

  /** Drops the entry of one token (its session was just changed by this process). */
  forget(token: string): void {
    this.#generation += 1;
    this.#delete(keyOf(token));
  }

  invalidateUser(userId: string): void {
    this.#generation += 1;
    for (const key of this.#keysByUser.get(userId) ?? []) this.#entries.delete(key);
    this.#keysByUser.delete(userId);
  }

  invalidateAll(): void {
    this.#generation += 1;
    this.#entries.clear();
    this.#keysByUser.clear();
  }

  /** Off: empty and bypassed (invalidations from elsewhere could be missed); on again: starts empty. */
  setEnabled(enabled: boolean): void {
    this.invalidateAll();
    this.#enabled = enabled;
  }

  #store(key: string, value: T, now: number): void {
    if (this.#entries.size >= this.#options.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#delete(oldest.value);
    }
    const userId = this.#options.userIdOf(value);
    this.#entries.set(key, { value, userId, storedAt: now });
    let keys = this.#keysByUser.get(userId);
    if (!keys) {
      keys = new Set();
      this.#keysByUser.set(userId, keys);
    }
    keys.add(key);
  }

  #delete(key: string): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    const keys = this.#keysByUser.get(entry.userId);
    keys?.delete(key);
    if (keys?.size === 0) this.#keysByUser.delete(entry.userId);
  }
}

function keyOf(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** The message on the invalidation channel: one user's sessions, or all. */
export type Invalidation = { userId: string } | { all: true };

export function encodeInvalidation(invalidation: Invalidation): string {
  return 'all' in invalidation ? '*' : `u:${invalidation.userId}`;
}

export function decodeInvalidation(message: string): Invalidation | null {
  if (message === '*') return { all: true };
  if (message.startsWith('u:') && message.length > 2) return { userId: message.slice(2) };
  return null;
}
