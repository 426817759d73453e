import { LgError } from '../domain/index.js';

/**
 * How deep a request body may nest. No route's schema needs more than a dozen levels (a strategy document is the
 * deepest); a bound far below what the recursive code behind the schemas (validation, canonical JSON for the
 * idempotency hash, the engine) can take keeps a body of thousands of brackets a 400 rather than a stack overflow.
 */
export const BODY_DEPTH_MAX = 64;

interface Frame {
  readonly value: unknown;
  readonly depth: number;
  readonly path: string;
}

/**
 * Checks, without recursion, that a parsed JSON body nests at most BODY_DEPTH_MAX levels and holds only finite
 * numbers (JSON.parse reads 1e400 as Infinity; a typed field refuses it, a free-form member did not) and no U+0000
 * (see assertNoNul). Throws a coded 400 naming the place.
 */
export function assertBodyShape(body: unknown): void {
  if (typeof body !== 'object' || body === null) {
    assertFinite(body, 'body');
    return;
  }
  const stack: Frame[] = [{ value: body, depth: 1, path: 'body' }];
  for (let frame = stack.pop(); frame !== undefined; frame = stack.pop()) {
    if (frame.depth > BODY_DEPTH_MAX) {
      throw new LgError('LG_BODY_TOO_DEEP', `request body nests deeper than ${BODY_DEPTH_MAX} levels`, {
        depthMax: BODY_DEPTH_MAX,
      });
    }
    for (const [key, member] of Object.entries(frame.value as object)) {
      assertNoNulIn(key, `${frame.path}/${key}`);
      if (typeof member === 'object' && member !== null) {
        stack.push({ value: member, depth: frame.depth + 1, path: `${frame.path}/${key}` });
      } else assertFinite(member, `${frame.path}/${key}`);
    }
  }
}

/**
 * Path parameters and query strings (flat: a name to a text or a list of texts) hold no U+0000. No field of ours
 * means it, and PostgreSQL cannot hold it in text: it refuses the statement, which answered 500 on that store.
 */
export function assertNoNul(part: unknown, where: 'params' | 'querystring'): void {
  if (typeof part !== 'object' || part === null) return;
  for (const [name, value] of Object.entries(part)) {
    for (const item of Array.isArray(value) ? (value as unknown[]) : [value])
      assertNoNulIn(item, `${where}/${name}`);
  }
}

function assertNoNulIn(value: unknown, path: string): void {
  if (typeof value === 'string' && value.includes('\u0000')) {
    throw new LgError('LG_VALIDATION', `request ${path} must not contain U+0000`, [
      { path, problem: 'must not contain U+0000' },
    ]);
  }
}

function assertFinite(value: unknown, path: string): void {
  assertNoNulIn(value, path);
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new LgError('LG_VALIDATION', `request ${path} must be a finite number`, [
      { path, problem: 'must be a finite number' },
    ]);
  }
}
