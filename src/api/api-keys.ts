import type { UnitGuard } from '../domain/index.js';
import { timingSafeEqual } from 'node:crypto';
import { sha256Hex } from '../domain/index.js';
import type { Clock } from '../domain/index.js';
import type { IdGenerator } from '../domain/index.js';
import type { RandomSource } from '../domain/index.js';
import { LgError } from '../domain/index.js';
import { appendToLedger } from '../compliance/index.js';
import {
  borrowerExists,
  findBorrowerToken,
  findApiKeyById,
  findStaffKey,
  findUser,
  insertApiKey,
  insertApiKeyIfAbsent,
  insertBorrowerToken,
  insertUser,
  listUserRows,
  markUnownedKeyIssuer,
  revokeApiKeyRow,
  type Db,
  type DbTx,
  type Store,
} from '../store/index.js';
import { INSTALLATION_ISSUER } from '../cases/index.js';
import { ROLES, BORROWER, type Principal, type Role } from './types.js';

/**
 * API keys are 192 random bits shown once and stored only as SHA-256: a key this long cannot be brute-forced from its
 * hash, so a slow KDF would only cost latency on every request. Borrower tokens are the same, with their own prefix.
 */
const KEY_PREFIX = 'lg_';
const BORROWER_TOKEN_PREFIX = 'lgb_';

export function hashApiKey(key: string): string {
  return sha256Hex(key);
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

export interface CreatedKey {
  readonly id: string;
  readonly key: string;
  readonly role: Role;
  readonly userId?: string;
}

interface KeyDeps {
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly random: RandomSource;
}

function newSecret(random: RandomSource, prefix: string): string {
  return prefix + Buffer.from(random.bytes(24)).toString('base64url');
}

/** A fresh staff key (the four-eyes path stores only its hash until a second admin approves it). */
export function newApiKeySecret(random: RandomSource): string {
  return newSecret(random, KEY_PREFIX);
}

/**
 * An unowned key (a service backend, an auditor, a partner, tests); keys for people go through createUserKey. Four
 * eyes refuses a key that belongs to no person (LG_KEY_UNOWNED), so the CLI issues one only for a role that neither
 * proposes nor approves (FOUR_EYES_ROLES).
 */
export async function createApiKey(db: Db, deps: KeyDeps, role: string, label = ''): Promise<CreatedKey> {
  return insertUnownedKey(db, deps, { role, label, issuedBy: null });
}

/**
 * The key a development first start prints: the installation's own (issued by INSTALLATION_ISSUER), outside four
 * eyes as LINEGUARD_ADMIN_KEY is, until users exist and it is revoked.
 */
export async function createInstallationKey(db: Db, deps: KeyDeps, label: string): Promise<CreatedKey> {
  return insertUnownedKey(db, deps, { role: 'admin', label, issuedBy: INSTALLATION_ISSUER });
}

async function insertUnownedKey(
  db: Db,
  deps: KeyDeps,
  input: { role: string; label: string; issuedBy: string | null },
): Promise<CreatedKey> {
  const { role } = input;
  if (!isRole(role)) throw new LgError('LG_VALIDATION', `unknown role ${role}; one of ${ROLES.join(', ')}`);
  const key = newSecret(deps.random, KEY_PREFIX);
  const id = deps.ids.next();
  await insertApiKey(db, {
    id,
    key_hash: hashApiKey(key),
    role,
    label: input.label,
    created_at: deps.clock.now(),
    revoked_at: null,
    issued_by: input.issuedBy,
  });
  return { id, key, role };
}

/**
 * Seeds the key from LINEGUARD_ADMIN_KEY (idempotent: the same key is stored once), as the installation's own key:
 * one stored before issuers were recorded is marked so at the next start.
 */
export async function ensureApiKey(
  db: Db,
  deps: { clock: Clock; ids: IdGenerator },
  key: string,
  role: Role,
): Promise<void> {
  if (key.length < 16)
    throw new LgError('LG_CONFIG_INVALID', 'LINEGUARD_ADMIN_KEY must be at least 16 characters');
  const keyHash = hashApiKey(key);
  await insertApiKeyIfAbsent(db, {
    id: deps.ids.next(),
    key_hash: keyHash,
    role,
    label: 'LINEGUARD_ADMIN_KEY',
    created_at: deps.clock.now(),
    revoked_at: null,
    issued_by: INSTALLATION_ISSUER,
  });
  await markUnownedKeyIssuer(db, keyHash, INSTALLATION_ISSUER);
}

export interface UserView {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  readonly createdAt: string;
  readonly disabled: boolean;
}

/** A person with a role (issue 11): every key they hold carries that role, and every step they take names them. */
export async function createUser(
  store: Store,
  deps: { clock: Clock; ids: IdGenerator },
  input: { name: string; role: string; actor: string },
  guard?: UnitGuard<UserView>,
): Promise<UserView> {
  if (!isRole(input.role))
    throw new LgError('LG_VALIDATION', `unknown role ${input.role}; one of ${ROLES.join(', ')}`);
  const name = input.name.trim();
  if (name.length === 0 || name.length > 100)
    throw new LgError('LG_VALIDATION', 'a user needs a name of 1-100 characters');
  const id = deps.ids.next();
  const now = deps.clock.now();
  const view: UserView = {
    id,
    name,
    role: input.role,
    createdAt: new Date(now).toISOString(),
    disabled: false,
  };
  // The unit's value is the answer, so that a guard that says the response stores it with the key.
  return store.transaction(async (tx) => {
    await insertUser(tx, {
      id,
      name,
      role: input.role,
      created_at: now,
      created_by: input.actor,
      disabled_at: null,
    });
    await appendToLedger(tx, [
      {
        entryId: deps.ids.next(),
        kind: 'user.created',
        subjectId: id,
        recordedAt: now,
        // Who was given which power, and by whom; not the person's name. An entry is read by every staff role (its
        // proof) and can never be erased, where the user list is the admin's and the auditor's and can be corrected.
        payload: { userId: id, role: input.role, by: input.actor },
      },
    ]);
    return view;
  }, guard);
}

export async function listUsers(db: Db): Promise<UserView[]> {
  const rows = await listUserRows(db, 1000);
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    role: r.role as Role,
    createdAt: new Date(Number(r.created_at)).toISOString(),
    disabled: r.disabled_at !== null,
  }));
}

