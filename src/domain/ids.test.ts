import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.js';
import { cryptoRandom, seededRandom } from './random.js';
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

  it('gives the same ids it always has for a seeded source (stored fixtures and replays rely on them)', () => {
    const clock = new ManualClock(1_750_000_000_000);
    const ids = uuidv7Generator(clock, seededRandom(1));
    const made = [ids.next(), ids.next()];
    clock.advance(1);
    made.push(ids.next());
    expect(made).toEqual([
      '01977420-dc00-71a0-a574-cb378aaef5b1',
      '01977420-dc00-71a1-b229-a5e4db3e5714',
      '01977420-dc01-77e0-b11a-4327b7e94554',
    ]);
  });

  it('takes exactly 16 bytes per id, so a source shared with other consumers gives them the same bytes', () => {
    const shared = seededRandom(3);
    const ids = uuidv7Generator(new ManualClock(5), shared);
    for (let i = 0; i < 7; i++) ids.next();
    const alone = seededRandom(3);
    alone.bytes(7 * 16);
    expect([...shared.bytes(24)]).toEqual([...alone.bytes(24)]);
  });

  it('is deterministic for an injected clock and random source', () => {
    const a = uuidv7Generator(new ManualClock(5), seededRandom(9));
    const b = uuidv7Generator(new ManualClock(5), seededRandom(9));
    expect([a.next(), a.next()]).toEqual([b.next(), b.next()]);
  });
});

describe('cryptoRandom', () => {
  it('hands out fresh bytes of the asked length, each request its own copy', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 600; i++) {
      const count = [16, 24, 1, 300][i % 4] ?? 16;
      const bytes = cryptoRandom.bytes(count);
      expect(bytes).toBeInstanceOf(Uint8Array);
      expect(bytes.length).toBe(count);
      if (count >= 16) seen.add(Buffer.from(bytes).toString('hex'));
    }
    expect(seen.size).toBe(450);
    const a = cryptoRandom.bytes(16);
    const b = cryptoRandom.bytes(16);
    a.fill(0);
    expect(b.some((x) => x !== 0)).toBe(true);
    expect(a.buffer).not.toBe(b.buffer);
  });
});
