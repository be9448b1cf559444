import type { FieldErrors } from '@tierbase/contracts';
import type { FastifyInstance } from 'fastify';
import { validationError } from '../errors.ts';

/**
 * NUL, or a UTF-16 surrogate without its pair. JSON can carry both (`\u0000`, `\ud800`), and a
 * percent-encoded `%00` decodes to NUL in a query or a path; PostgreSQL stores neither (NUL is
 * refused, a lone surrogate is not UTF-8), so such a string would fail in the database as a 500,
 * or come back altered.
 */
const UNSTORABLE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const MESSAGE = 'Contains a character that is not allowed (NUL or an unpaired surrogate).';

function isContainer(value: unknown): value is Record<string, unknown> | unknown[] {
  // A raw Buffer body (the Stripe webhook) is bytes, not text; querystring objects have their
  // own prototype, so anything else that is an object is walked.
  return typeof value === 'object' && value !== null && !ArrayBuffer.isView(value);
}

/**
 * Adds the dotted path of every string (value or key) in `root` that PostgreSQL cannot store.
 * Iterative, so a deeply nested body cannot overflow the stack.
 */
function collect(root: unknown, prefix: string, details: FieldErrors): void {
  const stack: [unknown, string][] = [[root, prefix]];
  const add = (path: string) => {
    const field = path || prefix || 'body';
    if (!details[field]) details[field] = [MESSAGE];
  };
  while (stack.length > 0) {
    const [value, path] = stack.pop()!;
    if (typeof value === 'string') {
      if (UNSTORABLE.test(value)) add(path);
    } else if (isContainer(value)) {
      for (const [key, child] of Object.entries(value)) {
        const childPath = path ? `${path}.${key}` : key;
        if (UNSTORABLE.test(key)) add(childPath);
        else stack.push([child, childPath]);
      }
    }
  }
}

/**
 * One check for every route, before schema validation: no string a request carries (body, query,
 * path parameters, header values) may hold text PostgreSQL cannot store. Routes added later are
 * covered without doing anything. Answered as 400 VALIDATION_ERROR naming the fields.
 */
export function registerInputGuard(app: FastifyInstance): void {
  // A callback hook: it runs on every request, and an async one costs a promise each time.
  app.addHook('preValidation', (request, _reply, done) => {
    const details: FieldErrors = {};
    collect(request.body, '', details);
    collect(request.query, '', details);
    collect(request.params, '', details);
    collect(request.headers, 'headers', details);
    done(Object.keys(details).length > 0 ? validationError(details) : undefined);
  });
}
