import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/db.js';
import type { Decision, DecisionContext } from '../../src/domain/decision.js';
import { openDecisionResult } from '../../src/compliance/sealed-decisions.js';
import { ADULT, makeCore, residentId, ScriptedEngine, type Harness } from './harness.js';

/**
 * strategies/README.md: `split` is "champion/challenger by FNV-1a of subject key + strategy id", and the decision
 * records "the key the split node hashed (usually the borrower id), so a replay takes the same arm". So the key an
 * application is decided on is the one its decision records, and it is the same for every application of one person:
 * two concurrent first applications (a double tap) are stored as one borrower, and decided on that borrower's id.
 */
class KeyedEngine extends ScriptedEngine {
  override decide(strategyId: string, context: DecisionContext, options?: { subjectKey?: string }): Decision {
    const decision = super.decide(strategyId, context);
    return { ...decision, values: { ...decision.values, splitKey: options?.subjectKey ?? null } };
  }
}

describe('the subject key an application is split on', () => {
  let store: Store;
  let h: Harness;
  let seq = 900;
  beforeEach(async () => {
    store = await openStore({ sqlitePath: ':memory:' });
    const base = makeCore(store);
    h = makeCore(store, { engine: new KeyedEngine(base.deps.crypto) });
  });
  afterEach(async () => store.close());

  /** Every borrower lookup waits until `n` of them are in flight: the applications all plan before any commits. */
  function planTogether(n: number): void {
    const lookUp = h.deps.coreStore.borrowerByHashes.bind(h.deps.coreStore);
    let waiting: (() => void)[] = [];
    Object.assign(h.deps.coreStore, {
      borrowerByHashes: async (hashes: readonly string[]) => {
        const found = await lookUp(hashes);
        await new Promise<void>((resolve) => {
          waiting.push(resolve);
          if (waiting.length < n) return;
          for (const go of waiting) go();
          waiting = [];
        });
        return found;
      },
    });
  }

  const recorded = (decisionId: string) =>
    store.db
      .selectFrom('decisions')
      .select(['subject_key', 'borrower_id', 'result'])
      .where('id', '=', decisionId)
      .executeTakeFirstOrThrow();

  it('two concurrent first applications of one person are decided on the one borrower id their decisions record', async () => {
    planTogether(2);
    for (let i = 0; i < 4; i++) {
      const applicant = { ...ADULT, nationalId: residentId('19850101', ++seq) };
      const answers = await Promise.all(
        [0, 1].map(() => h.core.submitApplication({ applicant, attributes: {} })),
      );
      const [first, second] = answers;
      expect(first?.borrowerId).toBe(second?.borrowerId);
      for (const answer of answers) {
        const row = await recorded(answer.decisionId);
        expect(row.subject_key).toBe(answer.borrowerId);
        expect(row.borrower_id).toBe(answer.borrowerId);
        // The key the engine split on (the double puts it in the decision's values) is the key recorded.
        expect(await splitKeyOf(answer.decisionId)).toBe(answer.borrowerId);
      }
    }
  });

  it('a returning applicant is split on their borrower id, as before', async () => {
    const applicant = { ...ADULT, nationalId: residentId('19850101', ++seq) };
    const first = await h.core.submitApplication({ applicant, attributes: {} });
    const again = await h.core.submitApplication({ applicant, attributes: {} });
    expect(again.borrowerId).toBe(first.borrowerId);
    for (const answer of [first, again]) {
      expect((await recorded(answer.decisionId)).subject_key).toBe(first.borrowerId);
      expect(await splitKeyOf(answer.decisionId)).toBe(first.borrowerId);
    }
  });

  /** What the engine was given as subject key, from the decision's own result (values.splitKey, see KeyedEngine). */
  async function splitKeyOf(decisionId: string): Promise<unknown> {
    const row = await recorded(decisionId);
    const opened = openDecisionResult(h.deps.crypto, decisionId, row.result).result;
    return (JSON.parse(opened) as { values: Record<string, unknown> }).values.splitKey;
  }
});
