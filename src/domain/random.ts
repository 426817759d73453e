import { randomBytes, randomFillSync } from 'node:crypto';

/** Randomness is injected like the clock: production uses the CSPRNG, tests and replays a seeded source. */
export interface RandomSource {
  bytes(count: number): Uint8Array;
}

/**
 * The CSPRNG, drawn in 4 KiB chunks: one randomFillSync per id costs microseconds, a copy from the chunk a tenth of
 * that (node's own randomUUID pools the same way). Every byte is handed out once, as a copy, so no caller sees or
 * changes another's; a chunk is never refilled in place.
 */
const POOL_BYTES = 4096;
const POOLED_REQUEST_MAX = 256;
let pool = new Uint8Array(0);
let poolOffset = 0;

function pooledBytes(count: number): Uint8Array {
  if (count > POOLED_REQUEST_MAX) return randomBytes(count);
  if (poolOffset + count > pool.length) {
    pool = randomFillSync(new Uint8Array(POOL_BYTES));
    poolOffset = 0;
  }
  const out = pool.slice(poolOffset, poolOffset + count);
  poolOffset += count;
  return out;
}

export const cryptoRandom: RandomSource = { bytes: pooledBytes };

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
