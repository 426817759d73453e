import { timingSafeEqual } from 'node:crypto';
import { sha256Hex } from '../domain/sha256.js';
import type { Db } from '../store/db.js';
import type { Clock } from '../domain/clock.js';
import type { IdGenerator } from '../domain/ids.js';
import type { RandomSource } from '../domain/random.js';
import { LgError } from '../domain/errors.js';
import { ROLES, type Principal, type Role } from './types.js';

/**
 * API keys are 192 random bits shown once and stored only as SHA-256: a key this long cannot be brute-forced from its
 * hash, so a slow KDF would only cost latency on every request.
 */
const KEY_PREFIX = 'lg_';

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
}

export async function createApiKey(
  db: Db,
  deps: { clock: Clock; ids: IdGenerator; random: RandomSource },
  role: string,
  label = '',
): Promise<CreatedKey> {
  if (!isRole(role)) throw new LgError('LG_VALIDATION', `unknown role ${role}; one of ${ROLES.join(', ')}`);
  const key = KEY_PREFIX + Buffer.from(deps.random.bytes(24)).toString('base64url');
  const id = deps.ids.next();
  await db
    .insertInto('api_keys')
    .values({ id, key_hash: hashApiKey(key), role, label, created_at: deps.clock.now(), revoked_at: null })
    .execute();
  return { id, key, role };
}

/** Seeds the key from LINEGUARD_ADMIN_KEY (idempotent: the same key is stored once). */
export async function ensureApiKey(
  db: Db,
  deps: { clock: Clock; ids: IdGenerator },
  key: string,
  role: Role,
): Promise<void> {
  if (key.length < 16)
    throw new LgError('LG_CONFIG_INVALID', 'LINEGUARD_ADMIN_KEY must be at least 16 characters');
  await db
    .insertInto('api_keys')
    .values({
      id: deps.ids.next(),
      key_hash: hashApiKey(key),
      role,
      label: 'LINEGUARD_ADMIN_KEY',
      created_at: deps.clock.now(),
      revoked_at: null,
    })
    .onConflict((oc) => oc.column('key_hash').doNothing())
    .execute();
}

/** Looks keys up by hash with a small cache; revocation takes effect within cacheMs. */
export function createKeyVerifier(db: Db, clock: Clock, cacheMs = 5_000) {
  const cache = new Map<string, { principal: Principal | null; at: number }>();
  return async function verify(key: string): Promise<Principal | null> {
    const hash = hashApiKey(key);
    const hit = cache.get(hash);
    if (hit && clock.now() - hit.at < cacheMs) return hit.principal;
    const row = await db
      .selectFrom('api_keys')
      .select(['id', 'role', 'key_hash', 'revoked_at'])
      .where('key_hash', '=', hash)
      .executeTakeFirst();
    const valid =
      row &&
      row.revoked_at === null &&
      timingSafeEqual(Buffer.from(row.key_hash), Buffer.from(hash)) &&
      isRole(row.role);
    const principal = valid ? { keyId: row.id, role: row.role as Role } : null;
    if (cache.size > 10_000) cache.clear();
    cache.set(hash, { principal, at: clock.now() });
    return principal;
  };
}
