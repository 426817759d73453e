import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { sha256Hex } from '../domain/sha256.js';
import type { Clock } from '../domain/clock.js';
import { LgError } from '../domain/errors.js';
import type { IdGenerator } from '../domain/ids.js';
import type { Db, Store } from '../store/db.js';
import { insertRows } from '../store/shaped.js';

const INSERT_CHUNK_ROWS = 500;

/**
 * Black, grey and white lists (名单库, domain.md §4.1.3): per entity type, each entry with reason, source, expiry and who
 * added it. Entries are exchanged with partner institutions as keyed hashes (HMAC-SHA256 under a sharing key agreed
 * with the partner), so no raw identifier leaves (PIPL Art. 38/51: share the minimum, protect it in transit).
 */
export const LIST_KINDS = ['black', 'grey', 'white'] as const;
export type ListKind = (typeof LIST_KINDS)[number];
export const LIST_ENTITY_TYPES = ['user', 'nationalIdHash', 'device', 'ip', 'payee', 'merchant'] as const;
export type ListEntityType = (typeof LIST_ENTITY_TYPES)[number];

export interface ListEntry {
  readonly entryId: string;
  readonly list: ListKind;
  readonly entityType: ListEntityType;
  /** The raw value for our own entries; absent for entries a partner shared (we only hold their HMAC). */
  readonly value?: string;
  readonly partnerId?: string;
  readonly reason: string;
  readonly source: string;
  readonly addedBy: string;
  readonly addedAt: number;
  readonly expiresAt?: number;
}

export interface ListHit {
  readonly list: ListKind;
  readonly entityType: ListEntityType;
  readonly entryId: string;
  readonly reason: string;
  readonly source: string;
}

export interface NewListEntry {
  readonly list: ListKind;
  readonly entityType: ListEntityType;
  readonly value: string;
  readonly reason: string;
  readonly source: string;
  readonly addedBy: string;
  readonly expiresAt?: number;
}

/** What one institution sends another: keyed hashes, never values. */
export interface SharedListExport {
  readonly partnerId: string;
  readonly algorithm: 'HMAC-SHA256';
  /** First 16 hex of SHA-256(key): both sides can check they hold the same key without revealing it. */
  readonly keyFingerprint: string;
  readonly entries: readonly {
    readonly list: ListKind;
    readonly entityType: ListEntityType;
    readonly hmac: string;
    readonly reason: string;
    readonly source: string;
    readonly expiresAt?: number;
  }[];
}

export interface ListQuery {
  readonly list?: ListKind;
  readonly entityType?: ListEntityType;
  readonly includeExpired?: boolean;
  readonly limit?: number;
  readonly after?: string;
}

const SHARING_KEY_BYTES_MIN = 32;

export function normaliseListValue(entityType: ListEntityType, value: string): string {
  const trimmed = value.trim();
  return entityType === 'nationalIdHash' || entityType === 'ip' ? trimmed.toLowerCase() : trimmed;
}

export function sharedHmac(key: Buffer, entityType: ListEntityType, value: string): string {
  return createHmac('sha256', key)
    .update(`${entityType}\u0000${normaliseListValue(entityType, value)}`)
    .digest('hex');
}

export function keyFingerprint(key: Buffer): string {
  return sha256Hex(key).slice(0, 16);
}

export class ListService {
  private readonly index = new Map<string, ListEntry[]>();
  private readonly partnerKeys = new Map<string, Buffer>();
  private readonly sealKey: Buffer;
  /** Seal keys of retired master keys: they still open partner keys sealed before a rotation. */
  private readonly retiredSealKeys: readonly Buffer[];

  /** Reads; every write goes through store.transaction, so an idempotent request's key commits with it. */
  private readonly db: Db;

