import { decisionContextOf } from '../helpers/stores.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/app/config.js';
import { openStore, type Store } from '../../src/store/db.js';
import { createCoreServices, type CoreServices } from '../../src/core/index.js';
import { makeCore, residentId, type Harness } from './harness.js';

/** Issue 12, "derived facts can be contradicted by the caller": the core's derivations are the only source. */

/** 76 on the harness's date (2025-03-01). */
const SENIOR = { name: '李老', nationalId: residentId('19490101', 18), phone: '13500000076' };
const APPLY = { monthlyIncomeMinor: 1_000_000 };

describe('facts the core derives', () => {
  let store: Store;
  let h: Harness;
  const coreWith = (maxBorrowerAge?: number): CoreServices =>
    createCoreServices({ ...h.deps, config: { ...h.deps.config, maxBorrowerAge } });
  beforeEach(async () => {
    store = await openStore({ sqlitePath: ':memory:' });
    h = makeCore(store);
    h.engine.script.application = () => ({ outcome: 'APPROVE', limitMinor: 5_000_000, annualRate: 0.18 });
  });
  afterEach(async () => store.close());

  it('scores the age derived from the resident ID, not the caller-sent `Age: 35`, and says it replaced it', async () => {
    const result = await coreWith(80).submitApplication({
      applicant: SENIOR,
      attributes: { ...APPLY, Age: 35 },
    });
    expect(result.outcome).toBe('APPROVE');
    expect(h.engine.calls.at(-1)?.context).toMatchObject({ age: 76, Age: 76 });
    expect(result.adjustments.join(' ')).toMatch(
      /Age replaced by the age derived from the resident ID \(76\)/,
    );
    const recorded = await store.db
      .selectFrom('decisions')
      .select(['id', 'context', 'trace'])
      .where('id', '=', result.decisionId)
      .executeTakeFirstOrThrow();
    expect(decisionContextOf(h.deps.crypto, recorded)).toMatchObject({ Age: 76 });
  });

  it('declines an applicant over the configured maximum age (default 65) with a reason, whatever the strategy says', async () => {
    const result = await coreWith(undefined).submitApplication({ applicant: SENIOR, attributes: APPLY });
    expect(result.outcome).toBe('DECLINE');
    expect(result.line).toBeNull();
    expect(result.reasons[0]).toBe('R_AGE_ABOVE_MAX');
    expect(result.borrowerReasons[0]?.text).toContain('年龄');
    expect((await coreWith(75).submitApplication({ applicant: SENIOR, attributes: APPLY })).outcome).toBe(
      'DECLINE',
    );
    expect((await coreWith(76).submitApplication({ applicant: SENIOR, attributes: APPLY })).outcome).toBe(
      'APPROVE',
    );
  });

  it('refuses the core-only names (age, existingLimitMinor, blacklisted) with 400 and derives exposure itself', async () => {
    const core = coreWith(80);
    for (const forged of [
      { age: 35 },
      { existingLimitMinor: 0 },
      { blacklisted: false },
      { greylisted: false },
    ]) {
      await expect(
        core.submitApplication({ applicant: SENIOR, attributes: { ...APPLY, ...forged } }),
      ).rejects.toMatchObject({ code: 'LG_INVALID_ATTRIBUTE' });
    }
    await core.submitApplication({ applicant: SENIOR, attributes: APPLY });
    await core.submitApplication({ applicant: SENIOR, attributes: APPLY });
    expect(h.engine.calls.at(-1)?.context).toMatchObject({ existingLimitMinor: 5_000_000 });
  });

  it('reads the maximum age from LINEGUARD_MAX_BORROWER_AGE (default 65) and refuses a bad value', () => {
    const base = { LINEGUARD_KEY: 'ab'.repeat(32), LINEGUARD_DATA_DIR: '/tmp/lg-derived-facts' };
    expect(loadConfig(base, {}, () => undefined).maxBorrowerAge).toBe(65);
    expect(
      loadConfig({ ...base, LINEGUARD_MAX_BORROWER_AGE: '70' }, {}, () => undefined).maxBorrowerAge,
    ).toBe(70);
    expect(() => loadConfig({ ...base, LINEGUARD_MAX_BORROWER_AGE: 'old' }, {}, () => undefined)).toThrow(
      /LINEGUARD_MAX_BORROWER_AGE/,
    );
  });
});
