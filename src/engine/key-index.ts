/**
 * Maps the keys of a context object, as a `for…in` loop meets them, to declared indices. Callers read values inside
 * the `for…in` (V8 then loads them straight from the object's enum cache) and ask here which declared input each key
 * is. Contexts of one caller nearly always list their keys in the same order, so the answer for position p is
 * remembered and confirmed with one string comparison; a different key at p falls back to the map and re-learns.
 */
export class KeyIndex {
  private readonly keys: (string | undefined)[] = [];
  private readonly indices: number[] = [];

  constructor(private readonly map: ReadonlyMap<string, number>) {}

  /** Declared index of `key` met at position `p`, or -1 when it is not declared. */
  indexAt(p: number, key: string): number {
    if (this.keys[p] === key) return this.indices[p] as number;
    const index = this.map.get(key) ?? -1;
    if (p < KeyIndex.MAX_POSITIONS) {
      this.keys[p] = key;
      this.indices[p] = index;
    }
    return index;
  }

  /** Positions remembered; a context with more keys than this still works, it just looks the rest up. */
  static readonly MAX_POSITIONS = 512;
}