  constructor(
    private readonly store: Store,
    private readonly deps: {
      readonly clock: Clock;
      readonly ids: IdGenerator;
      readonly masterKey: Buffer;
      readonly retiredMasterKeys?: readonly Buffer[];
    },
  ) {
    this.db = store.db;
    this.sealKey = sealKeyOf(deps.masterKey);
    this.retiredSealKeys = (deps.retiredMasterKeys ?? []).map(sealKeyOf);
  }

  /**
   * Key rotation: re-seals under the current master key every partner key a retired one sealed. Returns how many
   * were re-sealed.
   */
  async resealPartnerKeys(): Promise<number> {
    let resealed = 0;
    for (const row of await this.db.selectFrom('monitor_sharing_keys').selectAll().execute()) {
      if (openSealed(this.sealKey, row.key_sealed) !== undefined) continue;
      // Compare-and-set: a partner key replaced meanwhile (or re-sealed by another run) is left as it is.
      const updated = await this.store.transaction((tx) =>
        tx
          .updateTable('monitor_sharing_keys')
          .set({ key_sealed: this.seal(this.unseal(row.key_sealed)) })
          .where('partner_id', '=', row.partner_id)
          .where('key_sealed', '=', row.key_sealed)
          .executeTakeFirst(),
      );
      resealed += Number(updated.numUpdatedRows);
    }
    return resealed;
  }

  /**
   * Loads live entries and partner keys into memory (start-up; lists are small next to events). Also re-run
   * periodically in fleet mode to pick up entries other processes added or removed: the rows are read first and the
   * index is swapped in one step, so a check never sees a half-loaded (or empty) index.
   */
  async load(): Promise<void> {
    const rows = await this.db
      .selectFrom('monitor_list_entries')
      .selectAll()
      .where('removed_at', 'is', null)
      .execute();
    this.index.clear();
    for (const row of rows) this.indexEntry(rowToEntry(row), row.match_key);
    for (const row of await this.db.selectFrom('monitor_sharing_keys').selectAll().execute()) {
      this.partnerKeys.set(row.partner_id, this.unseal(row.key_sealed));
    }
  }

  async add(input: NewListEntry): Promise<ListEntry> {
    const value = normaliseListValue(input.entityType, input.value);
    if (value === '') throw new LgError('LG_VALIDATION', 'value must not be empty');
    const entry: ListEntry = {
      entryId: this.deps.ids.next(),
      ...input,
      value,
      addedAt: this.deps.clock.now(),
    };
    await this.insert([{ entry, matchKey: `raw:${value}` }]);
    return entry;
  }

  async remove(entryId: string): Promise<void> {
    const updated = await this.store.transaction((tx) =>
      tx
        .updateTable('monitor_list_entries')
        .set({ removed_at: this.deps.clock.now() })
        .where('entry_id', '=', entryId)
        .where('removed_at', 'is', null)
        .executeTakeFirst(),
    );
    if (Number(updated.numUpdatedRows) === 0)
      throw new LgError('LG_NOT_FOUND', `no live list entry ${entryId}`);
    for (const [key, entries] of this.index) {
      const kept = entries.filter((e) => e.entryId !== entryId);
      if (kept.length === 0) this.index.delete(key);
      else this.index.set(key, kept);
    }
  }

