/**
 * An idempotency key that commits in the same transaction as the write it guards, so an effect never commits without
 * its key and a retry can never repeat it. `claimed` hears whether this unit inserted the key (false: another request
 * holds it; it throws, and the unit rolls back).
 */
export interface IdempotencyClaim {
  readonly scope: string;
  readonly key: string;
  readonly requestHash: string;
  readonly at: number;
  /** False once the key was written with an earlier unit of the same request: it is written only once. */
  pending(): boolean;
  claimed(inserted: boolean): void;
}

/**
 * Writes that must commit with a unit of work beyond its own facts, passed in by the caller and handed to the store's
 * transaction at the call site (never found implicitly). A request whose handler runs several units writes the key
 * with the first that commits.
 */
export interface UnitGuard {
  readonly idempotency?: IdempotencyClaim;
}
