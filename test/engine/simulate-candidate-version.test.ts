import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { openStore, type Store } from '../../src/store/db.js';
import { openEngine } from '../../src/app/engine.js';
import type { EngineService, StrategyDocument } from '../../src/engine/index.js';
import { TEST_FIELD_CRYPTO } from '../helpers/stores.js';
import { gateStrategy } from './fixtures.js';

/**
 * A simulation report's `candidateVersion` names a stored version only when the candidate is that version, byte for
 * byte (canonical JSON); a document the console's editor started from version 1 and then edited still carries
 * `version: 1` (types.ts: "assigned by the store when saved; ignored on input") but is no version: null.
 */
describe('the simulation report names the candidate’s stored version only when it is that version', () => {
  let store: Store;
  let engine: EngineService;
  const clock = new ManualClock(Date.UTC(2025, 5, 1));
  const range = { from: Date.UTC(2025, 0, 1), to: Date.UTC(2025, 11, 31) };

  beforeAll(async () => {
    store = await openStore({ sqlitePath: ':memory:' });
    engine = await openEngine({ store, crypto: TEST_FIELD_CRYPTO, clock, models: () => undefined });
    await engine.saveVersion(gateStrategy(500), 'test');
    await engine.saveVersion(gateStrategy(600), 'test');
  });
  afterAll(async () => store?.close());

  it('an edited copy of version 1 that still says version 1 is reported as no version', async () => {
    const stored = (await engine.getVersion('gate', 1)).document as StrategyDocument;
    expect(stored.version).toBe(1);
    const edited = {
      ...stored,
      nodes: [
        {
          ...stored.nodes[0],
          rules: [{ id: 'LOW', when: 'score < 900', outcome: 'DECLINE', reasons: ['R_SCORE_LOW'] }],
        },
      ],
    };
    expect((await engine.simulate(edited, range)).candidateVersion).toBeNull();
    // Version 2's content labelled version 1: not version 1 either.
    expect((await engine.simulate({ ...gateStrategy(600), version: 1 }, range)).candidateVersion).toBeNull();
  });

  it('a document without a version is reported as no version', async () => {
    expect((await engine.simulate(gateStrategy(500), range)).candidateVersion).toBeNull();
  });

  it('a version that does not exist is reported as no version', async () => {
    expect((await engine.simulate({ ...gateStrategy(500), version: 9 }, range)).candidateVersion).toBeNull();
  });

  it('the stored version itself, or a byte-identical copy in another key order, is reported as that version', async () => {
    const stored = (await engine.getVersion('gate', 2)).document as StrategyDocument;
    expect((await engine.simulate(stored, range)).candidateVersion).toBe(2);
    const reordered = Object.fromEntries(Object.entries(stored).reverse());
    expect((await engine.simulate(reordered, range)).candidateVersion).toBe(2);
  });
});
