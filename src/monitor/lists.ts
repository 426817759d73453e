import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { sha256Hex } from '../domain/index.js';
import type { Clock, UnitGuard } from '../domain/index.js';
import { LgError } from '../domain/index.js';
import type { IdGenerator } from '../domain/index.js';
import { fieldCryptoFromMasterKey, type FieldCrypto } from '../compliance/index.js';
import type { LedgerAppend } from '../compliance/index.js';
import {
  LIST_ENTITY_TYPES,
  canonicalListValue,
  legacyListValue,
  listValueDescription,
  normaliseListValue,
  type ListEntityType,
} from './list-values.js';

export {
  LIST_ENTITY_TYPES,
  canonicalIp,
  canonicalListValue,
  normaliseListValue,
  type ListEntityType,
} from './list-values.js';

/**
 * Black, grey and white lists (名单库, domain.md §4.1.3): per entity type, each entry with reason, source, expiry and who
 * added it. Entries are exchanged with partner institutions as keyed hashes (HMAC-SHA256 under a sharing key agreed
 * with the partner), so no raw identifier leaves (PIPL Art. 38/51: share the minimum, protect it in transit).
 */
export const LIST_KINDS = ['black', 'grey', 'white'] as const;
export type ListKind = (typeof LIST_KINDS)[number];

/**
 * Person identifiers (PIPL Art. 28/51: sensitive personal information, protected by encryption or de-identification):
 * held only as the keyed lookup hash (HMAC-SHA256 under a key derived from the master key, compliance/crypto.ts).
 * A value that is already such a hash (64 hex digits) is kept as it is; anything else is taken as the identifier in
 * clear, put in its canonical form (list-values.ts) and hashed on entry, so it is never stored, indexed, logged or
 * returned.
 */
export const PERSON_ENTITY_TYPES: ReadonlySet<ListEntityType> = new Set(['nationalIdHash', 'phoneHash']);

/**
 * Lookup-hash purposes. `national_id` is the purpose core/borrowers.ts hashes a borrower's ID under, so a list entry
 * and a borrower row hold the same hash for the same person.
 */
const PERSON_HASH_PURPOSE: Readonly<Record<string, string>> = {
  nationalIdHash: 'national_id',
  phoneHash: 'phone',
};

const LOOKUP_HASH = /^[0-9a-f]{64}$/i;

/** Match-key prefix of a person identifier's keyed hash (our own entries); `raw:` is every other own entry. */
const HASHED_PREFIX = 'lh:';

/** A probe as the keys it can match (keyed hashes, partner HMACs): no identifier in clear. */
export interface KeyedListProbe {
  readonly entityType: ListEntityType;
  readonly matchKeys: readonly string[];
}

/** An identifier to look up: person identifiers in clear (hashed here, in memory) or already hashed. */
export interface ListProbeInput {
  readonly entityType: ListEntityType;
  readonly value: string;
}

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
  /**
   * Person-identifier entries left out: we hold only our own keyed hash of them, which the partner cannot match (the
   * identifier in clear, which a shared HMAC would need, is never kept).
   */
  readonly withheld?: number;
}

/** What an import of a partner's shared list did: entries added, and those we already held. */
export interface ListImport {
  readonly imported: number;
  readonly skipped: number;
}

/**
 * What an import of a partner's shared list would do, for a checker to read (four eyes, `list.add`): counts per list
 * and entity type, never the HMACs. `alreadyHeld` is as this instance's lists stand when it is asked.
 */
export interface ListImportSummary {
  readonly partnerId: string;
  readonly keyFingerprint: string;
  readonly entries: number;
  readonly alreadyHeld: number;
  readonly byList: Partial<Record<ListKind, Partial<Record<ListEntityType, number>>>>;
}

/**
 * Replacing the sharing key agreed with a partner, which unhooks every entry imported under the key it replaces (four
 * eyes, `list.remove`). The new key travels sealed as monitor_sharing_keys holds one (under the master key): a pending
 * change that carries it, which every staff role reads, never holds it in clear.
 */
