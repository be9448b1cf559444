import type { PageCursor } from '@tierbase/contracts';
import { and, eq, lt, or, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';

/**
 * Keyset pagination, newest first: the cursor (decoded by the contracts' strict `pageCursorSchema`)
 * is the (created_at, id) of the last row shown, stable under inserts.
 */
export function before(
  createdAt: AnyPgColumn,
  id: AnyPgColumn,
  cursor: PageCursor | undefined,
): SQL | undefined {
  if (!cursor) return undefined;
  return or(lt(createdAt, cursor.createdAt), and(eq(createdAt, cursor.createdAt), lt(id, cursor.id)));
}
