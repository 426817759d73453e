import { LgError } from '../domain/index.js';
import { ageOn, maskName, maskNationalId, maskPhone, parseChineseResidentId } from '../domain/index.js';
import {
  BORROWER_SEALED_COLUMNS,
  openBorrowerValue,
  resealBorrowerValue,
  sealBorrowerValue,
  type BorrowerSealedColumn,
  type FieldCrypto,
} from '../compliance/index.js';
import type { CoreDeps } from './deps.js';
import type { BorrowerReseal, BorrowerRow } from './ports.js';
import type { CoreStore } from './ports.js';

/** Statutory minimum age for consumer credit (the domain's hard rule, whatever a strategy says). */
export const MIN_BORROWER_AGE = 18;

export interface ApplicantInput {
  readonly name: string;
  readonly nationalId: string;
  readonly phone: string;
}

export interface VerifiedApplicant {
  readonly name: string;
  /** Normalised (trimmed, upper-case X). */
  readonly nationalId: string;
  readonly phone: string;
  readonly birthDate: string;
  readonly sex: 'M' | 'F';
  readonly regionCode: string;
  readonly age: number;
  /** The ID's lookup hash under every key held, the current key's first (what a new row stores; see crypto.ts). */
  readonly nationalIdHashes: readonly [string, ...string[]];
}

export interface MaskedBorrower {
  readonly id: string;
  readonly name: string;
  readonly nationalId: string;
  readonly phone: string;
}

export const NATIONAL_ID_HASH_PURPOSE = 'national_id';

export function normaliseNationalId(id: string): string {
  return id.trim().toUpperCase();
}

/**
 * Validates the ID (GB 11643-1999), derives the birth date and age on `today` (the lender's calendar date: someone
 * turns 18 at midnight where the lender is, not at midnight UTC), and refuses anyone under 18.
 */
export function verifyApplicant(
  input: ApplicantInput,
  today: string,
  crypto: FieldCrypto,
): VerifiedApplicant {
  const nationalId = normaliseNationalId(input.nationalId);
  const info = parseChineseResidentId(nationalId, today);
  const age = ageOn(info.birthDate, today);
  if (age < MIN_BORROWER_AGE) {
    throw new LgError('LG_BORROWER_UNDERAGE', `applicants must be at least ${MIN_BORROWER_AGE} years old`, {
      reasons: ['R_AGE_BELOW_MIN'],
    });
  }
  return {
    name: input.name.trim(),
    nationalId,
    phone: input.phone.trim(),
    birthDate: info.birthDate,
    sex: info.sex,
    regionCode: info.regionCode,
    age,
    nationalIdHashes: crypto.lookupHashes(nationalId, NATIONAL_ID_HASH_PURPOSE),
  };
}

export function sealBorrower(
  id: string,
  applicant: VerifiedApplicant,
  crypto: FieldCrypto,
  now: number,
): BorrowerRow {
  const seal = (column: BorrowerSealedColumn, value: string) => sealBorrowerValue(crypto, id, column, value);
  return {
    id,
    national_id_hash: applicant.nationalIdHashes[0],
    national_id_enc: seal('national_id_enc', applicant.nationalId),
    name_enc: seal('name_enc', applicant.name),
    phone_enc: seal('phone_enc', applicant.phone),
    birth_date_enc: seal('birth_date_enc', applicant.birthDate),
    created_at: now,
  };
}

/** The value of one sealed column of the row; LG_SEALED_DATA_UNREADABLE when no held key opens it. */
function opened(row: BorrowerRow, column: BorrowerSealedColumn, crypto: FieldCrypto): string {
  return openBorrowerValue(crypto, row.id, column, row[column]);
}

export function maskBorrower(row: BorrowerRow, crypto: FieldCrypto): MaskedBorrower {
  return {
    id: row.id,
    name: maskName(opened(row, 'name_enc', crypto)),
    nationalId: maskNationalId(opened(row, 'national_id_enc', crypto)),
    phone: maskPhone(opened(row, 'phone_enc', crypto)),
  };
}

