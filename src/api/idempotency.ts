import { sha256Hex } from '../domain/index.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CanonicalJsonError, canonicalJson } from '../domain/index.js';
import { LgError } from '../domain/index.js';
import type { Clock, RecordedResponse, UnitGuard, UnitOutcome } from '../domain/index.js';
import {
  RETRY_AFTER_SECONDS,
  loadIdempotencyRow,
  storeIdempotentResponses,
  type ResponsePlacement,
  type Store,
} from '../store/index.js';
import type { IdempotencyClaim } from '../core/index.js';
import { guardOf } from './types.js';

/**
 * Stripe-style idempotency for retryable writes:
 * - a repeat with the same key and body gets the first response byte-for-byte; with another body, 422;
 * - a repeat while the first is still running gets 409;
 * - the key is recorded IN THE SAME TRANSACTION as the write it guards: the handler passes `request.idempotencyClaim`
 *   to its service, which hands it to the store's transaction (domain/unit-guard.ts), so an effect never commits
 *   without its key and a retry can never repeat it, even across a crash or between processes;
 * - the response body is stored before the reply leaves, so a client that got an answer can always replay it, even
 *   after a kill -9: with the key in the write's own transaction where the route can say its answer there
 *   (answeringGuard: every idempotent route whose answer one unit of work knows), otherwise in a write of its own
 *   right after the commit (responses finishing together share it: a bureau inquiry, whose answer carries the report
 *   fetched after its unit; a four-eyes approval of a change applied after it; a list import that adds nothing; a
 *   checkpoint over more than one chunk of new entries); in that case, if the server stops after the
 *   commit but before the reply (the client saw no answer), a retry is told (409, committed: true) that the write
 *   happened and to read the resource (the list endpoints), rather than being allowed to write again;
 * - a 5xx is never stored: before anything committed it leaves no trace, so the client may retry; after a commit
 *   a retry finds the key (the response stored with it, or 409 committed: true);
 * - a route marked `keyReadInUnit` (draws) skips the read of the key before the handler: its unit's claim finds a key
 *   already taken (on PostgreSQL waiting, as its unique index does, for a first request still committing elsewhere;
 *   on SQLite the one writer has committed it), and any error answer of a request that wrote nothing looks the key up
 *   then, so a repeat is answered exactly as the read before would have answered it (replay, mismatch, committed) —
 *   only later, after the route's reads. A repeat costs a decision rolled back; every first request saves a read.
 * Keys are scoped by the caller's API key and the route, so two clients never collide.
 */
export const IDEMPOTENCY_HEADER = 'idempotency-key';
const KEY_PATTERN = /^[A-Za-z0-9._:-]{1,255}$/;

interface Claim {
  readonly scope: string;
  readonly key: string;
  readonly hash: string;
  /** The guarded write committed together with the key row. */
  committed: boolean;
  /** The response the unit stored with the key (UnitGuard.respond), if it said one. */
  storedWithKey?: RecordedResponse;
  /** The key row was not read before the handler (keyReadInUnit): an error answer looks it up. */
  readonly readDeferred: boolean;
}

interface PendingResponse {
  readonly scope: string;
  readonly key: string;
  readonly response: StoredResponse;
  /** Over the key row its request committed, or beside another request's (ResponsePlacement). */
  readonly placement: ResponsePlacement;
  readonly log: FastifyRequest['log'];
}

interface StoredResponse {
  readonly hash: string;
  readonly status: number;
  readonly body: string;
}

/**
 * The hash a repeat must match. Total over anything a client can send: a body with no canonical form (a non-finite
 * number, nesting past the bound) is the client's 400, never a 500 (issue 12). assertBodyShape refuses both earlier;
 * this holds for a route or parser that skips it.
 */
export function requestHash(request: FastifyRequest): string {
  let body: string;
  try {
    body = canonicalJson(request.body ?? null);
  } catch (error) {
    if (!(error instanceof CanonicalJsonError)) throw error;
    throw error.problem === 'too-deep'
      ? new LgError('LG_BODY_TOO_DEEP', 'request body nests too deeply to be hashed for idempotency')
      : new LgError('LG_VALIDATION', `request body cannot be hashed for idempotency: ${error.message}`);
  }
  return sha256Hex(`${request.method} ${request.url}\n${body}`);
}

/**
 * `onUnguarded` hears of a successful answer whose write did not commit the key with it: a handler that forgot to pass
 * its guard (the key is then recorded only with the response, so a crash in between would let a retry repeat it).
 */