/**
 * A key that belongs to a person and carries the person's role; creation is a ledger entry. The actor who asks for it
 * is shown its secret, so it is recorded as the key's issuer (issued_by): four eyes counts them among those who could
 * have acted with the key (src/cases/four-eyes.ts).
 */
export async function createUserKey(
  store: Store,
  deps: KeyDeps,
  input: { userId: string; label?: string; actor: string },
): Promise<CreatedKey> {
  const key = newSecret(deps.random, KEY_PREFIX);
  const id = deps.ids.next();
  const role = await store.transaction(async (tx) =>
    insertUserKey(tx, deps, { ...input, id, keyHash: hashApiKey(key) }),
  );
  return { id, key, role, userId: input.userId };
}

/**
 * Inserts a user's key issued by `actor`, with its ledger entry, in the caller's dbTx; answers the key's role.
 * `issuedWithKeyId`: the key a user's own key was made with (rotateOwnKey).
 */
async function insertUserKey(
  tx: DbTx,
  deps: KeyDeps,
  input: {
    id: string;
    keyHash: string;
    userId: string;
    label?: string;
    actor: string;
    issuedWithKeyId?: string;
  },
): Promise<Role> {
  const now = deps.clock.now();
  const user = await findUser(tx, input.userId);
  if (!user || user.disabled_at !== null)
    throw new LgError('LG_NOT_FOUND', `no active user ${input.userId}`, { userId: input.userId });
  if (!isRole(user.role)) throw new Error(`user ${user.id} has an unknown role`);
  const label = input.label ?? '';
  await insertApiKey(tx, {
    id: input.id,
    key_hash: input.keyHash,
    role: user.role,
    label,
    created_at: now,
    revoked_at: null,
    user_id: user.id,
    issued_by: input.actor,
    issued_with_key_id: input.issuedWithKeyId ?? null,
  });
  const madeWith = input.issuedWithKeyId === undefined ? {} : { issuedWithKeyId: input.issuedWithKeyId };
  await appendToLedger(tx, [
    {
      entryId: deps.ids.next(),
      kind: 'api_key.created',
      subjectId: input.id,
      recordedAt: now,
      payload: { keyId: input.id, userId: user.id, role: user.role, label, by: input.actor, ...madeWith },
    },
  ]);
  return user.role;
}

