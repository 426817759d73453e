import type { Clock } from './clock.js';
import type { RandomSource } from './random.js';

/**
 * UUIDv7 (RFC 9562 §5.7): 48-bit Unix milliseconds, then random bits, so ids sort by creation time.
 * Within one millisecond a monotonic counter in the random field keeps ids from one generator ordered.
 */
export interface IdGenerator {
  next(): string;
}

export function uuidv7Generator(clock: Clock, random: RandomSource): IdGenerator {
  let lastMs = -1;
  let counter = 0;
  return {
    next() {
      const ms = clock.now();
      const bytes = random.bytes(16);
      if (ms === lastMs) {
        counter = (counter + 1) & 0xfff;
      } else {
        lastMs = ms;
        counter = ((bytes[6] ?? 0) << 4) & 0x7ff; // leave headroom so the counter rarely wraps
      }
      const out = new Uint8Array(16);
      out.set(bytes);
      let t = ms;
      for (let i = 5; i >= 0; i--) {
        out[i] = t % 256;
        t = Math.floor(t / 256);
      }
      out[6] = 0x70 | ((counter >> 8) & 0x0f);
      out[7] = counter & 0xff;
      out[8] = 0x80 | ((out[8] ?? 0) & 0x3f);
      const hex = Buffer.from(out).toString('hex');
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    },
  };
}

export const UUID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