export function createIdempotency(store: Store, clock: Clock, onUnguarded?: (route: string) => void) {
  const state: IdempotencyState = {
    store,
    clock,
    onUnguarded,
    claims: new WeakMap<FastifyRequest, Claim>(),
    inFlight: new Set<string>(),
    recording: new Map<string, StoredResponse>(),
    pending: new Map<string, PendingResponse>(),
    scheduledFlush: undefined,
  };
  return {
    claim: (request: FastifyRequest, reply: FastifyReply): Promise<void> => claim(state, request, reply),
    unitClaim: (request: FastifyRequest): IdempotencyClaim | undefined => unitClaim(state, request),
    record: (request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> =>
      record(state, { request, reply, payload }),
  };
}

/** One process's idempotency bookkeeping, shared by the claim, the unit's claim and the recording of responses. */
interface IdempotencyState {
  readonly store: Store;
  readonly clock: Clock;
  readonly onUnguarded: ((route: string) => void) | undefined;
  readonly claims: WeakMap<FastifyRequest, Claim>;
  readonly inFlight: Set<string>;
  // Responses whose row is still being written; answers a fast retry without waiting for that write.
  readonly recording: Map<string, StoredResponse>;
  // Responses waiting to be stored, and the flush that will store them (one per turn of the event loop).
  readonly pending: Map<string, PendingResponse>;
  scheduledFlush: Promise<boolean> | undefined;
}

const id = (scope: string, key: string) => `${scope}\n${key}`;

/** Stores the pending responses; resolves false when they could not be stored (the store is unreachable). */
async function flushResponses(state: IdempotencyState): Promise<boolean> {
  const { store, pending, recording } = state;
  state.scheduledFlush = undefined;
  const batch = [...pending];
  pending.clear();
  const now = state.clock.now();
  try {
    const rowsPlaced = (placement: ResponsePlacement) =>
      batch
        .filter(([, p]) => p.placement === placement)
        .map(([, p]) => ({
          scope: p.scope,
          idem_key: p.key,
          request_hash: p.response.hash,
          state: 'done',
          status_code: p.response.status,
          response_body: p.response.body,
          created_at: now,
        }));
    for (const placement of ['over', 'beside'] as const) {
      const rows = rowsPlaced(placement);
      // One retry: a pooled connection that just dropped is replaced by a fresh one (store/db.ts).
      await storeIdempotentResponses(store, rows, placement).catch(() =>
        storeIdempotentResponses(store, rows, placement),
      );
    }
    return true;
  } catch (error) {
    for (const [, p] of batch) p.log.error({ err: error }, 'could not record an idempotent response');
    return false;
  } finally {
    for (const [ownedId, p] of batch) if (recording.get(ownedId) === p.response) recording.delete(ownedId);
  }
}

async function claim(state: IdempotencyState, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const { store, inFlight, recording } = state;
  const header = request.headers[IDEMPOTENCY_HEADER];
  const key = Array.isArray(header) ? header[0] : header;
  if (!key)
    throw new LgError(
      'LG_IDEMPOTENCY_KEY_REQUIRED',
      'this write needs an Idempotency-Key header (1-255 of A-Z a-z 0-9 . _ : -)',
    );
  if (!KEY_PATTERN.test(key))
    throw new LgError('LG_VALIDATION', 'Idempotency-Key must be 1-255 of A-Z a-z 0-9 . _ : -');
  const scope = `${request.principal?.keyId ?? 'anonymous'} ${request.routeOptions.url ?? request.url}`;
  const hash = requestHash(request);
  // Before reading the table: a key this process is still running may have a claim row that is committed and
  // visible but not yet durable (group-commit.ts), which must not be reported as committed.
  if (inFlight.has(id(scope, key))) {
    throw new LgError(
      'LG_IDEMPOTENCY_IN_FLIGHT',
      'a request with this Idempotency-Key is still being processed; retry later',
      { idempotencyKey: key },
    );
  }
  const readDeferred = request.routeOptions.config?.keyReadInUnit === true;
  const stored = recording.get(id(scope, key)) ?? (readDeferred ? undefined : await load(store, scope, key));
  if (stored === 'committed-without-response') {
    // Written by another process, perhaps in a batch still being flushed: say "committed" only once it is durable.
    await store.sync?.durable();
    throw committedWithoutResponse(key);
  }
  if (stored) {
    if (stored.hash !== hash) throw mismatch(key);
    reply.header('idempotent-replayed', 'true');
    reply.code(stored.status).type('application/json; charset=utf-8');
    return reply.send(stored.body);
  }
  inFlight.add(id(scope, key));
  state.claims.set(request, { scope, key, hash, committed: false, readDeferred });
}

async function load(
  store: Store,
  scope: string,
  key: string,
): Promise<StoredResponse | 'committed-without-response' | undefined> {
  // The reader does not wait for the writer's open batch; a key that batch is committing is in `inFlight` (this
  // process) or loses the claim's insert race in its unit of work (another process), so reading only committed rows
  // is safe.
  const row = await loadIdempotencyRow(store, scope, key);
  if (!row) return undefined;
  if (row.state === 'done' && row.status_code !== null && row.response_body !== null) {
    return { hash: row.request_hash, status: row.status_code, body: row.response_body };
  }
  return 'committed-without-response';
}

/**
 * The claim the handler passes to its unit of work (domain/unit-guard.ts): written once, by the first unit of the
 * request that commits; another process holding the key rolls that unit back (claimedElsewhere).
 */
function unitClaim(state: IdempotencyState, request: FastifyRequest): IdempotencyClaim | undefined {
  const owned = state.claims.get(request);
  if (!owned) return undefined;
  return {
    scope: owned.scope,
    key: owned.key,
    requestHash: owned.hash,
    at: state.clock.now(),
    pending: () => !owned.committed,
    claimed: (inserted, response) => {
      if (!inserted) throw claimedElsewhere(owned.key);
      owned.committed = true;
      if (response) owned.storedWithKey = response;
    },
  };
}

async function record(
  state: IdempotencyState,
  exchange: { request: FastifyRequest; reply: FastifyReply; payload: unknown },
): Promise<unknown> {
  const { request, reply, payload } = exchange;
  const owned = state.claims.get(request);
  if (!owned) return payload;
  state.claims.delete(request);
  const ownedId = id(owned.scope, owned.key);
  state.inFlight.delete(ownedId);
  if (owned.readDeferred && !owned.committed && reply.statusCode >= 400) {
    const earlier = await answerOfEarlier(state.store, owned, reply);
    if (earlier !== undefined) return earlier;
  }
  // A 5xx is never stored. Nothing may have committed (a retry runs again), or the write committed and failed after
  // (a retry finds its key: the answer the unit stored with it, or 409 committed), and which one is known only to the
  // key row: the unit hears that it inserted the key before the COMMIT, which can still fail (a constraint checked
  // at commit, a lost connection, a failed fsync). Storing the 5xx over the key on the unit's word would replay it
  // to every retry of a write that never happened.
  if (reply.statusCode >= 500 || typeof payload !== 'string') return payload;
  if (owned.storedWithKey && answersAsStored(owned.storedWithKey, reply.statusCode, payload, request))
    return payload;
  if (reply.statusCode < 300 && !owned.committed)
    state.onUnguarded?.(request.routeOptions.url ?? request.url);
  const response: StoredResponse = { hash: owned.hash, status: reply.statusCode, body: payload };
  const placement: ResponsePlacement = owned.committed ? 'over' : 'beside';
  // A response placed beside may find the key taken and not be stored: a retry must then read what is.
  if (placement === 'over') state.recording.set(ownedId, response);
  state.pending.set(ownedId, { scope: owned.scope, key: owned.key, response, placement, log: request.log });
  // Responses finished in the same turn of the event loop are stored together: one unit, one statement per chunk.
  state.scheduledFlush ??= new Promise<boolean>((resolve) =>
    setImmediate(() => resolve(flushResponses(state))),
  );
  // Before the reply leaves: an acknowledged write must replay its response after any crash.
  if (await state.scheduledFlush) return payload;
  // The write committed but its response could not be stored: acknowledging it now would leave a retry unable to
  // replay it. Answer 503 instead; the retry is told the write committed (409, committed: true) and reads it.
  const unstored = new LgError(
    'LG_STORE_UNAVAILABLE',
    'the write may have committed but its response could not be recorded; retry with the same Idempotency-Key',
    { idempotencyKey: owned.key },
  );
  void reply.code(unstored.status).header('retry-after', String(RETRY_AFTER_SECONDS));
  return JSON.stringify(unstored.toBody());
}

/**
 * For a request whose key was not read before its handler (keyReadInUnit) and that wrote nothing: the answer the read
 * would have given if an earlier request holds the key — its response (replayed), a mismatch, or "committed" — or
 * undefined to send the request's own error (no such key, or the key row cannot be read now).
 */
async function answerOfEarlier(store: Store, owned: Claim, reply: FastifyReply): Promise<string | undefined> {
  const stored = await load(store, owned.scope, owned.key).catch(() => undefined);
  if (stored === undefined) return undefined;
  // As claim() does: a batch still being flushed (embedded SQLite) may hold the key; say "committed" once durable.
  if (stored === 'committed-without-response') await store.sync?.durable();
  reply.removeHeader('retry-after');
  if (stored === 'committed-without-response' || stored.hash !== owned.hash) {
    const error =
      stored === 'committed-without-response' ? committedWithoutResponse(owned.key) : mismatch(owned.key);
    void reply.code(error.status).type(JSON_TYPE);
    return JSON.stringify(error.toBody());
  }
  void reply.code(stored.status).type(JSON_TYPE).header('idempotent-replayed', 'true');
  return stored.body;
}

/**
 * Whether the reply is the response its unit stored with the key (nothing left to store). A difference means the
 * route's answer and what the unit said have drifted apart: the reply is stored over it (and logged), since the
 * client is about to see the reply. (A 5xx never gets here: the stored answer stays, what the write decided.)
 */
function answersAsStored(
  stored: RecordedResponse,
  status: number,
  payload: string,
  request: FastifyRequest,
): boolean {
  if (stored.status === status && stored.body === payload) return true;
  request.log.warn(
    { storedStatus: stored.status, status },
    'the reply differs from the response stored with its idempotency key; storing the reply',
  );
  return false;
}

/**
 * The guard for an idempotent route answered by exactly one unit of work, which also says the route's answer inside
 * that unit, so the response commits with the key and the write (UnitGuard.respond): serialised as the route's
 * response schema for that status would, or for a coded client error (a declined draw) as the error handler would.
 * `send` answers with the bytes the unit stored, without serialising them again. `bodyOf` is for a route that answers
 * with more than the unit's value (a four-eyes gate's pending change, wrapped as `{ pendingChange }`).
 */
export function answeringGuard<T>(
  request: FastifyRequest,
  reply: FastifyReply,
  statusOf: (value: T) => number,
  bodyOf: (value: T) => unknown = (value) => value,
): { readonly guard: UnitGuard<T> | undefined; send(value: T): FastifyReply } {
  const keyed = guardOf<T>(request);
  let last: { value: T; response: RecordedResponse } | undefined;
  const answer = { statusOf, bodyOf };
  const respond = (outcome: UnitOutcome<T>): RecordedResponse | undefined => {
    const response = responseOf(reply, outcome, answer);
    if (outcome.ok && response) last = { value: outcome.value, response };
    return response;
  };
  return {
    guard: keyed && { ...keyed, respond },
    send: (value) =>
      last?.value === value
        ? reply.code(last.response.status).type(JSON_TYPE).send(last.response.body)
        : reply.code(statusOf(value)).send(bodyOf(value)),
  };
}

const JSON_TYPE = 'application/json; charset=utf-8';

function responseOf<T>(
  reply: FastifyReply,
  outcome: UnitOutcome<T>,
  answer: { statusOf: (value: T) => number; bodyOf: (value: T) => unknown },
): RecordedResponse | undefined {
  if (outcome.ok) {
    const status = answer.statusOf(outcome.value);
    return { status, body: serializeFor(reply, status, answer.bodyOf(outcome.value)) };
  }
  // Only the coded refusals a unit commits (a declined draw is recorded): anything else is the error handler's 5xx.
  const error = outcome.error;
  if (!(error instanceof LgError) || error.status >= 500) return undefined;
  return { status: error.status, body: serializeFor(reply, error.status, error.toBody()) };
}

/** The route's serializer for the status (fast-json-stringify from its response schema), as Fastify would use it. */
function serializeFor(reply: FastifyReply, status: number, value: unknown): string {
  const serialize = reply.getSerializationFunction(String(status)) as ((v: unknown) => string) | undefined;
  return serialize ? serialize(value) : JSON.stringify(value);
}

/** Another process won the race for this key: the unit is undone rather than done twice. */
function claimedElsewhere(key: string): LgError {
  return new LgError(
    'LG_IDEMPOTENCY_IN_FLIGHT',
    'a request with this Idempotency-Key is being processed elsewhere',
    {
      idempotencyKey: key,
    },
  );
}

function committedWithoutResponse(key: string): LgError {
  return new LgError(
    'LG_IDEMPOTENCY_IN_FLIGHT',
    'the first request with this Idempotency-Key committed but its response was not recorded; read the resource instead of retrying',
    { idempotencyKey: key, committed: true },
  );
}

function mismatch(key: string): LgError {
  return new LgError(
    'LG_IDEMPOTENCY_MISMATCH',
    'this Idempotency-Key was used for a different request (method, path or body)',
    { idempotencyKey: key },
  );
}
