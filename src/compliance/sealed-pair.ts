import { LgError } from '../domain/index.js';
import { FieldCryptoError, isSealedValue, type FieldCrypto } from './crypto.js';

/**
 * Two columns of one row that hold personal data, sealed at rest as one token (PIPL Art. 51), with one commitment to
 * both (FieldCrypto.sealCommitted; the row's ledger entry carries it, so `ledger verify` proves the opened pair while
 * the ledger, unlike an unkeyed hash, confirms no guess of it): the first column is the committed one, the second rides
 * in its token. The token is kept in the first column, bound by associated data to that column and the row, so a token
 * copied to another row fails to open instead of being served as that row's; the second column then holds the pair's
 * marker. One seal, not two: a cipher costs its setup whatever it seals, and every draw writes a decision.
 *
 * The rider is committed to as well: otherwise whoever holds the database and the data key could seal another rider (a
 * decision's trace, an outcome's English text, a submission's subject) beside the same value and commitment key, and
 * the ledger would still prove the row. Tokens sealed before that keep their rider outside their commitment (the
 * commitment their ledger entry carries); they open and re-seal as they are (crypto.ts, RIDER_FLAG).
 *
 * A text with nothing that belongs with it (a complaint's text) is a pair without a rider (sealedColumn): its column
 * is sealed alone, committed as the first column of a pair is; its StoredPair's rider is always ''.
 *
 * A row written before its pair was sealed holds both in clear; it is read as it is, and `keys rotate-data` seals it.
 */
export interface SealedPair {
  /** The table and the columns, as the associated data and the errors name them. */
  readonly table: string;
  readonly committed: string;
  /** null: the committed column is sealed alone (sealedColumn). */
  readonly rider: string | null;
  /** What the rider's column holds once the rider is sealed in the committed column's token ('' without a rider). */
  readonly marker: string;
  /** How an error names the row ("decision '…'"). */
  subject(rowId: string): string;
}

/**
 * A SealedPair of `table`'s `committed` and `rider` columns, called `noun` in errors ("decision '…'"). Its rider's
 * column says "(sealed with the <committed>)" once sealed. The names stay literal types, so the store can check at
 * compile time that they are columns of that table (src/store/sealed-pairs.ts).
 */
export function sealedPair<const C extends { table: string; committed: string; rider: string }>(
  columns: C,
  noun: string,
): SealedPair & Readonly<C> {
  return {
    ...columns,
    marker: `(sealed with the ${columns.committed})`,
    subject: (id) => `${noun} '${id}'`,
  };
}

/**
 * A SealedPair of `table`'s `column` alone (no rider), called `noun` in errors: a text with nothing written beside it
 * that belongs with it. Its StoredPair's rider is always ''.
 */
export function sealedColumn<const C extends { table: string; column: string }>(
  columns: C,
  noun: string,
): SealedPair & { readonly table: C['table']; readonly committed: C['column']; readonly rider: null } {
  return {
    table: columns.table,
    committed: columns.column,
    rider: null,
    marker: '',
    subject: (id) => `${noun} '${id}'`,
  };
}

/** A row's two stored columns (a column sealed alone: its rider is ''). */
export interface StoredPair {
  readonly committed: string;
  readonly rider: string;
}

/** The pair as written, and (when sealed) the commitment its ledger entry carries (to both, or to the first alone). */
export interface OpenedPair extends StoredPair {
  readonly commitment: string | undefined;
}

const aadOf = (pair: SealedPair, rowId: string) => `${pair.table}.${pair.committed}\n${rowId}`;

/** A new row's columns, sealed, and the commitment to both for its ledger entry. */
export function sealPair(
  crypto: FieldCrypto,
  pair: SealedPair,
  rowId: string,
  clear: StoredPair,
): StoredPair & { readonly commitment: string } {
  const sealed = crypto.sealCommitted(clear.committed, aadOf(pair, rowId), riderOf(pair, clear));
  return { committed: sealed.token, rider: pair.marker, commitment: sealed.commitment };
}

/**
 * Opens a row's stored columns (clear ones are taken as they are). Throws LG_SEALED_DATA_UNREADABLE when they cannot be
 * opened (`crypto` undefined: no data key to open them with).
 */
export function openPair(
  crypto: FieldCrypto | undefined,
  pair: SealedPair,
  rowId: string,
  stored: StoredPair,
): OpenedPair {
  try {
    if (!isSealedValue(stored.committed)) {
      if (riderIsSealed(pair, stored)) throw riderWithoutSeal(pair);
      return { ...stored, commitment: undefined };
    }
    if (!crypto) throw new FieldCryptoError('no data key was given to open it');
    const opened = crypto.openCommitted(stored.committed, aadOf(pair, rowId));
    if ((opened.rider === undefined) !== (pair.rider === null))
      throw new FieldCryptoError(
        `the sealed ${pair.committed} carries ${pair.rider === null ? 'a rider' : `no ${pair.rider}`}`,
      );
    return { committed: opened.plaintext, rider: opened.rider ?? '', commitment: opened.commitment };
  } catch (error) {
    if (!(error instanceof FieldCryptoError)) throw error;
    throw sealedDataUnreadable(pair.subject(rowId), pair.committed, error);
  }
}

/**
 * The columns under the current key (`keys rotate-data`, reseal.ts): a sealed pair sealed again with its commitment key
 * (its ledger entry still proves it); a pair written in clear sealed now (its older entry, which hashes or holds the
 * clear value, stays provable once opened). Throws FieldCryptoError when a sealed one cannot be opened.
 */
export function resealPair(
  crypto: FieldCrypto,
  pair: SealedPair,
  rowId: string,
  stored: StoredPair,
): StoredPair {
  const aad = aadOf(pair, rowId);
  if (isSealedValue(stored.committed))
    return { committed: crypto.resealCommitted(stored.committed, aad), rider: stored.rider };
  if (riderIsSealed(pair, stored)) throw riderWithoutSeal(pair);
  return {
    committed: crypto.sealCommitted(stored.committed, aad, riderOf(pair, stored)).token,
    rider: pair.marker,
  };
}

/** What the token carries beside the committed value: the rider, or nothing for a column sealed alone. */
const riderOf = (pair: SealedPair, stored: StoredPair): string | undefined =>
  pair.rider === null ? undefined : stored.rider;

/** Whether the rider's column says the rider is in the committed column's token (never, without a rider). */
const riderIsSealed = (pair: SealedPair, stored: StoredPair): boolean =>
  pair.rider !== null && stored.rider === pair.marker;

function riderWithoutSeal(pair: SealedPair): FieldCryptoError {
  return new FieldCryptoError(`its ${pair.rider} is kept with a sealed ${pair.committed}, which is in clear`);
}

/** Whether `error` is what a reader of a sealed value no held key opens throws (sealedDataUnreadable). */
export function isSealedDataUnreadable(error: unknown): error is LgError {
  return error instanceof LgError && error.code === 'LG_SEALED_DATA_UNREADABLE';
}

/**
 * The error a reader answers for a sealed value no held key opens: altered, copied from another row (its associated
 * data names another), or sealed under a master key not configured here. Never the value of another row, never a 500
 * without a code.
 */
export function sealedDataUnreadable(subject: string, column: string, cause: FieldCryptoError): LgError {
  return new LgError(
    'LG_SEALED_DATA_UNREADABLE',
    `the sealed ${column} of ${subject} cannot be opened: it was altered or copied from another row, or sealed under a data key this installation does not hold (LINEGUARD_RETIRED_KEYS)`,
    { cause: cause.message },
  );
}