export interface SealedPartnerKeyChange {
  readonly partnerId: string;
  readonly keySealed: string;
  readonly keyFingerprint: string;
  /** The key stored when the change was asked for: the change applies only over that one. */
  readonly previousFingerprint: string;
}

/** A replacement as proposed: the change, and the live entries imported under the old key that stop matching. */
export interface PartnerKeyReplacement extends SealedPartnerKeyChange {
  readonly entriesUnhooked: number;
}

export interface ListQuery {
  readonly list?: ListKind;
  readonly entityType?: ListEntityType;
  readonly includeExpired?: boolean;
  readonly limit?: number;
  readonly after?: string;
}

const SHARING_KEY_BYTES_MIN = 32;

/** A list entry as stored: the match key says whose it is (raw:, lh: ours; hmac:<partner>: a partner's). */
export interface StoredListEntry {
  readonly entryId: string;
  readonly list: string;
  readonly entityType: string;
  readonly matchKey: string;
  readonly reason: string;
  readonly source: string;
  readonly addedBy: string;
  readonly addedAt: number;
  readonly expiresAt: number | null;
}

/** A live entry as a check reads it. */
export type LiveListMatch = Pick<
  StoredListEntry,
  'entryId' | 'list' | 'entityType' | 'matchKey' | 'reason' | 'source'
>;

export interface SealedPartnerKey {
  readonly partnerId: string;
  readonly keySealed: string;
  readonly fingerprint: string;
  readonly createdAt: number;
}

/**
 * The lists' store (src/store/monitor-lists.ts). Every write takes the ledger entries that commit with it; a
 * compare-and-set write appends its entry only when it changed a row.
 */
/** One (entity type, match key) a lookup asks the store for. */
export interface ListKeyPair {
  readonly entityType: string;
  readonly matchKey: string;
}

export interface ListStore {
  liveEntries(): Promise<StoredListEntry[]>;
  queryEntries(q: ListQuery & { readonly now: number }): Promise<StoredListEntry[]>;
  /**
   * Live entries at `at` whose (entity type, match key) is one of `pairs` (at least these; the caller keeps only the
   * pairs it asked for); read beside the writer (it runs before every draw).
   */
  liveMatches(pairs: readonly ListKeyPair[], at: number): Promise<LiveListMatch[]>;
  /**
   * `guard`: what commits with the entries beyond their own rows (the request's idempotency key). `answer` is the
   * unit's value (what the caller answers with), so that a guard that says the response stores it with the key.
   */
  insertEntries<T>(
    entries: readonly StoredListEntry[],
    ledger: readonly LedgerAppend[],
    answer: T,
    guard?: UnitGuard<T>,
  ): Promise<T>;
  /** Marks a live entry removed; false when there was none. */
  removeEntry(entryId: string, removedAt: number, ledger: LedgerAppend): Promise<boolean>;
  /** Own person-identifier entries still stored in clear (raw:) by a former version. */
  clearPersonEntries(
    entityTypes: readonly string[],
  ): Promise<Pick<StoredListEntry, 'entryId' | 'entityType' | 'matchKey'>[]>;
  /** Compare-and-set of each entry's match key, in one unit; each change that held appends its ledger entry. */
  rehashEntries(
    changes: readonly { entryId: string; from: string; to: string; ledger: LedgerAppend }[],
  ): Promise<void>;
  partnerKeys(): Promise<SealedPartnerKey[]>;
  /** Compare-and-set of a sealed partner key; true when it changed. */
  resealPartnerKey(partnerId: string, from: string, to: string): Promise<boolean>;
  putPartnerKey(key: SealedPartnerKey, ledger: LedgerAppend): Promise<void>;
}

