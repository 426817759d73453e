import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CANONICAL_DEPTH_MAX, CanonicalJsonError, canonicalJson } from './canonical-json.js';

/** The first, plain implementation: the bytes every stored hash was made from. The fast one must match it. */
function reference(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error('canonical JSON cannot encode a non-finite number');
    return JSON.stringify(value);
  }
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value))
    return `[${value.map((item) => (item === undefined ? 'null' : reference(item))).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${reference(v)}`).join(',')}}`;
  }
  throw new Error(`canonical JSON cannot encode a ${typeof value}`);
}

function outcome(encode: (value: unknown) => string, value: unknown): string {
  try {
    return encode(value);
  } catch (e) {
    return `threw: ${(e as Error).message}`;
  }
}

describe('canonicalJson', () => {
  it('sorts keys by UTF-16 code units, drops undefined members, writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: [true, null, undefined], c: undefined, B: 'x', é: 'é' })).toBe(
      '{"B":"x","a":[true,null,null],"b":1,"é":"é"}',
    );
    expect(canonicalJson({ n: -0, big: 10n, e: 1e21, tiny: 5e-7, s: 'a"b\\c\n\u0001' })).toBe(
      '{"big":10,"e":1e+21,"n":0,"s":"a\\"b\\\\c\\n\\u0001","tiny":5e-7}',
    );
    expect(canonicalJson(undefined)).toBe('null');
  });

  it('refuses what JSON cannot carry', () => {
    expect(() => canonicalJson(Number.NaN)).toThrow(/non-finite/);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(/function/);
    expect(() => canonicalJson([Symbol('s')])).toThrow(/symbol/);
  });

  it('writes a sparse array hole as nothing, as it always has (stored hashes depend on it)', () => {
    // eslint-disable-next-line no-sparse-arrays
    expect(canonicalJson([1, , 3])).toBe('[1,,3]');
  });

  it('gives the reference bytes for any value', () => {
    fc.assert(
      fc.property(
        fc.anything({
          withBigInt: true,
          withDate: true,
          withTypedArray: true,
          withMap: true,
          withSet: true,
          withNullPrototype: true,
          withObjectString: true,
          withBoxedValues: true,
          withSparseArray: true,
        }),
        (value) => {
          expect(outcome(canonicalJson, value)).toBe(outcome(reference, value));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('gives the reference bytes for objects with any keys, including many and awkward ones', () => {
    const key = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.constantFrom('__proto__', 'constructor', '', '10', '9'),
    );
    fc.assert(
      fc.property(
        fc.dictionary(key, fc.oneof(fc.string({ unit: 'binary' }), fc.double(), fc.integer()), {
          maxKeys: 60,
        }),
        (value) => {
          expect(outcome(canonicalJson, value)).toBe(outcome(reference, value));
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('canonical JSON refuses what it cannot encode, with a typed error (issue 12)', () => {
  it('refuses nesting past the bound instead of overflowing the stack', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(() => canonicalJson(deep)).toThrow(CanonicalJsonError);
    try {
      canonicalJson(deep);
    } catch (error) {
      expect((error as CanonicalJsonError).problem).toBe('too-deep');
    }
  });

  it('encodes a value nested exactly to the bound', () => {
    let deep: unknown = 1;
    for (let i = 0; i < CANONICAL_DEPTH_MAX; i++) deep = [deep];
    expect(canonicalJson(deep)).toBe(`${'['.repeat(CANONICAL_DEPTH_MAX)}1${']'.repeat(CANONICAL_DEPTH_MAX)}`);
  });

  it('names a non-finite number as such', () => {
    expect(() => canonicalJson({ a: [Number.POSITIVE_INFINITY] })).toThrow(
      expect.objectContaining({ problem: 'non-finite' }),
    );
  });
});
