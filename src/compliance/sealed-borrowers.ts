import { FieldCryptoError, type FieldCrypto } from './crypto.js';
import { sealedDataUnreadable } from './sealed-pair.js';

/**
 * A borrower's personal data at rest (PIPL Art. 51): the name, national ID, phone and birth date, each sealed alone in
 * its `*_enc` column of `borrowers` (a plain seal, FieldCrypto.encrypt: no ledger entry names them, so there is no
 * commitment to keep). The national ID is found by its keyed lookup hash (`national_id_hash`), never by its value.
 *
 * Each value is bound by associated data to its column only (`borrower.name`, …), not yet to its row: binding it to the
 * row needs the application's answer to mask the borrower from the row as sealed (its own id), not from that row
 * relabelled with the id a concurrent first application of the same person stored.
 *
 * One place seals and opens them, so that the core (applications, line views, draws' list lookups, key rotation) and
 * the consent gates (which need the ID's lookup hash under every key held) read them alike.
 */
export const BORROWER_SEALED_COLUMNS = [
  'national_id_enc',
  'name_enc',
  'phone_enc',
  'birth_date_enc',
] as const;
export type BorrowerSealedColumn = (typeof BORROWER_SEALED_COLUMNS)[number];

/** The associated data a value is sealed under: its column. */
const COLUMN_AAD: Readonly<Record<BorrowerSealedColumn, string>> = {
  national_id_enc: 'borrower.national_id',
  name_enc: 'borrower.name',
  phone_enc: 'borrower.phone',
  birth_date_enc: 'borrower.birth_date',
};

/** `value` sealed for `column` of the borrower `_borrowerId` (the row a row binding would name, see above). */
export function sealBorrowerValue(
  crypto: FieldCrypto,
  _borrowerId: string,
  column: BorrowerSealedColumn,
  value: string,
): string {
  return crypto.encrypt(value, COLUMN_AAD[column]);
}

/**
 * The value of `column` of borrower `borrowerId`. Throws LG_SEALED_DATA_UNREADABLE (500) when no held key opens it:
 * altered, or sealed under a key not configured here; never a bare FieldCryptoError (an uncoded LG_INTERNAL).
 */
export function openBorrowerValue(
  crypto: FieldCrypto,
  borrowerId: string,
  column: BorrowerSealedColumn,
  token: string,
): string {
  try {
    return crypto.decrypt(token, COLUMN_AAD[column]);
  } catch (error) {
    if (!(error instanceof FieldCryptoError)) throw error;
    throw sealedDataUnreadable(`borrower '${borrowerId}'`, column, error);
  }
}

/**
 * `column` sealed again as a new seal would be (`keys rotate-data`): under the current key; or undefined when it
 * already is. Throws LG_SEALED_DATA_UNREADABLE as openBorrowerValue does.
 */
export function resealBorrowerValue(
  crypto: FieldCrypto,
  borrowerId: string,
  column: BorrowerSealedColumn,
  token: string,
): string | undefined {
  if (!crypto.needsRotation(token)) return undefined;
  return sealBorrowerValue(crypto, borrowerId, column, openBorrowerValue(crypto, borrowerId, column, token));
}
