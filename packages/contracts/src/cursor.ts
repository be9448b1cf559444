import { z } from 'zod';

/**
 * Keyset pagination cursors: the last row's (createdAt, id), as base64url JSON, opaque to clients.
 * Decoding is strict because a cursor is input like any other: only what `encodeCursor` can
 * produce is accepted, so a forged cursor cannot carry a timestamp PostgreSQL rejects (years
 * beyond 9999 or before 0, `+275760-…`), an impossible date, or an id with NUL in it.
 */
export interface PageCursor {
  createdAt: Date;
  id: string;
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const ROW_ID = /^[A-Za-z0-9_-]{1,128}$/;
export const CURSOR_MAX_LENGTH = 256;

export function encodeCursor(createdAt: Date, id: string): string {
  return encodeBase64Url(JSON.stringify([createdAt.toISOString(), id]));
}

/** The cursor's (createdAt, id), or null when it is not one `encodeCursor` could have made. */
export function decodeCursor(cursor: string): PageCursor | null {
  if (cursor.length > CURSOR_MAX_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(decodeBase64Url(cursor));
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) return null;
  const [createdAt, id] = parsed as unknown[];
  if (typeof createdAt !== 'string' || typeof id !== 'string') return null;
  if (!ISO_INSTANT.test(createdAt) || !ROW_ID.test(id)) return null;
  const date = new Date(createdAt);
  // Round-trips only for a real instant: "2026-02-31…" parses to March and is refused here.
  if (Number.isNaN(date.getTime()) || date.toISOString() !== createdAt) return null;
  return { createdAt: date, id };
}

/** A query parameter holding a cursor the API gave out; parses to its (createdAt, id). */
export const pageCursorSchema = z
  .string()
  .min(1)
  .max(CURSOR_MAX_LENGTH)
  .transform((value, ctx) => {
    const cursor = decodeCursor(value);
    if (cursor) return cursor;
    ctx.addIssue({ code: 'custom', message: 'This cursor is not one the API gave out.' });
    return z.NEVER;
  });

// Plain code rather than Buffer: this package also runs in the browser.
function encodeBase64Url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

function decodeBase64Url(text: string): string {
  const binary = atob(text.replaceAll('-', '+').replaceAll('_', '/'));
  const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
  return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
}
