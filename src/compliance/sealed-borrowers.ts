import { FieldCryptoError, type FieldCrypto } from './crypto.js';
import { sealedDataUnreadable } from './sealed-pair.js';

/**
 * A borrower's personal data at rest (PIPL Art. 51): the name, national ID, phone and birth date, each sealed alone in
 * its `*_enc` column of `borrowers` (a plain seal, FieldCrypto.encrypt: no ledger entry names them, so there is no
 * commitment to keep). The national ID is found by its keyed lookup hash (`national_id_hash`), never by its value.
 *
 * Each value is bound by associated data to its column and its row (`borrowers.<column>\n<borrower id>`), so a value
 * copied to another borrower's row fails to open (LG_SEALED_DATA_UNREADABLE) instead of showing as that borrower's.
 * Values sealed before were bound to the column alone (`borrower.name`, …): they still open under that associated
 * data, and `keys rotate-data` seals them again bound to their row (resealBorrowerValue). Until it has run, such an
 * older value copied to another row still opens there: the binding protects what was sealed since.
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

/** The associated data a value is sealed under: its column and its row. */
const aadOf = (column: BorrowerSealedColumn, borrowerId: string) => `borrowers.${column}\n${borrowerId}`;

/** The associated data of a value sealed before values were bound to their row: the column alone. */
const COLUMN_ONLY_AAD: Readonly<Record<BorrowerSealedColumn, string>> = {
  national_id_enc: 'borrower.national_id',
  name_enc: 'borrower.name',
  phone_enc: 'borrower.phone',
  birth_date_enc: 'borrower.birth_date',
};

/** `value` sealed for `column` of borrower `borrowerId`. */
export function sealBorrowerValue(
  crypto: FieldCrypto,
  borrowerId: string,
  column: BorrowerSealedColumn,
  value: string,
): string {
  return crypto.encrypt(value, aadOf(column, borrowerId));
}

/** A stored value opened, and whether it is bound to its row (sealed since row binding) or to its column alone. */
interface OpenedValue {
  readonly value: string;
  readonly rowBound: boolean;
}

/**
 * Opens under the row-bound associated data, else the column's alone. When neither opens, throws the stable
 * LG_SEALED_DATA_UNREADABLE (500), never a bare FieldCryptoError, with the row-bound failure as why: a value sealed
 * since binding, altered, or another row's.
 */
function openOrUnreadable(
  crypto: FieldCrypto,
  borrowerId: string,
  column: BorrowerSealedColumn,
  token: string,
): OpenedValue {
  try {
    return { value: crypto.decrypt(token, aadOf(column, borrowerId)), rowBound: true };
  } catch (error) {
    if (!(error instanceof FieldCryptoError)) throw error;
    try {
      return { value: crypto.decrypt(token, COLUMN_ONLY_AAD[column]), rowBound: false };
    } catch (columnOnly) {
      if (!(columnOnly instanceof FieldCryptoError)) throw columnOnly;
      throw sealedDataUnreadable(`borrower '${borrowerId}'`, column, error);
    }
  }
}

/**
 * The value of `column` of borrower `borrowerId`. Throws LG_SEALED_DATA_UNREADABLE when no held key opens it: altered,
 * copied from another borrower's row, or sealed under a key not configured here.
 */
export function openBorrowerValue(
  crypto: FieldCrypto,
  borrowerId: string,
  column: BorrowerSealedColumn,
  token: string,
): string {
  return openOrUnreadable(crypto, borrowerId, column, token).value;
}

/**
 * `column` sealed again as a new seal would be (`keys rotate-data`): under the current key and bound to its row; or
 * undefined when it already is. Throws LG_SEALED_DATA_UNREADABLE as openBorrowerValue does.
 */
export function resealBorrowerValue(
  crypto: FieldCrypto,
  borrowerId: string,
  column: BorrowerSealedColumn,
  token: string,
): string | undefined {
  const opened = openOrUnreadable(crypto, borrowerId, column, token);
  if (opened.rowBound && !crypto.needsRotation(token)) return undefined;
  return sealBorrowerValue(crypto, borrowerId, column, opened.value);
}
