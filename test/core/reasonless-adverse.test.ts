import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/db.js';
import { getReason } from '../../src/domain/index.js';
import type { RequestedLineAction } from '../../src/domain/decision.js';
import { ADULT, makeCore, openLine, residentId, type Harness } from './harness.js';

/**
 * A strategy (a stored version, an overlay) may still decline or restrict with no reason, or only a favourable one
 * ("thank you for repaying on time"). The core never tells the borrower such a decision "follows a legal requirement
 * and cannot be appealed", nor explains a freeze as a limit adjustment: it gives an honest, appealable reason of its
 * own (R_STRATEGY_DECLINE for an application, R_PERIODIC_REVIEW for a review's action that is no limit change).
 */
const LEGAL = /legal requirement/;
const LEGAL_ZH = /法定/;

describe('an adverse decision without a reason that says why', () => {
  let store: Store;
  let h: Harness;
  let seq = 700;
  const applicant = () => ({ ...ADULT, nationalId: residentId('19850101', ++seq) });
  beforeEach(async () => {
    store = await openStore({ sqlitePath: ':memory:' });
    h = makeCore(store);
  });
  afterEach(async () => store.close());

  for (const given of [[], ['R_GOOD_REPAYMENT']])
    it(`an application declined with reasons ${JSON.stringify(given)} is told an honest reason it can appeal`, async () => {
      h.engine.script.application = () => ({ outcome: 'DECLINE', reasons: [...given] });
      const result = await h.core.submitApplication({ applicant: applicant(), attributes: {} });
      expect(result.outcome).toBe('DECLINE');
      expect(result.reasons).toEqual(['R_STRATEGY_DECLINE', ...given]);
      expect(getReason('R_STRATEGY_DECLINE').appealable).toBe(true);
      for (const lang of ['zh', 'en'] as const) {
        const explanation = result.explanation?.[lang];
        expect(explanation?.reasons[0]?.code).toBe('R_STRATEGY_DECLINE');
        expect(explanation?.reasons[0]?.text).toBe(getReason('R_STRATEGY_DECLINE')[lang]);
        expect(explanation?.appeal.appealable).toBe(true);
        expect(explanation?.appeal.deadline).not.toBeNull();
      }
      expect(result.explanation?.en.appeal.how).not.toMatch(LEGAL);
      expect(result.explanation?.zh.appeal.how).not.toMatch(LEGAL_ZH);
      // What the borrower was told is what the application and its decision record.
      const row = await store.db
        .selectFrom('applications')
        .select(['reasons', 'decision_id'])
        .where('id', '=', result.applicationId)
        .executeTakeFirstOrThrow();
      expect(JSON.parse(row.reasons)).toEqual(result.reasons);
      const decision = await store.db
        .selectFrom('decisions')
        .select(['core_rules'])
        .where('id', '=', row.decision_id)
        .executeTakeFirstOrThrow();
      expect(JSON.parse(decision.core_rules ?? '{}').final.reasons).toEqual(result.reasons);
    });

  it('a decline on a legal ground keeps its reasons and is still told so', async () => {
    h.engine.script.application = () => ({ outcome: 'DECLINE', reasons: ['R_CONSENT_MISSING'] });
    const result = await h.core.submitApplication({ applicant: applicant(), attributes: {} });
    expect(result.reasons).toEqual(['R_CONSENT_MISSING']);
    expect(result.explanation?.en.appeal).toMatchObject({ appealable: false, deadline: null });
    expect(result.explanation?.en.appeal.how).toMatch(LEGAL);
    expect(result.explanation?.zh.appeal.how).toMatch(LEGAL_ZH);
  });

  it('a decline whose only reasons cannot be appealed but rest on no legal requirement is not said to', async () => {
    // R_LINE_CLOSED says why and the catalogue gives it no appeal, but no law forbids one: the decision is open to a
    // person's review like any other automated decision (PIPL Art. 24).
    h.engine.script.application = () => ({ outcome: 'DECLINE', reasons: ['R_LINE_CLOSED'] });
    const result = await h.core.submitApplication({ applicant: applicant(), attributes: {} });
    expect(result.reasons).toEqual(['R_LINE_CLOSED']);
    expect(result.explanation?.en.appeal.how).not.toMatch(LEGAL);
    expect(result.explanation?.zh.appeal.how).not.toMatch(LEGAL_ZH);
    expect(result.explanation?.en.appeal.appealable).toBe(true);
  });

  it("a line's explanation claims no legal requirement its reasons do not give", async () => {
    // A grant is not appealable (nothing was taken away); with a favourable reason on it, the explanation said the
    // decision "follows a legal requirement and cannot be appealed".
    h.engine.script.application = () => ({
      outcome: 'APPROVE',
      limitMinor: 1_000_000,
      annualRate: 0.18,
      reasons: ['R_GOOD_REPAYMENT'],
    });
    const granted = await h.core.submitApplication({ applicant: applicant(), attributes: {} });
    const lineId = granted.line?.id ?? '';
    const en = await h.core.explainLine(lineId, 'en');
    expect(en.status).toBe('ACTIVE');
    expect(en.appeal.appealable).toBe(false);
    expect(en.appeal.how).not.toMatch(LEGAL);
    expect(en.appeal.how).toBe('There is no restriction on your line to appeal.');
    expect((await h.core.explainLine(lineId, 'zh')).appeal.how).not.toMatch(LEGAL_ZH);
    // A person's close on a reason the catalogue gives no appeal (R_LINE_CLOSED): not open to appeal, no law claimed.
    await h.core.applyLineAction(lineId, {
      type: 'CLOSE',
      reasons: ['R_LINE_CLOSED'],
      automated: false,
      actor: 'user:ops',
      appealable: false,
    });
    const closed = await h.core.explainLine(lineId, 'en');
    expect(closed.status).toBe('CLOSED');
    expect(closed.appeal.appealable).toBe(false);
    expect(closed.appeal.how).not.toMatch(LEGAL);
    expect(closed.appeal.how).toMatch(/cannot be appealed/);
    // One that rests on a legal requirement is still explained so.
    const capped = await openLine(h, 1_000_000, applicant());
    await h.core.applyLineAction(capped, {
      type: 'LIMIT_DECREASE',
      limitMinor: 500_000,
      reasons: ['R_BORROWER_CAP'],
      automated: false,
      actor: 'user:ops',
      appealable: false,
    });
    expect((await h.core.explainLine(capped, 'en')).appeal.how).toMatch(LEGAL);
  });

  describe('the periodic review', () => {
    const reviewAsks = (action: RequestedLineAction, decisionReasons: string[] = []) => {
      h.engine.script['line-review'] = () => ({
        outcome: 'DECLINE',
        reasons: decisionReasons,
        actions: [action],
      });
    };
    const review = async (lineId: string) => {
      const job = await h.core.runReviewJob(h.core.lenderToday());
      expect(job.errors).toEqual([]);
      return job.actions.filter((a) => a.lineId === lineId);
    };

    it('a freeze asked for with no reason is not explained as a limit adjustment', async () => {
      const lineId = await openLine(h, 5_000_000, applicant());
      reviewAsks({ type: 'FREEZE_DRAW', reasons: [] });
      expect(await review(lineId)).toMatchObject([
        { type: 'FREEZE_DRAW', outcome: 'APPLIED', reasons: ['R_PERIODIC_REVIEW'] },
      ]);
      const en = await h.core.explainLine(lineId, 'en');
      expect(en.status).toBe('DRAW_FROZEN');
      expect(en.specifics.limit?.beforeMinor).toBe(en.specifics.limit?.afterMinor);
      expect(en.reasons.map((r) => r.code)).toEqual(['R_PERIODIC_REVIEW']);
      expect(en.reasons.map((r) => r.text).join(' ')).not.toMatch(/limit was adjusted/);
      expect(en.appeal.appealable).toBe(true);
      const zh = await h.core.explainLine(lineId, 'zh');
      expect(zh.reasons.map((r) => r.text).join('')).not.toContain('额度已调整');
    });

    it('a freeze whose only reason is favourable gets one that says why first, and can be appealed', async () => {
      const lineId = await openLine(h, 5_000_000, applicant());
      reviewAsks({ type: 'FREEZE_DRAW', reasons: ['R_GOOD_REPAYMENT'] });
      expect(await review(lineId)).toMatchObject([
        { type: 'FREEZE_DRAW', reasons: ['R_PERIODIC_REVIEW', 'R_GOOD_REPAYMENT'] },
      ]);
      const en = await h.core.explainLine(lineId, 'en');
      expect(en.appeal.appealable).toBe(true);
      expect(en.appeal.how).not.toMatch(LEGAL);
    });

    it("a limit cut with no reason keeps R_LIMIT_REVIEW; the decision's reasons still come before any fallback", async () => {
      const cut = await openLine(h, 5_000_000, applicant());
      reviewAsks({ type: 'LIMIT_DECREASE', limitMinor: 2_000_000, reasons: [] });
      expect(await review(cut)).toMatchObject([
        { type: 'LIMIT_DECREASE', newLimitMinor: 2_000_000, reasons: ['R_LIMIT_REVIEW'] },
      ]);
      const frozen = await openLine(h, 5_000_000, applicant());
      h.engine.script['line-review'] = (ctx) =>
        ctx.limitMinor === 5_000_000
          ? {
              outcome: 'DECLINE',
              reasons: ['R_UTILISATION_HIGH'],
              actions: [{ type: 'FREEZE_DRAW', reasons: [] }],
            }
          : { outcome: 'APPROVE' };
      expect(await review(frozen)).toMatchObject([{ type: 'FREEZE_DRAW', reasons: ['R_UTILISATION_HIGH'] }]);
    });
  });
});
