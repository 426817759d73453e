/**
 * An idempotency key that commits in the same transaction as the write it guards, so an effect never commits without
 * its key and a retry can never repeat it. `claimed` hears whether this unit inserted the key (false: another request
 * holds it; it throws, and the unit rolls back) and the response stored with it, if any (UnitGuard.respond).
 */
export interface IdempotencyClaim {
  readonly scope: string;
  readonly key: string;
  /** The request's hash as its key row keeps it (sealed for a route with personal data: src/api/idempotency.ts). */
  readonly requestHash: string;
  readonly at: number;
  /**
   * The response body as the key row keeps it, for a route whose request or answer carries personal data: sealed
   * (src/api/idempotency.ts). Absent: the body as it is. `claimed` still hears the response as it was said.
   */
  readonly storedBody?: (body: string) => string;
  /** False once the key was written with an earlier unit of the same request: it is written only once. */
  pending(): boolean;
  claimed(inserted: boolean, response?: RecordedResponse): void;
}

/** An HTTP answer as it is replayed: the status and the exact bytes of the body. */
export interface RecordedResponse {
  readonly status: number;
  readonly body: string;
}

/** What a unit of work came to: the value its caller returns, or the error it throws after the unit committed. */
export type UnitOutcome<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

/**
 * Writes that must commit with a unit of work beyond its own facts, passed in by the caller and handed to the store's
 * transaction at the call site (never found implicitly). A request whose handler runs several units writes the key
 * with the first that commits.
 */
export interface UnitGuard<T = unknown> {
  readonly idempotency?: IdempotencyClaim;
  /**
   * The answer the request will get, given what its unit of work comes to, for a request answered by exactly one
   * unit: the response is then stored with the key in that unit's transaction, before the reply (issue 13), instead
   * of in a write of its own after the commit. Undefined: store the key alone (an answer it cannot say, a 5xx).
   * `T` is the unit's value (the store's transaction hands it over as it returns it) or whatever the unit that takes
   * the guard says it answers with (a draw); a guard without it (`UnitGuard`) fits any unit.
   */
  readonly respond?: (outcome: UnitOutcome<T>) => RecordedResponse | undefined;
}
