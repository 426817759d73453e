import { sha256Hex } from '../domain/index.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CanonicalJsonError, canonicalJson } from '../domain/index.js';
import { LgError } from '../domain/index.js';
import type { Clock, RecordedResponse, UnitGuard, UnitOutcome } from '../domain/index.js';
import {
  RETRY_AFTER_SECONDS,
  idempotencyRowsWithHashPrefix,
  loadIdempotencyRow,
  resealIdempotencyRows,
  storeIdempotentResponses,
  type IdempotencyRow,
  type KeyRowCursor,
  type KeyRowReseal,
  type ResponsePlacement,
  type Store,
} from '../store/index.js';
import type { IdempotencyClaim } from '../core/index.js';
import { FieldCryptoError, SEALED_PREFIX, isSealedValue, type FieldCrypto } from '../compliance/index.js';
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
 * A route marked `personalData` keeps its key row's request hash and response body sealed (RowForm below).
 */
export const IDEMPOTENCY_HEADER = 'idempotency-key';
const KEY_PATTERN = /^[A-Za-z0-9._:-]{1,255}$/;

interface Claim {
  readonly scope: string;
  readonly key: string;
  readonly hash: string;
  /** How the key row keeps the hash and the response (sealed for a route with personal data). */
  readonly form: RowForm;
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
  readonly form: RowForm;
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
 * How a key row keeps its request's hash and its response's body. A route whose request or answer carries personal
 * data (`personalData`) keeps both sealed with the field crypto, as LineGuard keeps personal data everywhere else
 * (PIPL Art. 51): the body, so a dump of the table holds no credit report, name, ID or account; the hash, because an
 * unkeyed SHA-256 over a body that holds a national ID confirms a guessed ID (PCI DSS 3.5.1.1). Each is bound to its
 * column and its key row (associated data): a sealed answer copied to another key fails to open and is never replayed
 * to another client. Every other route keeps both as they are, so the draw path pays nothing for it.
 */
interface RowForm {
  readonly sealed: boolean;
  hash(hash: string): string;
  body(body: string): string;
}

const CLEAR_FORM: RowForm = { sealed: false, hash: (hash) => hash, body: (body) => body };

type KeyRowColumn = 'request_hash' | 'response_body';

/** The associated data of a sealed key-row value: its column and its key row. */
const aadOf = (column: KeyRowColumn, scope: string, key: string) =>
  `idempotency_keys.${column}\n${scope}\n${key}`;

function sealedForm(crypto: FieldCrypto, scope: string, key: string): RowForm {
  return {
    sealed: true,
    hash: (hash) => crypto.encrypt(hash, aadOf('request_hash', scope, key)),
    body: (body) => crypto.encrypt(body, aadOf('response_body', scope, key)),
  };
}

/** A key-row value as it was written: opened when sealed (any key the crypto holds), else as it is (a clear row). */
function opened(crypto: FieldCrypto | undefined, value: string, at: Parameters<typeof aadOf>): string {
  if (!isSealedValue(value)) return value;
  if (!crypto) throw new FieldCryptoError('a sealed idempotency record needs the field crypto to open');
  return crypto.decrypt(value, aadOf(...at));
}

export interface IdempotencyOptions {
  /**
   * Seals and opens the key rows of routes with personal data; every such route needs it (the server refuses to
   * register one without it).
   */
  readonly crypto?: FieldCrypto;
  /**
   * Hears of a successful answer whose write did not commit the key with it: a handler that forgot to pass its guard
   * (the key is then recorded only with the response, so a crash in between would let a retry repeat it).
   */
  readonly onUnguarded?: (route: string) => void;
}

export function createIdempotency(store: Store, clock: Clock, options: IdempotencyOptions = {}) {
  const state: IdempotencyState = {
    store,
    clock,
    crypto: options.crypto,
    onUnguarded: options.onUnguarded,
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
  readonly crypto: FieldCrypto | undefined;
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
          request_hash: p.form.hash(p.response.hash),
          state: 'done',
          status_code: p.response.status,
          response_body: p.form.body(p.response.body),
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
  const form = request.routeOptions.config?.personalData
    ? sealedForm(needCrypto(state), scope, key)
    : CLEAR_FORM;
  // Before reading the table: a key this process is still running may have a claim row that is committed and
  // visible but not yet durable (group-commit.ts), which must not be reported as committed.
  const claimId = id(scope, key);
  if (inFlight.has(claimId)) {
    throw new LgError(
      'LG_IDEMPOTENCY_IN_FLIGHT',
      'a request with this Idempotency-Key is still being processed; retry later',
      { idempotencyKey: key },
    );
  }
  // Taken before the read is awaited: a second request with the key arriving meanwhile (a double tap) meets it in
  // flight, rather than finding no row too and doing what the first does before its unit (an application's hard
  // credit pull commits in its own unit, before the application's takes the key).
  inFlight.add(claimId);
  let claimed = false;
  try {
    const readDeferred = request.routeOptions.config?.keyReadInUnit === true;
    const stored =
      recording.get(claimId) ?? (readDeferred ? undefined : await load(state, { scope, key }, request.log));
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
    state.claims.set(request, { scope, key, hash, form, committed: false, readDeferred });
    claimed = true;
  } finally {
    if (!claimed) inFlight.delete(claimId);
  }
}

function needCrypto(state: IdempotencyState): FieldCrypto {
  if (!state.crypto)
    throw new Error('a route with personal data needs the field crypto (ServerOptions.crypto)');
  return state.crypto;
}

async function load(
  state: IdempotencyState,
  at: KeyRowCursor,
  log: FastifyRequest['log'],
): Promise<StoredResponse | 'committed-without-response' | undefined> {
  // The reader does not wait for the writer's open batch; a key that batch is committing is in `inFlight` (this
  // process) or loses the claim's insert race in its unit of work (another process), so reading only committed rows
  // is safe.
  const row = await loadIdempotencyRow(state.store, at.scope, at.key);
  if (!row) return undefined;
  let record: { hash: string; body: string | null };
  try {
    record = openIdempotencyRecord(state.crypto, row);
  } catch (error) {
    if (!(error instanceof FieldCryptoError)) throw error;
    // Sealed under a key no longer held, or altered (moved from another key row): the key is taken, so its write
    // committed, but its answer cannot be replayed; the client is told to read the resource, as when none was stored.
    log.error({ err: error, idempotencyKey: at.key }, 'a sealed idempotency record cannot be opened');
    return 'committed-without-response';
  }
  if (row.state === 'done' && row.status_code !== null && record.body !== null) {
    return { hash: record.hash, status: row.status_code, body: record.body };
  }
  return 'committed-without-response';
}

/**
 * A key row's request hash and response body as they were said: opened where sealed (with any key `crypto` holds), as
 * they are where clear. Throws FieldCryptoError when a sealed one cannot be opened.
 */
export function openIdempotencyRecord(
  crypto: FieldCrypto | undefined,
  row: IdempotencyRow,
): { hash: string; body: string | null } {
  const { scope, idem_key: key } = row;
  return {
    hash: opened(crypto, row.request_hash, ['request_hash', scope, key]),
    body:
      row.response_body === null ? null : opened(crypto, row.response_body, ['response_body', scope, key]),
  };
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
    requestHash: owned.form.hash(owned.hash),
    ...(owned.form.sealed ? { storedBody: owned.form.body } : {}),
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
    const earlier = await answerOfEarlier(state, owned, { reply, log: request.log });
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
  state.pending.set(ownedId, {
    scope: owned.scope,
    key: owned.key,
    response,
    placement,
    form: owned.form,
    log: request.log,
  });
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
async function answerOfEarlier(
  state: IdempotencyState,
  owned: Claim,
  exchange: { reply: FastifyReply; log: FastifyRequest['log'] },
): Promise<string | undefined> {
  const { reply, log } = exchange;
  const stored = await load(state, owned, log).catch(() => undefined);
  if (stored === undefined) return undefined;
  // As claim() does: a batch still being flushed (embedded SQLite) may hold the key; say "committed" once durable.
  if (stored === 'committed-without-response') await state.store.sync?.durable();
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

export interface IdempotencyResealResult {
  /** The key the records are sealed under now. */
  readonly keyId: string;
  readonly recordsChecked: number;
  readonly recordsResealed: number;
  /**
   * Records no key held opens (altered, or sealed under a key already dropped): left as they are. A retry of one is
   * told its write committed (409), as it was before the run.
   */
  readonly recordsUnopenable: number;
}

/**
 * Key rotation for the sealed key rows (routes with personal data): every hash and body a retired key sealed is opened
 * and sealed again under the current key, a page per transaction, each row only if it still holds what was read. Run
 * it with the old key still among the retired ones (`lineguard keys rotate-data`), then drop it. Safe to stop and run
 * again: a row already under the current key is left as it is.
 */
export async function resealIdempotencyRecords(
  store: Store,
  crypto: FieldCrypto,
  pageSize = 500,
): Promise<IdempotencyResealResult> {
  let after: KeyRowCursor | undefined;
  let checked = 0;
  let resealed = 0;
  let unopenable = 0;
  for (;;) {
    const page = await idempotencyRowsWithHashPrefix(store, SEALED_PREFIX, { after, limit: pageSize });
    const last = page.at(-1);
    if (!last) break;
    after = { scope: last.scope, key: last.idem_key };
    checked += page.length;
    const reseals: KeyRowReseal[] = [];
    for (const row of page) {
      if (!sealedByRetiredKey(crypto, row.request_hash) && !sealedByRetiredKey(crypto, row.response_body))
        continue;
      const reseal = resealOf(crypto, row);
      if (reseal) reseals.push(reseal);
      else unopenable += 1;
    }
    resealed += await resealIdempotencyRows(store, reseals);
  }
  return {
    keyId: crypto.currentKeyId,
    recordsChecked: checked,
    recordsResealed: resealed,
    recordsUnopenable: unopenable,
  };
}

/** Sealed under a retired key, or malformed (re-sealing it then fails, and it is counted as unopenable). */
function sealedByRetiredKey(crypto: FieldCrypto, value: string | null): boolean {
  if (value === null || !isSealedValue(value)) return false;
  try {
    return crypto.needsRotation(value);
  } catch (error) {
    if (error instanceof FieldCryptoError) return true;
    throw error;
  }
}

/**
 * The row's sealed values opened and sealed again under the current key (clear ones as they are), or undefined when
 * one cannot be opened.
 */
function resealOf(crypto: FieldCrypto, row: IdempotencyRow): KeyRowReseal | undefined {
  const { scope, idem_key: key } = row;
  const again = (value: string, column: KeyRowColumn): string => {
    if (!isSealedValue(value)) return value;
    const aad = aadOf(column, scope, key);
    return crypto.encrypt(crypto.decrypt(value, aad), aad);
  };
  try {
    return {
      scope,
      key,
      read: { request_hash: row.request_hash, response_body: row.response_body },
      sealed: {
        request_hash: again(row.request_hash, 'request_hash'),
        response_body: row.response_body === null ? null : again(row.response_body, 'response_body'),
      },
    };
  } catch (error) {
    if (error instanceof FieldCryptoError) return undefined;
    throw error;
  }
}
