import type { Clock } from './clock.js';
import type { RandomSource } from './random.js';

/**
 * UUIDv7 (RFC 9562 §5.7): 48-bit Unix milliseconds, then random bits, so ids sort by creation time.
 * Within one millisecond a monotonic counter in the random field keeps ids from one generator ordered.
 */
export interface IdGenerator {
  next(): string;
}

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

function hex(bytes: Uint8Array, from: number, to: number): string {
  let out = '';
  for (let i = from; i < to; i++) out += HEX[bytes[i] as number] as string;
  return out;
}

export function uuidv7Generator(clock: Clock, random: RandomSource): IdGenerator {
  let lastMs = -1;
  let counter = 0;
  // The first 14 characters (time and a hyphen) only change with the millisecond, so they are kept.
  let timeMs: number | undefined;
  let timeHex = '';
  const out = new Uint8Array(16);
  return {
    next() {
      const ms = clock.now();
      // Exactly 16 bytes per id, as always: a seeded source shared with other consumers yields the same sequence.
      const bytes = random.bytes(16);
      if (ms === lastMs) {
        counter = (counter + 1) & 0xfff;
      } else {
        lastMs = ms;
        counter = ((bytes[6] ?? 0) << 4) & 0x7ff; // leave headroom so the counter rarely wraps
      }
      out.fill(0);
      out.set(bytes);
      let t = ms;
      for (let i = 5; i >= 0; i--) {
        out[i] = t % 256;
        t = Math.floor(t / 256);
      }
      if (ms !== timeMs) {
        timeMs = ms;
        timeHex = `${hex(out, 0, 4)}-${hex(out, 4, 6)}-`;
      }
      out[6] = 0x70 | ((counter >> 8) & 0x0f);
      out[7] = counter & 0xff;
      out[8] = 0x80 | ((out[8] ?? 0) & 0x3f);
      return `${timeHex}${hex(out, 6, 8)}-${hex(out, 8, 10)}-${hex(out, 10, 16)}`;
    },
  };
}

export const UUID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
