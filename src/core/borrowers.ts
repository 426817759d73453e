import { isoDate } from '../domain/clock.js';
import { LgError } from '../domain/errors.js';
import { ageOn, maskName, maskNationalId, maskPhone, parseChineseResidentId } from '../domain/national-id.js';
import type { FieldCrypto } from '../compliance/crypto.js';
import type { CoreTables } from '../store/core-tables.js';
import type { Q } from './repo.js';

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
  readonly nationalIdHash: string;
}

export interface MaskedBorrower {
  readonly id: string;
  readonly name: string;
  readonly nationalId: string;
  readonly phone: string;
}

const AAD = {
  nationalId: 'borrower.national_id',
  name: 'borrower.name',
  phone: 'borrower.phone',
  birthDate: 'borrower.birth_date',
} as const;

export const NATIONAL_ID_HASH_PURPOSE = 'national_id';

export function normaliseNationalId(id: string): string {
  return id.trim().toUpperCase();
}

/** Validates the ID (GB 11643-1999), derives the birth date and age, and refuses anyone under 18. */
export function verifyApplicant(input: ApplicantInput, now: number, crypto: FieldCrypto): VerifiedApplicant {
  const today = isoDate(now);
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
    nationalIdHash: crypto.lookupHash(nationalId, NATIONAL_ID_HASH_PURPOSE),
  };
}

export function sealBorrower(
  id: string,
  applicant: VerifiedApplicant,
  crypto: FieldCrypto,
  now: number,
): CoreTables['borrowers'] {
  return {
    id,
    national_id_hash: applicant.nationalIdHash,
    national_id_enc: crypto.encrypt(applicant.nationalId, AAD.nationalId),
    name_enc: crypto.encrypt(applicant.name, AAD.name),
    phone_enc: crypto.encrypt(applicant.phone, AAD.phone),
    birth_date_enc: crypto.encrypt(applicant.birthDate, AAD.birthDate),
    created_at: now,
  };
}

export function maskBorrower(row: CoreTables['borrowers'], crypto: FieldCrypto): MaskedBorrower {
  return {
    id: row.id,
    name: maskName(crypto.decrypt(row.name_enc, AAD.name)),
    nationalId: maskNationalId(crypto.decrypt(row.national_id_enc, AAD.nationalId)),
    phone: maskPhone(crypto.decrypt(row.phone_enc, AAD.phone)),
  };
}

export function borrowerBirthDate(row: CoreTables['borrowers'], crypto: FieldCrypto): string {
  return crypto.decrypt(row.birth_date_enc, AAD.birthDate);
}

/** Looks a borrower up by the keyed hash of the normalised ID; the plaintext is never a query parameter. */
export async function findBorrowerByHash(db: Q, hash: string): Promise<CoreTables['borrowers'] | undefined> {
  return db.selectFrom('borrowers').selectAll().where('national_id_hash', '=', hash).executeTakeFirst();
}

export async function findBorrower(db: Q, id: string): Promise<CoreTables['borrowers']> {
  const row = await db.selectFrom('borrowers').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new LgError('LG_NOT_FOUND', `no borrower ${id}`, { borrowerId: id });
  return row;
}

/** Inserts the borrower once; a concurrent first application for the same person finds the winner's row. */
export async function upsertBorrower(db: Q, row: CoreTables['borrowers']): Promise<string> {
  await db
    .insertInto('borrowers')
    .values(row)
    .onConflict((oc) => oc.column('national_id_hash').doNothing())
    .execute();
  const stored = await findBorrowerByHash(db, row.national_id_hash);
  if (!stored) throw new Error('borrower row vanished after insert');
  return stored.id;
}