/**
 * A person issues themselves a new key with a key they hold (`withKeyId`, the request's), optionally revoking one of
 * their own keys in the same dbTx. issued_by is themselves, and issued_with_key_id the key it was made with: whoever
 * was shown that key's secret (an admin who issued it) could have made this one, so four eyes follows the chain
 * (src/cases/four-eyes.ts). A user whose key an admin issued rotates it and is then independent of another maker, but
 * never of that admin. Only a key that belongs to a user can do this.
 */
export async function rotateOwnKey(
  store: Store,
  deps: KeyDeps,
  input: { userId: string; withKeyId: string; label?: string; revokeKeyId?: string },
): Promise<CreatedKey & { revokedKeyId?: string }> {
  const actor = `user:${input.userId}`;
  const key = newSecret(deps.random, KEY_PREFIX);
  const id = deps.ids.next();
  const role = await store.transaction(async (tx) => {
    const issued = await insertUserKey(tx, deps, {
      ...input,
      actor,
      id,
      keyHash: hashApiKey(key),
      issuedWithKeyId: input.withKeyId,
    });
    if (input.revokeKeyId !== undefined) await revokeOwnKey(tx, deps, { ...input, actor });
    return issued;
  });
  return {
    id,
    key,
    role,
    userId: input.userId,
    ...(input.revokeKeyId === undefined ? {} : { revokedKeyId: input.revokeKeyId }),
  };
}

/** Revokes one of the user's own keys in the caller's dbTx; another user's key is not found (never revealed). */
async function revokeOwnKey(
  tx: DbTx,
  deps: { clock: Clock; ids: IdGenerator },
  input: { userId: string; revokeKeyId?: string; actor: string },
): Promise<void> {
  const keyId = input.revokeKeyId ?? '';
  const row = await findApiKeyById(tx, keyId);
  if (!row || row.user_id !== input.userId)
    throw new LgError('LG_NOT_FOUND', `you hold no API key ${keyId}`, { keyId });
  await revokeInTx(tx, deps, { keyId, actor: input.actor });
}

/** Revokes a key: every instance refuses it within KEY_CACHE_MS (the verifier's staleness bound). */
export async function revokeApiKey(
  store: Store,
  deps: { clock: Clock; ids: IdGenerator },
  input: { keyId: string; actor: string },
): Promise<{ keyId: string; revokedAt: string }> {
  const now = await store.transaction(async (tx) => revokeInTx(tx, deps, input));
  return { keyId: input.keyId, revokedAt: new Date(now).toISOString() };
}

/** Revokes a key with its ledger entry in the caller's dbTx; answers the time of the revocation. */
async function revokeInTx(
  tx: DbTx,
  deps: { clock: Clock; ids: IdGenerator },
  input: { keyId: string; actor: string },
): Promise<number> {
  const now = deps.clock.now();
  const revoked = await revokeApiKeyRow(tx, input.keyId, now);
  if (revoked === 'absent')
    throw new LgError('LG_NOT_FOUND', `no API key ${input.keyId}`, { keyId: input.keyId });
  if (revoked === 'already-revoked')
    throw new LgError('LG_CONFLICT', 'the key is already revoked', { keyId: input.keyId });
  await appendToLedger(tx, [
    {
      entryId: deps.ids.next(),
      kind: 'api_key.revoked',
      subjectId: input.keyId,
      recordedAt: now,
      payload: { keyId: input.keyId, by: input.actor },
    },
  ]);
  return now;
}

