import { randomBytes } from 'node:crypto';

/** Randomness is injected like the clock: production uses the CSPRNG, tests and replays a seeded source. */
export interface RandomSource {
  bytes(count: number): Uint8Array;
}

export const cryptoRandom: RandomSource = { bytes: (count) => randomBytes(count) };

/** Deterministic source (xorshift32) for tests and simulations; never for keys. */
export function seededRandom(seed: number): RandomSource & { next(): number } {
  let state = seed >>> 0 || 0x9e3779b9;
  const nextU32 = (): number => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
  return {
    next: () => nextU32() / 0x1_0000_0000,
    bytes(count) {
      const out = new Uint8Array(count);
      for (let i = 0; i < count; i++) out[i] = nextU32() & 0xff;
      return out;
    },
  };
}
