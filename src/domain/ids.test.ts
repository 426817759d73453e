import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.js';
import { seededRandom } from './random.js';
import { UUID_PATTERN, uuidv7Generator } from './ids.js';

describe('uuidv7Generator', () => {
  it('makes RFC 9562 version-7 ids that sort by time and stay ordered within one millisecond', () => {
    const clock = new ManualClock(1_750_000_000_000);
    const ids = uuidv7Generator(clock, seededRandom(1));
    const made: string[] = [];
    for (let i = 0; i < 500; i++) {
      if (i % 100 === 0) clock.advance(1);
      made.push(ids.next());
    }
    for (const id of made) {
      expect(id).toMatch(new RegExp(UUID_PATTERN));
      expect(id[14]).toBe('7');
      expect(['8', '9', 'a', 'b']).toContain(id[19]);
    }
    expect([...made].sort()).toEqual(made);
    expect(new Set(made).size).toBe(made.length);
    expect(parseInt(made[0]!.replace(/-/g, '').slice(0, 12), 16)).toBe(1_750_000_000_001);
  });

  it('is deterministic for an injected clock and random source', () => {
    const a = uuidv7Generator(new ManualClock(5), seededRandom(9));
    const b = uuidv7Generator(new ManualClock(5), seededRandom(9));
    expect([a.next(), a.next()]).toEqual([b.next(), b.next()]);
  });
});