/** Borrower tokens live 15 minutes by default, an hour at most: long enough for an app session, short if leaked. */
export const BORROWER_TOKEN_TTL_MS_DEFAULT = 15 * 60_000;
export const BORROWER_TOKEN_TTL_MS_MAX = 60 * 60_000;

export async function mintBorrowerToken(
  store: Store,
  deps: KeyDeps,
  input: { borrowerId: string; ttlMs?: number; actor: string },
): Promise<{ token: string; tokenId: string; borrowerId: string; expiresAt: string }> {
  const ttl = Math.min(input.ttlMs ?? BORROWER_TOKEN_TTL_MS_DEFAULT, BORROWER_TOKEN_TTL_MS_MAX);
  const token = newSecret(deps.random, BORROWER_TOKEN_PREFIX);
  const id = deps.ids.next();
  const now = deps.clock.now();
  await store.transaction(async (tx) => {
    if (!(await borrowerExists(tx, input.borrowerId)))
      throw new LgError('LG_NOT_FOUND', `no borrower ${input.borrowerId}`);
    await insertBorrowerToken(tx, {
      id,
      token_hash: hashApiKey(token),
      borrower_id: input.borrowerId,
      created_by: input.actor,
      created_at: now,
      expires_at: now + ttl,
      revoked_at: null,
    });
  });
  return { token, tokenId: id, borrowerId: input.borrowerId, expiresAt: new Date(now + ttl).toISOString() };
}

/**
 * How stale a cached verdict may be. Revocation must reach every instance within one second (issue 11), and each
 * instance reads the shared store at least this often per key, so a revoked key stops working within this bound.
 */
export const KEY_CACHE_MS = 500;
const KEY_CACHE_ENTRIES_MAX = 10_000;

interface CachedVerdict {
  readonly principal: Principal | null;
  readonly at: number;
  /** Borrower tokens expire on their own; a cached verdict never outlives the token. */
  readonly expiresAt?: number;
}

/** Looks keys and borrower tokens up by hash with a cache whose staleness is bounded by cacheMs (≤ 1 s). */
export function createKeyVerifier(db: Db, clock: Clock, cacheMs = KEY_CACHE_MS) {
  const boundMs = Math.min(cacheMs, 1_000);
  const cache = new Map<string, CachedVerdict>();
  return async function verify(key: string): Promise<Principal | null> {
    const hash = hashApiKey(key);
    const now = clock.now();
    const hit = cache.get(hash);
    if (hit && now - hit.at < boundMs && (hit.expiresAt === undefined || now < hit.expiresAt))
      return hit.principal;
    const verdict = key.startsWith(BORROWER_TOKEN_PREFIX)
      ? await verifyBorrowerToken(db, hash, now)
      : { principal: await verifyStaffKey(db, hash), at: now };
    if (cache.size >= KEY_CACHE_ENTRIES_MAX) cache.clear();
    cache.set(hash, verdict);
    return verdict.principal;
  };
}

function sameHash(stored: string, hash: string): boolean {
  return timingSafeEqual(Buffer.from(stored), Buffer.from(hash));
}

async function verifyStaffKey(db: Db, hash: string): Promise<Principal | null> {
  const row = await findStaffKey(db, hash);
  if (!row || row.revoked_at !== null || row.disabled_at != null) return null;
  if (!sameHash(row.key_hash, hash) || !isRole(row.role)) return null;
  return row.user_id
    ? { keyId: row.id, role: row.role, userId: row.user_id, actor: `user:${row.user_id}` }
    : { keyId: row.id, role: row.role, actor: `key:${row.id}` };
}

async function verifyBorrowerToken(db: Db, hash: string, now: number): Promise<CachedVerdict> {
  const row = await findBorrowerToken(db, hash);
  if (!row || row.revoked_at !== null || Number(row.expires_at) <= now || !sameHash(row.token_hash, hash))
    return { principal: null, at: now };
  return {
    principal: {
      keyId: row.id,
      role: BORROWER,
      borrowerId: row.borrower_id,
      actor: `borrower:${row.borrower_id}`,
    },
    at: now,
    expiresAt: Number(row.expires_at),
  };
}
