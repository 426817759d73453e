import { describe, expect, it } from 'vitest';
import { inferCoreRules, replayCoreRules, type CoreRules } from './core-rules.js';
import type { Decision, Outcome } from './decision.js';

function decision(outcome: Outcome, extra: Partial<Decision> = {}): Decision {
  return {
    strategyId: 's',
    strategyVersion: 1,
    engineVersion: 't',
    outcome,
    reasons: ['R_SCORE_LOW'],
    actions: [],
    values: {},
    trace: [],
    ...extra,
  };
}

const approve = (limitMinor: number) => decision('APPROVE', { limitMinor, annualRate: 0.18, reasons: [] });
const final: CoreRules['final'] = { outcome: 'APPROVE', reasons: [], limitMinor: 1 };

describe('the core’s rules replayed on a candidate’s decision', () => {
  it('an application: hard rules decline, the borrower cap clips or declines, the bureau gate refers', () => {
    expect(replayCoreRules('application', approve(500), { final, hard: ['R_AGE_ABOVE_MAX'] })).toMatchObject({
      outcome: 'DECLINE',
      reasons: ['R_AGE_ABOVE_MAX'],
      limitMinor: null,
    });
    expect(replayCoreRules('application', approve(500), { final, roomMinor: 300 })).toMatchObject({
      outcome: 'APPROVE',
      limitMinor: 300,
    });
    expect(replayCoreRules('application', approve(500), { final, roomMinor: 0 })).toMatchObject({
      outcome: 'DECLINE',
      reasons: ['R_BORROWER_CAP'],
    });
    expect(
      replayCoreRules('application', approve(500), { final, referral: 'R_CONSENT_MISSING' }),
    ).toMatchObject({
      outcome: 'REVIEW',
      reasons: ['R_CONSENT_MISSING'],
      limitMinor: null,
    });
    expect(
      replayCoreRules('application', decision('DECLINE'), { final, referral: 'R_CONSENT_MISSING' }),
    ).toMatchObject({ outcome: 'DECLINE', reasons: ['R_CONSENT_MISSING', 'R_SCORE_LOW'] });
    expect(replayCoreRules('application', decision('APPROVE'), { final })).toMatchObject({
      outcome: 'REVIEW',
      reasons: ['R_ENGINE_ERROR', 'R_SCORE_LOW'],
    });
  });

  it("an application's decline with no reason that says why gets the core's R_STRATEGY_DECLINE first", () => {
    // No reason at all, or only a favourable one: the core gives R_STRATEGY_DECLINE (core/applications.ts).
    expect(replayCoreRules('application', decision('DECLINE', { reasons: [] }), { final })).toMatchObject({
      outcome: 'DECLINE',
      reasons: ['R_STRATEGY_DECLINE'],
      limitMinor: null,
      replayable: true,
    });
    expect(
      replayCoreRules('application', decision('DECLINE', { reasons: ['R_GOOD_REPAYMENT'] }), { final }),
    ).toMatchObject({ outcome: 'DECLINE', reasons: ['R_STRATEGY_DECLINE', 'R_GOOD_REPAYMENT'] });
    // A decline that says why keeps its reasons as given; an approval or a referral gets nothing.
    expect(replayCoreRules('application', decision('DECLINE'), { final })).toMatchObject({
      reasons: ['R_SCORE_LOW'],
    });
    expect(replayCoreRules('application', decision('REVIEW', { reasons: [] }), { final })).toMatchObject({
      outcome: 'REVIEW',
      reasons: [],
    });
    expect(replayCoreRules('application', approve(500), { final })).toMatchObject({
      outcome: 'APPROVE',
      reasons: [],
    });
    // A referral over a reasonless decline says why already (the bureau gate's code): nothing added.
    expect(
      replayCoreRules('application', decision('DECLINE', { reasons: [] }), {
        final,
        referral: 'R_INQUIRY_VELOCITY',
      }),
    ).toMatchObject({ outcome: 'DECLINE', reasons: ['R_INQUIRY_VELOCITY'] });
  });

  it('a draw: the APR cap replays only at the price the core checked; otherwise it is not replayable', () => {
    const priced = { annualRate: null, upfrontFeeMinor: null, periodicFeeMinor: null };
    const draw = decision('APPROVE', { reasons: [] });
    expect(replayCoreRules('draw', draw, { final, priced: { ...priced, refused: true } })).toMatchObject({
      outcome: 'DECLINE',
      reasons: ['R_APR_CAP'],
      replayable: true,
    });
    expect(replayCoreRules('draw', draw, { final, priced: { ...priced, refused: false } })).toMatchObject({
      outcome: 'APPROVE',
      replayable: true,
    });
    const dearer = decision('APPROVE', { values: { upfrontFeeMinor: 5000 } });
    expect(replayCoreRules('draw', dearer, { final, priced: { ...priced, refused: false } })).toMatchObject({
      outcome: 'APPROVE',
      replayable: false,
    });
    expect(replayCoreRules('draw', draw, { final })).toMatchObject({ replayable: false });
    expect(replayCoreRules('draw', decision('HOLD'), { final })).toMatchObject({
      outcome: 'HOLD',
      replayable: true,
    });
    expect(replayCoreRules('draw', draw, { final, hard: ['R_DAYS_PAST_DUE'] })).toMatchObject({
      outcome: 'DECLINE',
      reasons: ['R_DAYS_PAST_DUE'],
    });
  });

  it('a decision stored before the rules were recorded: hard rules and the referral inferred from the answer', () => {
    const engine = decision('APPROVE', { reasons: ['R_INQUIRY_VELOCITY'] });
    expect(
      inferCoreRules('application', engine, {
        outcome: 'DECLINE',
        reasons: ['R_AGE_ABOVE_MAX', 'R_INQUIRY_VELOCITY'],
        limitMinor: null,
      }),
    ).toMatchObject({ hard: ['R_AGE_ABOVE_MAX'] });
    expect(
      inferCoreRules('application', engine, {
        outcome: 'REVIEW',
        reasons: ['R_INQUIRY_VELOCITY'],
        limitMinor: null,
      }),
    ).toMatchObject({ referral: 'R_INQUIRY_VELOCITY' });
    const own = inferCoreRules('application', decision('REVIEW', { reasons: ['R_INQUIRY_VELOCITY'] }), {
      outcome: 'REVIEW',
      reasons: ['R_INQUIRY_VELOCITY'],
      limitMinor: null,
    });
    expect(own.referral).toBeUndefined();
  });
});
