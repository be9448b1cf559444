import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, pageCursorSchema } from './cursor.ts';

const raw = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('page cursors', () => {
  it('decodes what it encodes, as Buffer base64url writes it', () => {
    const createdAt = new Date('2026-12-01T10:00:00.123Z');
    const cursor = encodeCursor(createdAt, 'row_42-x');
    expect(cursor).toBe(raw([createdAt.toISOString(), 'row_42-x']));
    expect(decodeCursor(cursor)).toEqual({ createdAt, id: 'row_42-x' });
    expect(pageCursorSchema.parse(cursor)).toEqual({ createdAt, id: 'row_42-x' });
  });

  it.each([
    ['a year PostgreSQL rejects', raw(['+275760-09-13T00:00:00.000Z', 'x'])],
    ['a negative year', raw(['-000001-01-01T00:00:00.000Z', 'x'])],
    ['a day that does not exist', raw(['2026-02-31T00:00:00.000Z', 'x'])],
    ['a date without milliseconds', raw(['2026-02-01T00:00:00Z', 'x'])],
    ['an epoch number', raw([1796119851537, 'x'])],
    ['an id with NUL', raw(['2026-02-01T00:00:00.000Z', 'a\u0000b'])],
    ['an id with a lone surrogate', raw(['2026-02-01T00:00:00.000Z', '\ud800'])],
    ['an empty id', raw(['2026-02-01T00:00:00.000Z', ''])],
    ['three parts', raw(['2026-02-01T00:00:00.000Z', 'x', 'y'])],
    ['bytes that are not UTF-8', Buffer.from([0xff, 0xfe, 0x5b]).toString('base64url')],
    ['not base64url', '2026-02-01T00:00:00.000Z|x'],
    ['too long', 'a'.repeat(300)],
  ])('refuses %s', (_name, cursor) => {
    expect(decodeCursor(cursor)).toBeNull();
    expect(pageCursorSchema.safeParse(cursor).success).toBe(false);
  });
});