  async query(q: ListQuery): Promise<ListEntry[]> {
    let query = this.db.selectFrom('monitor_list_entries').selectAll().where('removed_at', 'is', null);
    if (q.list) query = query.where('list_kind', '=', q.list);
    if (q.entityType) query = query.where('entity_type', '=', q.entityType);
    if (q.after) query = query.where('entry_id', '>', q.after);
    if (!q.includeExpired) {
      const now = this.deps.clock.now();
      query = query.where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]));
    }
    const rows = await query
      .orderBy('entry_id')
      .limit(Math.min(q.limit ?? 100, 1000))
      .execute();
    return rows.map(rowToEntry);
  }

  /** Live entries matching a value at `at`: our own by value, partners' by HMAC under each partner's key. */
  check(entityType: ListEntityType, value: string, at: number): ListHit[] {
    if (this.index.size === 0) return [];
    const normal = normaliseListValue(entityType, value);
    const keys = [`raw:${normal}`];
    for (const [partnerId, key] of this.partnerKeys)
      keys.push(`hmac:${partnerId}:${sharedHmac(key, entityType, normal)}`);
    const hits: ListHit[] = [];
    for (const matchKey of keys) {
      for (const e of this.index.get(indexKey(entityType, matchKey)) ?? []) {
        if (e.expiresAt !== undefined && e.expiresAt <= at) continue;
        hits.push({ list: e.list, entityType, entryId: e.entryId, reason: e.reason, source: e.source });
      }
    }
    return hits;
  }

  /** Stores the key agreed with a partner, sealed under the master key (AES-256-GCM). */
  async setPartnerKey(
    partnerId: string,
    key: Buffer,
  ): Promise<{ partnerId: string; keyFingerprint: string }> {
    if (key.length < SHARING_KEY_BYTES_MIN)
      throw new LgError('LG_VALIDATION', `a sharing key needs at least ${SHARING_KEY_BYTES_MIN} bytes`);
    const row = {
      partner_id: partnerId,
      key_sealed: this.seal(key),
      fingerprint: keyFingerprint(key),
      created_at: this.deps.clock.now(),
    };
    await this.store.transaction((tx) =>
      tx
        .insertInto('monitor_sharing_keys')
        .values(row)
        .onConflict((oc) =>
          oc.column('partner_id').doUpdateSet({
            key_sealed: row.key_sealed,
            fingerprint: row.fingerprint,
            created_at: row.created_at,
          }),
        )
        .execute(),
    );
    this.partnerKeys.set(partnerId, key);
    return { partnerId, keyFingerprint: row.fingerprint };
  }

  /** Our own live entries as HMACs under the partner's key. */
  async exportFor(
    partnerId: string,
    filter: { list?: ListKind; entityType?: ListEntityType } = {},
  ): Promise<SharedListExport> {
    const key = this.keyOf(partnerId);
    const entries = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.query({ ...filter, after, limit: 1000 });
      for (const e of page) {
        if (e.value === undefined) continue; // never re-share what a partner shared with us
        entries.push({
          list: e.list,
          entityType: e.entityType,
          hmac: sharedHmac(key, e.entityType, e.value),
          reason: e.reason,
          source: e.source,
          ...(e.expiresAt === undefined ? {} : { expiresAt: e.expiresAt }),
        });
      }
      if (page.length < 1000) break;
      after = page[page.length - 1]?.entryId;
    }
    return { partnerId, algorithm: 'HMAC-SHA256', keyFingerprint: keyFingerprint(key), entries };
  }

  async importFrom(
    shared: SharedListExport,
    addedBy: string,
  ): Promise<{ imported: number; skipped: number }> {
    const key = this.keyOf(shared.partnerId);
    if (shared.keyFingerprint !== keyFingerprint(key)) {
      throw new LgError(
        'LG_VALIDATION',
        `key fingerprint ${shared.keyFingerprint} does not match the key agreed with ${shared.partnerId}`,
      );
    }
    const fresh: { entry: ListEntry; matchKey: string }[] = [];
    let skipped = 0;
    for (const e of shared.entries) {
      const matchKey = `hmac:${shared.partnerId}:${e.hmac.toLowerCase()}`;
      const known = (key: string) => fresh.some((f) => f.matchKey === key && f.entry.list === e.list);
      if (
        (this.index.get(indexKey(e.entityType, matchKey)) ?? []).some((x) => x.list === e.list) ||
        known(matchKey)
      ) {
        skipped += 1;
        continue;
      }
      const entry: ListEntry = {
        entryId: this.deps.ids.next(),
        list: e.list,
        entityType: e.entityType,
        partnerId: shared.partnerId,
        reason: e.reason,
        source: `partner:${shared.partnerId}/${e.source}`,
        addedBy,
        addedAt: this.deps.clock.now(),
        ...(e.expiresAt === undefined ? {} : { expiresAt: e.expiresAt }),
      };
      fresh.push({ entry, matchKey });
    }
    // One transaction: an import lands whole or not at all.
    await this.insert(fresh);
    return { imported: fresh.length, skipped };
  }

  private keyOf(partnerId: string): Buffer {
    const key = this.partnerKeys.get(partnerId);
    if (!key)
      throw new LgError('LG_NOT_FOUND', `no sharing key agreed with partner ${partnerId}; set one first`);
    return key;
  }

  private async insert(entries: readonly { entry: ListEntry; matchKey: string }[]): Promise<void> {
    if (entries.length === 0) return;
    const rows = entries.map(({ entry, matchKey }) => ({
      entry_id: entry.entryId,
      list_kind: entry.list,
      entity_type: entry.entityType,
      match_key: matchKey,
      reason: entry.reason,
      source: entry.source,
      added_by: entry.addedBy,
      added_at: entry.addedAt,
      expires_at: entry.expiresAt ?? null,
      removed_at: null,
    }));
    await this.store.transaction(async (tx) => {
      // Chunks keep each statement far below both stores' bound-parameter limits (10 a row).
      for (let i = 0; i < rows.length; i += INSERT_CHUNK_ROWS)
        await insertRows(tx, 'monitor_list_entries', rows.slice(i, i + INSERT_CHUNK_ROWS));
    });
    for (const { entry, matchKey } of entries) this.indexEntry(entry, matchKey);
  }

  private indexEntry(entry: ListEntry, matchKey: string): void {
    const key = indexKey(entry.entityType, matchKey);
    this.index.set(key, [...(this.index.get(key) ?? []), entry]);
  }

  private seal(key: Buffer): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.sealKey, iv);
    const body = Buffer.concat([cipher.update(key), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  /** Opens a sealed partner key with the current seal key, else with a retired one (a rotation in progress). */
  private unseal(sealed: string): Buffer {
    for (const key of [this.sealKey, ...this.retiredSealKeys]) {
      const opened = openSealed(key, sealed);
      if (opened) return opened;
    }
    throw new LgError(
      'LG_CONFIG_INVALID',
      'a partner sharing key was sealed under a master key not configured here',
    );
  }
}

function sealKeyOf(masterKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'lineguard/monitor/sharing-keys', 32));
}

