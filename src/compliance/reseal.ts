import { FieldCryptoError, SEALED_PREFIX, type FieldCrypto } from './crypto.js';
import { resealPair, type SealedPair, type StoredPair } from './sealed-pair.js';

/**
 * Key rotation for a table with sealed columns (`lineguard keys rotate-data`), one way for every such table: the rows
 * whose sealed columns are not all under the current key are read a page at a time, each is opened and sealed again
 * under it (columns written in clear before sealing are sealed now), and the page is written in one transaction, each
 * row only if it still holds what was read (compare-and-set: a row changed meanwhile is left for the next run). A row
 * no held key opens is left as it is and counted. Run it with the old key still among the retired ones, then drop it;
 * safe to stop and run again.
 */
export interface SealedRows<R extends { readonly id: string }> {
  /** Rows after `afterId` (id order) whose sealed column does not start with `sealedPrefix` (clear, or an older key). */
  after(afterId: string, limit: number, sealedPrefix: string): Promise<R[]>;
  /** Writes the page's re-sealed rows (compare-and-set on what was read); answers how many were written. */
  replace(updates: readonly { read: R; sealed: R }[]): Promise<number>;
}

export interface ResealCounts {
  /** The key the rows are sealed under now. */
  readonly keyId: string;
  readonly checked: number;
  /** Rows sealed again under the current key, or sealed for the first time (written in clear before sealing). */
  readonly sealed: number;
  /** Rows no held key opens (altered, or sealed under a key already dropped): left as they are. */
  readonly unopenable: number;
}

/** `sealAgain` answers the row sealed under the current key; it throws FieldCryptoError for a row it cannot open. */
export async function resealRows<R extends { readonly id: string }>(
  rows: SealedRows<R>,
  crypto: FieldCrypto,
  options: { readonly pageSize: number; readonly sealAgain: (row: R) => R },
): Promise<ResealCounts> {
  const current = `${SEALED_PREFIX}${crypto.currentKeyId}.`;
  let after = '';
  let checked = 0;
  let sealed = 0;
  let unopenable = 0;
  for (;;) {
    const page = await rows.after(after, options.pageSize, current);
    const last = page.at(-1);
    if (!last) break;
    after = last.id;
    checked += page.length;
    const updates: { read: R; sealed: R }[] = [];
    for (const read of page) {
      try {
        updates.push({ read, sealed: options.sealAgain(read) });
      } catch (error) {
        if (!(error instanceof FieldCryptoError)) throw error;
        unopenable += 1;
      }
    }
    sealed += await rows.replace(updates);
  }
  return { keyId: crypto.currentKeyId, checked, sealed, unopenable };
}

/** A row's id and its SealedPair's two stored columns, as a rotation pages through them (src/store/sealed-pairs.ts). */
export interface SealedPairRow extends StoredPair {
  readonly id: string;
}

/**
 * What a rotation of one kind of row reports (ResealCounts), named by it: "decisions" → decisionsChecked,
 * decisionsSealed, decisionsUnopenable, as `keys rotate-data` prints them.
 */
export type NamedResealCounts<N extends string> = { readonly keyId: string } & {
  readonly [K in 'Checked' | 'Sealed' | 'Unopenable' as `${N}${K}`]: number;
};

/**
 * `keys rotate-data` for the rows of one SealedPair: each pair sealed again under the current key with its commitment
 * key (its ledger entry still proves it), a pair written in clear before sealing sealed now (resealPair); the counts
 * named `counted`.
 */
export async function resealPairs<N extends string>(
  target: { readonly pair: SealedPair; readonly rows: SealedRows<SealedPairRow>; readonly counted: N },
  crypto: FieldCrypto,
  pageSize: number,
): Promise<NamedResealCounts<N>> {
  const { pair, rows, counted } = target;
  const counts = await resealRows(rows, crypto, {
    pageSize,
    sealAgain: (row) => ({ id: row.id, ...resealPair(crypto, pair, row.id, row) }),
  });
  // A key built from a type parameter is typed as a plain string: the mapped type above is what these three are.
  return {
    keyId: counts.keyId,
    [`${counted}Checked`]: counts.checked,
    [`${counted}Sealed`]: counts.sealed,
    [`${counted}Unopenable`]: counts.unopenable,
  } as NamedResealCounts<N>;
}
