import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/db.js';
import { ADULT, makeCore, openLine, T0, type Harness } from './harness.js';

/** Issue 12, "explanations lack specifics": what a borrower needs to act, in their own figures, in zh and en. */

const DAY = 86_400_000;

describe('borrower explanations with specifics', () => {
  let store: Store;
  let h: Harness;
  beforeEach(async () => {
    store = await openStore({ sqlitePath: ':memory:' });
    h = makeCore(store);
  });
  afterEach(async () => store.close());

  it('a suspension for arrears names the overdue amount and days, the limit before and after, who acted when, and what to do by when', async () => {
    const lineId = await openLine(h, 5_000_000);
    const draw = await h.core.requestDraw(lineId, {
      amountMinor: 300_000,
      currency: 'CNY',
      termMonths: 3,
      method: 'EQUAL_INSTALLMENT',
    });
    // First instalment due 2025-04-01; on 2025-05-16 two instalments are unpaid, the oldest 45 days late.
    h.clock.set(Date.UTC(2025, 4, 16, 8));
    await h.core.runDailyJob('2025-05-16');
    const loan = await h.core.getLoan(draw.loan?.id ?? '');
    const overdue = loan.schedule
      .filter((i) => i.dueDate < '2025-05-16')
      .reduce((sum, i) => sum + i.outstandingMinor, 0);
    expect(overdue).toBeGreaterThan(0);
    await h.core.applyLineAction(lineId, {
      type: 'LIMIT_DECREASE',
      limitMinor: 1_000_000,
      reasons: ['R_DAYS_PAST_DUE'],
      automated: true,
      actor: 'strategy:line-review',
      traceId: 'decision-77',
    });
    const zh = await h.core.explainLine(lineId, 'zh');
    expect(zh.specifics).toMatchObject({
      overdue: { amountMinor: overdue, days: 45, oldestDueDate: '2025-04-01' },
      limit: { beforeMinor: 5_000_000, afterMinor: 1_000_000 },
      action: {
        type: 'LIMIT_DECREASE',
        at: new Date(Date.UTC(2025, 4, 16, 8)).toISOString(),
        by: 'automated',
        actor: 'strategy:line-review',
        decisionId: 'decision-77',
      },
      // M2 runs to 60 days: repaying by 2025-05-31 keeps the arrears from reaching the next bucket.
      repayBy: '2025-05-31',
    });
    const amount = `${Math.floor(overdue / 100)}.${String(overdue % 100).padStart(2, '0')}`;
    const zhText = [zh.summary, ...zh.whatToDo].join(' ');
    expect(zhText).toContain(amount);
    expect(zhText).toContain('45 天');
    expect(zhText).toContain('2025-05-31');
    expect(zhText).toContain('50000.00');
    expect(zhText).toContain('10000.00');
    const en = await h.core.explainLine(lineId, 'en');
    const enText = [en.summary, ...en.whatToDo].join(' ');
    expect(enText).toContain(amount);
    expect(enText).toContain('45 days');
    expect(enText).toContain('2025-05-31');
    expect(en.appeal.path).toBe('/v1/me/appeals');
  });

  it('a close the borrower asked for is explained as their request, not as a legal requirement', async () => {
    const lineId = await openLine(h);
    await h.core.applyLineAction(lineId, {
      type: 'CLOSE',
      reasons: ['R_BORROWER_REQUEST'],
      automated: false,
      actor: 'key-app',
    });
    const zh = await h.core.explainLine(lineId, 'zh');
    expect(zh.specifics.action?.by).toBe('borrower');
    expect(zh.statusText).toContain('您的申请');
    expect(zh.appeal.how).not.toContain('法定');
    const en = await h.core.explainLine(lineId, 'en');
    expect(en.statusText).toContain('at your request');
    expect(en.appeal.how).not.toMatch(/legal requirement/);
    expect(en.appeal.appealable).toBe(false);
  });

  it('a declined application says how to appeal, in Chinese and English, with the channel and the deadline', async () => {
    h.engine.script.application = () => ({ outcome: 'DECLINE', reasons: ['R_SCORE_LOW'] });
    const result = await h.core.submitApplication({
      applicant: ADULT,
      attributes: { monthlyIncomeMinor: 1 },
    });
    expect(result.outcome).toBe('DECLINE');
    const deadline = new Date(T0 + 30 * DAY).toISOString();
    for (const lang of ['zh', 'en'] as const) {
      const explanation = result.explanation?.[lang];
      expect(explanation?.reasons[0]?.code).toBe('R_SCORE_LOW');
      expect(explanation?.appeal).toMatchObject({ appealable: true, path: '/v1/me/appeals', deadline });
      expect(explanation?.appeal.how.length).toBeGreaterThan(10);
    }
    expect(result.explanation?.zh.appeal.how).toContain('申诉');
    expect(result.explanation?.en.appeal.how).toMatch(/appeal/i);
  });
});