/** AES-256-GCM open of `iv | tag | body`; undefined when the key is not the one that sealed it. */
function openSealed(key: Buffer, sealed: string): Buffer | undefined {
  const raw = Buffer.from(sealed, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  try {
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]);
  } catch {
    return undefined;
  }
}

function indexKey(entityType: string, matchKey: string): string {
  return `${entityType}\u0000${matchKey}`;
}

type ListRow = {
  entry_id: string;
  list_kind: string;
  entity_type: string;
  match_key: string;
  reason: string;
  source: string;
  added_by: string;
  added_at: number;
  expires_at: number | null;
};

function rowToEntry(row: ListRow): ListEntry & { matchKey: string } {
  const raw = row.match_key.startsWith('raw:') ? row.match_key.slice(4) : undefined;
  const partnerId = row.match_key.startsWith('hmac:') ? row.match_key.split(':')[1] : undefined;
  return {
    entryId: row.entry_id,
    list: row.list_kind as ListKind,
    entityType: row.entity_type as ListEntityType,
    ...(raw === undefined ? {} : { value: raw }),
    ...(partnerId === undefined ? {} : { partnerId }),
    matchKey: row.match_key,
    reason: row.reason,
    source: row.source,
    addedBy: row.added_by,
    addedAt: Number(row.added_at),
    ...(row.expires_at === null ? {} : { expiresAt: Number(row.expires_at) }),
  };
}