/** A partner's keyed HMAC of a value: over its canonical form, so every spelling of it gives the same HMAC. */
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

  /** The keyed lookup hash of person identifiers (the same keys, current and retired, as the core's). */
  private readonly crypto: FieldCrypto;

  constructor(
    private readonly store: ListStore,
    private readonly deps: {
      readonly clock: Clock;
      readonly ids: IdGenerator;
      readonly masterKey: Buffer;
      readonly retiredMasterKeys?: readonly Buffer[];
    },
  ) {
    this.crypto = fieldCryptoFromMasterKey(deps.masterKey, deps.retiredMasterKeys ?? []);
    this.sealKey = sealKeyOf(deps.masterKey);
    this.retiredSealKeys = (deps.retiredMasterKeys ?? []).map(sealKeyOf);
  }

  /**
   * Key rotation: re-seals under the current master key every partner key a retired one sealed. Returns how many
   * were re-sealed.
   */
  async resealPartnerKeys(): Promise<number> {
    let resealed = 0;
    for (const row of await this.store.partnerKeys()) {
      if (openSealed(this.sealKey, row.keySealed) !== undefined) continue;
      // Compare-and-set: a partner key replaced meanwhile (or re-sealed by another run) is left as it is.
      const sealed = this.seal(this.unseal(row.keySealed));
      if (await this.store.resealPartnerKey(row.partnerId, row.keySealed, sealed)) resealed += 1;
    }
    return resealed;
  }

  /**
   * Loads live entries and partner keys into memory (start-up; lists are small next to events). Also re-run
   * periodically in fleet mode to pick up entries other processes added or removed: the rows are read first and the
   * index is swapped in one step, so a check never sees a half-loaded (or empty) index.
   */
  async load(): Promise<void> {
    await this.rehashClearPersonEntries();
    let rows = await this.store.liveEntries();
    if (await this.renormaliseOwnEntries(rows)) rows = await this.store.liveEntries();
    const keys = await this.store.partnerKeys();
    this.index.clear();
    for (const row of rows) this.indexEntry(entryOf(row), row.matchKey);
    for (const row of keys) this.partnerKeys.set(row.partnerId, this.unseal(row.keySealed));
  }

  async add(input: NewListEntry, guard?: UnitGuard<ListEntry>): Promise<ListEntry> {
    const value = this.storedValue(input.entityType, input.value);
    const entry: ListEntry = {
      entryId: this.deps.ids.next(),
      ...input,
      value,
      addedAt: this.deps.clock.now(),
    };
    const matchKey = PERSON_ENTITY_TYPES.has(input.entityType) ? `${HASHED_PREFIX}${value}` : `raw:${value}`;
    return this.insert(
      [{ entry, matchKey }],
      [this.ledgerEntry('list.added', entry, matchKey)],
      entry,
      guard,
    );
  }

  /**
   * Refuses (400 LG_VALIDATION, naming the field, never echoing the value) a value that is not a valid one of its type
   * in its canonical form (list-values.ts): stored, it could never match. A person identifier's lookup hash passes.
   * Answers the value as an entry would hold it (a person identifier as its keyed hash), which is all a request that
   * waits for a checker may keep: a pending change and its ledger entry never hold the identifier.
   */
  assertValue(entityType: ListEntityType, value: string): string {
    return this.storedValue(entityType, value);
  }

  /**
   * What an entry holds: a person identifier's keyed hash (its own if it is one already) of its canonical form, else
   * the canonical value. A value with no canonical form is refused.
   */
  private storedValue(entityType: ListEntityType, value: string): string {
    const trimmed = value.trim();
    const details = { field: 'value', entityType };
    if (trimmed === '') throw new LgError('LG_VALIDATION', 'value must not be empty', details);
    if (PERSON_ENTITY_TYPES.has(entityType) && LOOKUP_HASH.test(trimmed)) return trimmed.toLowerCase();
    const canonical = canonicalListValue(entityType, trimmed);
    if (canonical === undefined) {
      const what = listValueDescription(entityType);
      throw new LgError('LG_VALIDATION', `value must be ${what} for ${entityType}`, details);
    }
    return PERSON_ENTITY_TYPES.has(entityType)
      ? this.crypto.lookupHash(canonical, personPurpose(entityType))
      : canonical;
  }

  /**
   * The match keys of our own entries a probe can hit: every key's hash of a person identifier, else its value; in
   * the canonical form (or, a probe that has none, its earlier spelling). A person identifier is also looked up under
   * its earlier spelling where that differs: entries an earlier version hashed cannot be re-spelled (only re-added).
   */
  private ownMatchKeys(entityType: ListEntityType, value: string): string[] {
    if (!PERSON_ENTITY_TYPES.has(entityType)) return [`raw:${normaliseListValue(entityType, value)}`];
    const trimmed = value.trim();
    if (LOOKUP_HASH.test(trimmed)) return [`${HASHED_PREFIX}${trimmed.toLowerCase()}`];
    const spellings = new Set([
      normaliseListValue(entityType, trimmed),
      legacyListValue(entityType, trimmed),
    ]);
    return [...spellings].flatMap((spelling) =>
      this.crypto.lookupHashes(spelling, personPurpose(entityType)).map((hash) => `${HASHED_PREFIX}${hash}`),
    );
  }

  /** A ledger entry for a list change: who, which list, why; the value only as a keyed digest of its match key. */
  private ledgerEntry(kind: string, entry: ListEntry, matchKey: string): LedgerAppend {
    return {
      entryId: this.deps.ids.next(),
      kind,
      subjectId: entry.entryId,
      recordedAt: this.deps.clock.now(),
      payload: {
        entryId: entry.entryId,
        list: entry.list,
        entityType: entry.entityType,
        valueDigest: this.crypto.lookupHash(matchKey, 'list_entry'),
        reason: entry.reason,
        source: entry.source,
        addedBy: entry.addedBy,
        expiresAt: entry.expiresAt ?? null,
      },
    };
  }

  /** Marks a live entry removed, by `removedBy` (for a change approved under four eyes, its maker). */
  async remove(entryId: string, removedBy: string): Promise<void> {
    const now = this.deps.clock.now();
    const removed = await this.store.removeEntry(entryId, now, {
      entryId: this.deps.ids.next(),
      kind: 'list.removed',
      subjectId: entryId,
      recordedAt: now,
      payload: { entryId, removedBy },
    });
    if (!removed) throw new LgError('LG_NOT_FOUND', `no live list entry ${entryId}`);
    for (const [key, entries] of this.index) {
      const kept = entries.filter((e) => e.entryId !== entryId);
      if (kept.length === 0) this.index.delete(key);
      else this.index.set(key, kept);
    }
  }

  async query(q: ListQuery): Promise<ListEntry[]> {
    const rows = await this.store.queryEntries({ ...q, now: this.deps.clock.now() });
    return rows.map(entryOf);
  }

  /**
   * Live entries matching a value at `at`: our own by value (person identifiers by keyed hash), partners' by HMAC
   * under each partner's key. From this instance's memory (loaded at start, kept by its own writes); a decision
   * that must see every instance's changes uses lookup().
   */
  check(entityType: ListEntityType, value: string, at: number): ListHit[] {
    if (this.index.size === 0) return [];
    const keys = this.matchKeys(entityType, value);
    const hits: ListHit[] = [];
    for (const matchKey of keys) {
      for (const e of this.index.get(indexKey(entityType, matchKey)) ?? []) {
        if (e.expiresAt !== undefined && e.expiresAt <= at) continue;
        hits.push({ list: e.list, entityType, entryId: e.entryId, reason: e.reason, source: e.source });
      }
    }
    return hits;
  }

  /** Every match key a value can hit: our own entries' and each partner's HMAC of it. */
  private matchKeys(entityType: ListEntityType, value: string): string[] {
    const keys = this.ownMatchKeys(entityType, value);
    // A partner's HMAC is over the canonical form (sharedHmac), as our export's is.
    for (const [partnerId, key] of this.partnerKeys)
      keys.push(`hmac:${partnerId}:${sharedHmac(key, entityType, value)}`);
    return keys;
  }

  /**
   * Live entries matching any probe at `at`, read from the shared store, so an entry another instance added a moment
   * ago blocks here too (the core's lookups at application and draw; DESIGN: shared truth lives in the shared store).
   * Person identifiers may be given in clear: they are hashed here, in memory, and never leave this call.
   */
  async lookup(probes: readonly ListProbeInput[], at: number): Promise<ListHit[]> {
    return this.lookupKeys(this.probeKeys(probes), at);
  }

  /**
   * What a probe can hit, as keys only (our keyed hashes and each partner's HMAC, never the value): a caller may keep
   * these for a while instead of the identifiers (the core does, per borrower, to spare a decrypt on every draw).
   */
  probeKeys(probes: readonly ListProbeInput[]): KeyedListProbe[] {
    return probes
      .filter((probe) => probe.value.trim() !== '')
      .map((probe) => ({
        entityType: probe.entityType,
        matchKeys: this.matchKeys(probe.entityType, probe.value),
      }));
  }

  /** lookup() for probes already turned into keys (probeKeys). */
  async lookupKeys(probes: readonly KeyedListProbe[], at: number): Promise<ListHit[]> {
    const pairs = keyPairsOf(probes);
    if (pairs.length === 0) return [];
    const wanted = new Set(pairs.map((pair) => indexKey(pair.entityType, pair.matchKey)));
    const rows = await this.store.liveMatches(pairs, at);
    return rows
      .filter((row) => wanted.has(indexKey(row.entityType, row.matchKey)))
      .map((row) => ({
        list: row.list as ListKind,
        entityType: row.entityType as ListEntityType,
        entryId: row.entryId,
        reason: row.reason,
        source: row.source,
      }));
  }

  /**
   * Entries a former version stored in clear (a person identifier under `raw:`) are rewritten as keyed hashes, each
   * with a ledger entry, in one transaction; the value itself never reaches the ledger.
   */
  private async rehashClearPersonEntries(): Promise<void> {
    const rows = await this.store.clearPersonEntries([...PERSON_ENTITY_TYPES]);
    if (rows.length === 0) return;
    // Compare-and-set in the store: an instance starting at the same time that got there first is not recorded twice.
    await this.store.rehashEntries(
      rows.map((row) => {
        const type = row.entityType as ListEntityType;
        // Never refused here: a value with no canonical form is hashed as the earlier version spelled it.
        const clear = normaliseListValue(type, row.matchKey.slice(4));
        const to = `${HASHED_PREFIX}${this.crypto.lookupHash(clear, personPurpose(type))}`;
        return this.matchKeyChange('list.rehashed', row, type, to);
      }),
    );
  }

  /** An entry's match key rewritten (compare-and-set on `from`), with its ledger entry: the value only as a digest. */
  private matchKeyChange(
    kind: 'list.rehashed' | 'list.renormalised',
    row: { readonly entryId: string; readonly matchKey: string },
    entityType: ListEntityType,
    to: string,
  ) {
    const ledger: LedgerAppend = {
      entryId: this.deps.ids.next(),
      kind,
      subjectId: row.entryId,
      recordedAt: this.deps.clock.now(),
      payload: { entryId: row.entryId, entityType, valueDigest: this.crypto.lookupHash(to, 'list_entry') },
    };
    return { entryId: row.entryId, from: row.matchKey, to, ledger };
  }

  /**
   * Own entries (raw:) an earlier version stored in another spelling than their canonical form (an IPv4-mapped or
   * uncompressed IP, a card number with spaces) are rewritten in it, each with a ledger entry (`list.renormalised`),
   * in one transaction; compare-and-set, so instances starting together record each change once. A value with no
   * canonical form is left as it is: it still matches the same spelling. True when something was rewritten.
   */
  private async renormaliseOwnEntries(rows: readonly StoredListEntry[]): Promise<boolean> {
    const changes = [];
    for (const row of rows) {
      const type = LIST_ENTITY_TYPES.find((t) => t === row.entityType);
      if (type === undefined || PERSON_ENTITY_TYPES.has(type) || !row.matchKey.startsWith('raw:')) continue;
      const value = row.matchKey.slice(4);
      const canonical = canonicalListValue(type, value);
      if (canonical === undefined || canonical === value) continue;
      changes.push(this.matchKeyChange('list.renormalised', row, type, `raw:${canonical}`));
    }
    if (changes.length === 0) return false;
    await this.store.rehashEntries(changes);
    return true;
  }

  /**
   * Stores the key agreed with a partner, sealed under the master key (AES-256-GCM). Re-setting the key the partner
   * already has (the same bytes) is a no-op: it answers the fingerprint and writes nothing (no row, no ledger entry),
   * since it unhooks nothing. `replacing`, when given, is the fingerprint of the key the caller judged the change
   * against (null: none stored): a key stored since that is another is refused (409 LG_CONFLICT), never replaced
   * unseen (an approved replacement applies over the key it was proposed against; a first key, which needs no second
   * person, never replaces one set meanwhile).
   */
  async setPartnerKey(
    partnerId: string,
    key: Buffer,
    replacing?: string | null,
  ): Promise<{ partnerId: string; keyFingerprint: string }> {
    assertSharingKey(key);
    const fingerprint = keyFingerprint(key);
    const stored = await this.storedPartnerKey(partnerId);
    if (stored?.key !== undefined && sameKey(stored.key, key)) {
      this.partnerKeys.set(partnerId, key);
      return { partnerId, keyFingerprint: fingerprint };
    }
    if (replacing !== undefined && (stored?.fingerprint ?? null) !== replacing)
      throw new LgError(
        'LG_CONFLICT',
        `the sharing key agreed with partner ${partnerId} changed since this change was asked for; ask again`,
        { partnerId, expected: replacing, stored: stored?.fingerprint ?? null },
      );
    const row: SealedPartnerKey = {
      partnerId,
      keySealed: this.seal(key),
      fingerprint,
      createdAt: this.deps.clock.now(),
    };
    // Which key was agreed with whom, and when: the fingerprint only, never the key.
    await this.store.putPartnerKey(row, {
      entryId: this.deps.ids.next(),
      kind: 'list.partner_key',
      subjectId: partnerId,
      recordedAt: row.createdAt,
      payload: { partnerId, keyFingerprint: row.fingerprint },
    });
    this.partnerKeys.set(partnerId, key);
    return { partnerId, keyFingerprint: row.fingerprint };
  }

  /**
   * What setting `key` for a partner replaces: undefined when the partner has no key yet (a first key unhooks nothing)
   * or already has this one (a no-op); else the replacement, the new key sealed as a stored one is (seal), with both
   * fingerprints and the live entries imported under the old key (this instance's view), which stop matching. Read
   * from the shared store, not this instance's memory. A key too short is refused (400 LG_VALIDATION).
   */
  async partnerKeyReplacement(partnerId: string, key: Buffer): Promise<PartnerKeyReplacement | undefined> {
    assertSharingKey(key);
    const stored = await this.storedPartnerKey(partnerId);
    if (stored === undefined || (stored.key !== undefined && sameKey(stored.key, key))) return undefined;
    const now = this.deps.clock.now();
    let entriesUnhooked = 0;
    for (const entries of this.index.values())
      for (const e of entries)
        if (e.partnerId === partnerId && (e.expiresAt === undefined || e.expiresAt > now))
          entriesUnhooked += 1;
    return {
      partnerId,
      keySealed: this.seal(key),
      keyFingerprint: keyFingerprint(key),
      previousFingerprint: stored.fingerprint,
      entriesUnhooked,
    };
  }

  /**
   * Applies an approved replacement (partnerKeyReplacement): opens the sealed key (as a stored one is opened, with the
   * current master key or a retired one) and stores it over the key it was proposed against (LG_CONFLICT otherwise).
   */
  async setSealedPartnerKey(
    change: SealedPartnerKeyChange,
  ): Promise<{ partnerId: string; keyFingerprint: string }> {
    const key = this.unseal(change.keySealed);
    if (keyFingerprint(key) !== change.keyFingerprint)
      throw new LgError('LG_CONFLICT', 'the sealed sharing key is not the one the change names', {
        partnerId: change.partnerId,
      });
    return this.setPartnerKey(change.partnerId, key, change.previousFingerprint);
  }

  /**
   * The key stored for a partner, from the shared store: its fingerprint, and the key itself when a held master key
   * opens it.
   */
  private async storedPartnerKey(
    partnerId: string,
  ): Promise<{ fingerprint: string; key?: Buffer } | undefined> {
    const row = (await this.store.partnerKeys()).find((k) => k.partnerId === partnerId);
    if (row === undefined) return undefined;
    for (const sealKey of [this.sealKey, ...this.retiredSealKeys]) {
      const key = openSealed(sealKey, row.keySealed);
      if (key) return { fingerprint: row.fingerprint, key };
    }
    return { fingerprint: row.fingerprint };
  }

  /** Our own live entries as HMACs under the partner's key. */
  async exportFor(
    partnerId: string,
    filter: { list?: ListKind; entityType?: ListEntityType } = {},
  ): Promise<SharedListExport> {
    const key = this.keyOf(partnerId);
    const entries = [];
    let withheld = 0;
    let after: string | undefined;
    for (;;) {
      const page = await this.query({ ...filter, after, limit: 1000 });
      for (const e of page) {
        if (e.value === undefined) continue; // never re-share what a partner shared with us
        if (PERSON_ENTITY_TYPES.has(e.entityType)) {
          withheld += 1;
          continue;
        }
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
    return { partnerId, algorithm: 'HMAC-SHA256', keyFingerprint: keyFingerprint(key), entries, withheld };
  }

  /**
   * Refuses, as importFrom would, an import that cannot apply (no key agreed with the partner: 404 LG_NOT_FOUND; a
   * fingerprint that is not the key's: 400 LG_VALIDATION), so that a checker is never asked to approve one; answers
   * what it would add, as counts (ListImportSummary).
   */
  assertImportable(shared: SharedListExport): ListImportSummary {
    const key = this.sharedKeyOf(shared);
    const { fresh, skipped } = this.freshOf(shared);
    const byList: Partial<Record<ListKind, Partial<Record<ListEntityType, number>>>> = {};
    for (const e of shared.entries) {
      const counts = (byList[e.list] ??= {});
      counts[e.entityType] = (counts[e.entityType] ?? 0) + 1;
    }
    return {
      partnerId: shared.partnerId,
      keyFingerprint: keyFingerprint(key),
      entries: fresh.length + skipped,
      alreadyHeld: skipped,
      byList,
    };
  }

  async importFrom(
    shared: SharedListExport,
    addedBy: string,
    guard?: UnitGuard<ListImport>,
  ): Promise<ListImport> {
    this.sharedKeyOf(shared);
    const { fresh: toAdd, skipped } = this.freshOf(shared);
    const fresh = toAdd.map(({ e, matchKey }) => {
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
      return { entry, matchKey };
    });
    // One transaction: an import lands whole (with its ledger entry) or not at all.
    return this.insert(
      fresh,
      [
        {
          entryId: this.deps.ids.next(),
          kind: 'list.imported',
          subjectId: shared.partnerId,
          recordedAt: this.deps.clock.now(),
          payload: {
            partnerId: shared.partnerId,
            addedBy,
            imported: fresh.length,
            skipped,
            entryIds: fresh.map((f) => f.entry.entryId),
          },
        },
      ],
      { imported: fresh.length, skipped },
      guard,
    );
  }

  /** The key agreed with the shared list's partner, which its fingerprint must name (LG_NOT_FOUND, LG_VALIDATION). */
  private sharedKeyOf(shared: SharedListExport): Buffer {
    const key = this.keyOf(shared.partnerId);
    if (shared.keyFingerprint !== keyFingerprint(key)) {
      throw new LgError(
        'LG_VALIDATION',
        `key fingerprint ${shared.keyFingerprint} does not match the key agreed with ${shared.partnerId}`,
      );
    }
    return key;
  }

  /** The shared entries not held yet (on that list, under that HMAC), each once, and how many were skipped. */
  private freshOf(shared: SharedListExport): {
    fresh: { e: SharedListExport['entries'][number]; matchKey: string }[];
    skipped: number;
  } {
    const fresh: { e: SharedListExport['entries'][number]; matchKey: string }[] = [];
    const seen = new Set<string>();
    let skipped = 0;
    for (const e of shared.entries) {
      const matchKey = `hmac:${shared.partnerId}:${e.hmac.toLowerCase()}`;
      // Within the batch, one entry per (list, match key), as before.
      const once = `${e.list}\u0000${matchKey}`;
      if (
        (this.index.get(indexKey(e.entityType, matchKey)) ?? []).some((x) => x.list === e.list) ||
        seen.has(once)
      ) {
        skipped += 1;
        continue;
      }
      seen.add(once);
      fresh.push({ e, matchKey });
    }
    return { fresh, skipped };
  }

  private keyOf(partnerId: string): Buffer {
    const key = this.partnerKeys.get(partnerId);
    if (!key)
      throw new LgError('LG_NOT_FOUND', `no sharing key agreed with partner ${partnerId}; set one first`);
    return key;
  }

  /** Stores the entries in one unit whose value is `answer` (nothing to store: no unit, and the same answer). */
  private async insert<T>(
    entries: readonly { entry: ListEntry; matchKey: string }[],
    ledger: readonly LedgerAppend[],
    answer: T,
    guard?: UnitGuard<T>,
  ): Promise<T> {
    if (entries.length === 0) return answer;
    const rows = entries.map(({ entry, matchKey }): StoredListEntry => ({
      entryId: entry.entryId,
      list: entry.list,
      entityType: entry.entityType,
      matchKey,
      reason: entry.reason,
      source: entry.source,
      addedBy: entry.addedBy,
      addedAt: entry.addedAt,
      expiresAt: entry.expiresAt ?? null,
    }));
    // One unit: the entries land whole, with their ledger entries, or not at all.
    const stored = await this.store.insertEntries(rows, ledger, answer, guard);
    for (const { entry, matchKey } of entries) this.indexEntry(entry, matchKey);
    return stored;
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

function assertSharingKey(key: Buffer): void {
  if (key.length < SHARING_KEY_BYTES_MIN)
    throw new LgError('LG_VALIDATION', `a sharing key needs at least ${SHARING_KEY_BYTES_MIN} bytes`);
}

function sameKey(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function personPurpose(entityType: ListEntityType): string {
  const purpose = PERSON_HASH_PURPOSE[entityType];
  if (purpose === undefined) throw new Error(`${entityType} is not a person identifier`);
  return purpose;
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

/** The distinct (entity type, match key) pairs the probes can hit: what a lookup asks the store for. */
export function keyPairsOf(
  probes: readonly { readonly entityType: string; readonly matchKeys: readonly string[] }[],
): ListKeyPair[] {
  const seen = new Set<string>();
  const pairs: ListKeyPair[] = [];
  for (const probe of probes)
    for (const matchKey of probe.matchKeys) {
      const key = indexKey(probe.entityType, matchKey);
      if (seen.has(key)) continue;
      seen.add(key);
      pairs.push({ entityType: probe.entityType, matchKey });
    }
  return pairs;
}

function indexKey(entityType: string, matchKey: string): string {
  return `${entityType}\u0000${matchKey}`;
}

function entryOf(row: StoredListEntry): ListEntry & { matchKey: string } {
  // Our own entries carry their value: as given, or a person identifier's keyed hash (never the identifier).
  const raw =
    row.matchKey.startsWith('raw:') || row.matchKey.startsWith(HASHED_PREFIX)
      ? row.matchKey.slice(row.matchKey.indexOf(':') + 1)
      : undefined;
  const partnerId = row.matchKey.startsWith('hmac:') ? row.matchKey.split(':')[1] : undefined;
  return {
    entryId: row.entryId,
    list: row.list as ListKind,
    entityType: row.entityType as ListEntityType,
    ...(raw === undefined ? {} : { value: raw }),
    ...(partnerId === undefined ? {} : { partnerId }),
    matchKey: row.matchKey,
    reason: row.reason,
    source: row.source,
    addedBy: row.addedBy,
    addedAt: row.addedAt,
    ...(row.expiresAt === null ? {} : { expiresAt: row.expiresAt }),
  };
}
