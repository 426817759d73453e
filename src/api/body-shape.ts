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
 * numbers (JSON.parse reads 1e400 as Infinity; a typed field refuses it, a free-form member did not). Throws a coded
 * 400 naming the place.
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
      if (typeof member === 'object' && member !== null) {
        stack.push({ value: member, depth: frame.depth + 1, path: `${frame.path}/${key}` });
      } else assertFinite(member, `${frame.path}/${key}`);
    }
  }
}

function assertFinite(value: unknown, path: string): void {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new LgError('LG_VALIDATION', `request ${path} must be a finite number`, [
      { path, problem: 'must be a finite number' },
    ]);
  }
}
