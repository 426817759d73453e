import { FieldCryptoError, type FieldCrypto } from './crypto.js';
import { resealRows, type NamedResealCounts, type SealedRows } from './reseal.js';
import { isSealedDataUnreadable, sealedDataUnreadable } from './sealed-pair.js';

/**
 * Where a draw came from and where its money went, at rest (PIPL Art. 4, 51): the borrower's device id, IP address and
 * payee account. The three are sealed as ONE value per draw in the `origin` column (a draw is the hot path: one cipher
 * operation, not three), bound by associated data to the column and the draw, so a value copied to another draw fails
 * to open. The device_id, ip and payee_id columns stay null on a draw sealed so.
 *
 * A plain seal (FieldCrypto.encrypt), not a committed one (sealed-pair.ts): no ledger entry names these values, so there
 * is no commitment to keep, and a draw does not pay for one. No equality lookup reads them from `draws`: the lists are
 * checked with the request's values (keyed hashes, src/monitor), and a held draw's release opens its own row.
 *
 * A draw stored before sealing holds them in clear with `origin` null: read as it is, and `keys rotate-data` seals it
 * (a migration holds no data key).
 */
export const DRAW_ORIGIN = { table: 'draws', column: 'origin' } as const;

/** The three values, each absent when the draw did not say it. */
export interface DrawOrigin {
  readonly deviceId?: string;
  readonly ip?: string;
  readonly payeeId?: string;
}

/** A draw's stored origin columns. */
export interface StoredDrawOrigin {
  readonly id: string;
  readonly origin: string | null;
  readonly device_id: string | null;
  readonly ip: string | null;
  readonly payee_id: string | null;
}

const aadOf = (drawId: string) => `${DRAW_ORIGIN.table}.${DRAW_ORIGIN.column}\n${drawId}`;

function plainOf(origin: DrawOrigin): string | undefined {
  const { deviceId, ip, payeeId } = origin;
  if (deviceId === undefined && ip === undefined && payeeId === undefined) return undefined;
  return JSON.stringify({ deviceId, ip, payeeId });
}

/** The sealed `origin` of a new draw; undefined when it names none of the three (nothing to seal). */
export function sealDrawOrigin(crypto: FieldCrypto, drawId: string, origin: DrawOrigin): string | undefined {
  const plain = plainOf(origin);
  return plain === undefined ? undefined : crypto.encrypt(plain, aadOf(drawId));
}

function clearOrigin(row: StoredDrawOrigin): DrawOrigin {
  return {
    ...(row.device_id === null ? {} : { deviceId: row.device_id }),
    ...(row.ip === null ? {} : { ip: row.ip }),
    ...(row.payee_id === null ? {} : { payeeId: row.payee_id }),
  };
}

function openOrThrow(
  crypto: FieldCrypto | undefined,
  row: StoredDrawOrigin & { origin: string },
): DrawOrigin {
  if (!crypto) throw new FieldCryptoError('no data key was given to open it');
  const parsed = JSON.parse(crypto.decrypt(row.origin, aadOf(row.id))) as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  const [deviceId, ip, payeeId] = [text(parsed.deviceId), text(parsed.ip), text(parsed.payeeId)];
  return {
    ...(deviceId === undefined ? {} : { deviceId }),
    ...(ip === undefined ? {} : { ip }),
    ...(payeeId === undefined ? {} : { payeeId }),
  };
}

/**
 * The draw's device id, IP and payee as it was asked for (a draw stored in clear read as it is). Throws
 * LG_SEALED_DATA_UNREADABLE when its sealed origin cannot be opened (altered, another draw's, or a key not held).
 */
export function openDrawOrigin(crypto: FieldCrypto | undefined, row: StoredDrawOrigin): DrawOrigin {
  if (row.origin === null) return clearOrigin(row);
  try {
    return openOrThrow(crypto, { ...row, origin: row.origin });
  } catch (error) {
    if (!(error instanceof FieldCryptoError)) throw error;
    throw sealedDataUnreadable(`draw '${row.id}'`, DRAW_ORIGIN.column, error);
  }
}

/**
 * A stored draw row as a reader shows it (a case's evidence): the three values in their columns, `origin` not shown;
 * one no held key opens is marked `originUnreadable` with the three null, never another draw's values nor a 500.
 */
export function drawRowOpened<R extends StoredDrawOrigin>(
  crypto: FieldCrypto | undefined,
  row: R,
): Omit<R, 'origin'> & { originUnreadable?: true } {
  const { origin: _sealed, ...shown } = row;
  try {
    const opened = openDrawOrigin(crypto, row);
    return {
      ...shown,
      device_id: opened.deviceId ?? null,
      ip: opened.ip ?? null,
      payee_id: opened.payeeId ?? null,
    };
  } catch (error) {
    if (!isSealedDataUnreadable(error)) throw error;
    return { ...shown, device_id: null, ip: null, payee_id: null, originUnreadable: true };
  }
}

/** What a rotation of the draws reports: drawsChecked, drawsSealed, drawsUnopenable. */
export type DrawResealResult = NamedResealCounts<'draws'>;

/** The origin columns under the current key: a sealed one sealed again, a clear one sealed now (and its columns nulled). */
function sealAgain(crypto: FieldCrypto, row: StoredDrawOrigin): StoredDrawOrigin {
  const opened = row.origin === null ? clearOrigin(row) : openOrThrow(crypto, { ...row, origin: row.origin });
  const origin = sealDrawOrigin(crypto, row.id, opened) ?? null;
  return { id: row.id, origin, device_id: null, ip: null, payee_id: null };
}

/** `keys rotate-data` for the draws (reseal.ts): every origin sealed under the current key, clear ones sealed now. */
export async function resealDrawOrigins(
  rows: SealedRows<StoredDrawOrigin>,
  crypto: FieldCrypto,
  pageSize: number,
): Promise<DrawResealResult> {
  const counts = await resealRows(rows, crypto, { pageSize, sealAgain: (row) => sealAgain(crypto, row) });
  return {
    keyId: counts.keyId,
    drawsChecked: counts.checked,
    drawsSealed: counts.sealed,
    drawsUnopenable: counts.unopenable,
  };
}
