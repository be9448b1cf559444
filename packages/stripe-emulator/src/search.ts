import { invalidRequest } from './errors.ts';

/** One clause of Stripe's search query language: `email:'a@b.c'`, `metadata['user_id']:'42'`, `name~'ann'`. */
interface Clause {
  field: string; // `email`, or `metadata.user_id`
  op: ':' | '~' | '-';
  value: string;
  negate: boolean;
}

const CLAUSE =
  /^(-)?(metadata\[(?:'([^']*)'|"([^"]*)")\]|[a-z_]+)\s*(:|~)\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|(\S+))$/;

/**
 * Parses a query made of clauses joined all by AND or all by OR (Stripe forbids mixing them).
 * Returns a predicate over a flat lookup of the object's fields.
 */
export function compileSearch(query: string): (get: (field: string) => string | null | undefined) => boolean {
  const trimmed = query.trim();
  if (!trimmed) throw invalidRequest('Search query is empty', 'query');
  const hasOr = /\sOR\s/.test(trimmed);
  const hasAnd = /\sAND\s/.test(trimmed);
  if (hasOr && hasAnd) throw invalidRequest('Cannot mix AND and OR in a search query', 'query');
  const parts = trimmed.split(hasOr ? /\s+OR\s+/ : /\s+AND\s+/);
  const clauses: Clause[] = parts.map((part) => {
    const match = CLAUSE.exec(part.trim());
    if (!match) throw invalidRequest(`Invalid search query clause: ${part}`, 'query');
    const metadataKey = match[3] ?? match[4];
    return {
      negate: match[1] === '-',
      field: metadataKey !== undefined ? `metadata.${metadataKey}` : match[2]!,
      op: match[5] as ':' | '~',
      value: (match[6] ?? match[7] ?? match[8] ?? '').replace(/\\(.)/g, '$1'),
    };
  });
  return (get) => {
    const results = clauses.map((clause) => {
      const actual = get(clause.field);
      let hit: boolean;
      if (clause.op === '~')
        hit = typeof actual === 'string' && actual.toLowerCase().includes(clause.value.toLowerCase());
      else if (clause.value === 'null') hit = actual === null || actual === undefined;
      else hit = actual !== null && actual !== undefined && actual === clause.value;
      return clause.negate ? !hit : hit;
    });
    return hasOr ? results.some(Boolean) : results.every(Boolean);
  };
}

/** A field of an object as the query language sees it: `metadata.key`, or a top-level scalar as a string. */
function fieldOf(
  object: { metadata?: Record<string, string> | null },
  field: string,
): string | null | undefined {
  if (field.startsWith('metadata.')) return object.metadata?.[field.slice('metadata.'.length)];
  const value = (object as Record<string, unknown>)[field];
  if (value === null || value === undefined || typeof value === 'string') return value;
  return typeof value === 'object' ? undefined : String(value);
}

/** Stripe's `search_result` envelope over the objects the query matches, paged by `page` tokens. */
export function searchResult<T extends { metadata?: Record<string, string> | null }>(
  newestFirst: T[],
  params: { query: string; limit: number; page: string | undefined },
  url: string,
): { object: 'search_result'; data: T[]; has_more: boolean; next_page: string | null; url: string } {
  const matches = compileSearch(params.query);
  const all = newestFirst.filter((object) => matches((field) => fieldOf(object, field)));
  const start = Number(params.page ?? '0') || 0;
  const data = all.slice(start, start + params.limit);
  const hasMore = start + params.limit < all.length;
  return {
    object: 'search_result',
    data,
    has_more: hasMore,
    next_page: hasMore ? String(start + params.limit) : null,
    url,
  };
}