/** The borrower's national ID and phone in clear, for a list lookup in memory (never stored, logged or returned). */
export function borrowerIdentifiers(
  row: BorrowerRow,
  crypto: FieldCrypto,
): { nationalId: string; phone: string } {
  return {
    nationalId: opened(row, 'national_id_enc', crypto),
    phone: opened(row, 'phone_enc', crypto),
  };
}

export function borrowerBirthDate(row: BorrowerRow, crypto: FieldCrypto): string {
  return opened(row, 'birth_date_enc', crypto);
}

/**
 * Looks a borrower up by the keyed hashes of the normalised ID (one per key held, so a row not yet re-keyed is still
 * found); the plaintext is never a query parameter.
 */
export function findBorrowerByHash(
  store: CoreStore<unknown>,
  hashes: readonly string[],
): Promise<BorrowerRow | undefined> {
  return store.borrowerByHashes(hashes);
}

/** A borrower read outside the unit of work (the draw's list lookup), on the reader. */
export async function readBorrower(store: CoreStore<unknown>, id: string): Promise<BorrowerRow> {
  return requireBorrower(await store.readBorrower(id), id);
}

export async function findBorrower(store: CoreStore<unknown>, id: string): Promise<BorrowerRow> {
  return requireBorrower(await store.borrower(id), id);
}

function requireBorrower(row: BorrowerRow | undefined, id: string): BorrowerRow {
  if (!row) throw new LgError('LG_NOT_FOUND', `no borrower ${id}`, { borrowerId: id });
  return row;
}

export interface RekeyResult {
  readonly keyId: string;
  readonly borrowersChecked: number;
  readonly borrowersRekeyed: number;
}

/**
 * Re-seals every borrower whose personal data a retired key sealed: each field decrypted and encrypted again under the
 * current key, and the lookup hash recomputed, a page per transaction, each page recorded in the ledger (ids and key
 * id, no personal data). Safe to stop and run again: a row already under the current key is skipped.
 */
export async function rekeyBorrowers(
  deps: Pick<CoreDeps, 'coreStore' | 'crypto' | 'clock' | 'ids'>,
  pageSize = 500,
): Promise<RekeyResult> {
  const { coreStore, crypto } = deps;
  let checked = 0;
  let rekeyed = 0;
  let after = '';
  for (;;) {
    const page = await coreStore.borrowersPage(after, pageSize);
    if (page.length === 0) break;
    after = page[page.length - 1]?.id ?? after;
    checked += page.length;
    // Compare-and-set on the sealed ID: a second rotation run that got there first is not redone.
    const reseals = page.flatMap((row) => {
      const sealed = resealBorrower(row, crypto);
      return sealed ? [{ id: row.id, expectedNationalIdEnc: row.national_id_enc, sealed }] : [];
    });
    if (reseals.length === 0) continue;
    rekeyed += await coreStore.resealBorrowers(reseals, (done) => ({
      entryId: deps.ids.next(),
      kind: 'borrower.rekeyed',
      subjectId: crypto.currentKeyId,
      recordedAt: deps.clock.now(),
      payload: { keyId: crypto.currentKeyId, borrowerIds: [...done] },
    }));
  }
  return { keyId: crypto.currentKeyId, borrowersChecked: checked, borrowersRekeyed: rekeyed };
}

/**
 * The row's sealed columns as a new seal would write them (each opened and sealed again), and its lookup hash under
 * the current key; undefined when every column already is (nothing to do).
 */
function resealBorrower(row: BorrowerRow, crypto: FieldCrypto): BorrowerReseal['sealed'] | undefined {
  const resealed = BORROWER_SEALED_COLUMNS.map((column) =>
    resealBorrowerValue(crypto, row.id, column, row[column]),
  );
  if (resealed.every((token) => token === undefined)) return undefined;
  const [nationalIdEnc, nameEnc, phoneEnc, birthDateEnc] = resealed;
  return {
    national_id_hash: crypto.lookupHash(opened(row, 'national_id_enc', crypto), NATIONAL_ID_HASH_PURPOSE),
    national_id_enc: nationalIdEnc ?? row.national_id_enc,
    name_enc: nameEnc ?? row.name_enc,
    phone_enc: phoneEnc ?? row.phone_enc,
    birth_date_enc: birthDateEnc ?? row.birth_date_enc,
  };
}
